"""Cycles of the learning phase as the spikefab RTL learning engine spends them.

A target whose ``[learning]`` section says ``cycle_model = "rtl_engine"`` is charged what the
RTL (``spikefab.rtl.learning.core_learning``) takes per core and step, instead of the
``update_cycles`` / ``trace_cycles`` model: the recorded spikes replayed into the engine (one
record per distinct axon hit and per spike, ``1 + 2 * profiles`` cycles each), then ``step_end``
and the epoch phase of every profile whose epoch ends
(:func:`spikefab.arch.learning.layout.epoch_cycles`, :func:`~spikefab.arch.learning.layout.phase_cycles`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# columns of LearnGroups.gp used here (the layout of spikefab.emulator.learning.kernels)
# (kernels imports this module; tests/rtl/test_learning_mesh.py checks they agree)
_G_CORE, _G_TEPOCH, _G_NAX, _G_AB, _G_NN, _G_NB, _G_SO, _G_SE, _G_PO, _G_PE = \
    0, 1, 5, 6, 8, 9, 10, 11, 12, 13


@njit(cache=True)
def rtl_phase_cycles(T, gp, hit, spikes, n_cores):
    """Per core: cycles of the RTL learning phase after 1-based step ``T`` (0: no profiles)."""
    n_prof = np.zeros(n_cores, np.int64)
    records = np.zeros(n_cores, np.int64)
    epochs = np.zeros(n_cores, np.int64)
    ending = np.zeros(n_cores, np.int64)
    for g in range(gp.shape[0]):
        c = gp[g, _G_CORE]
        if n_prof[c] == 0:
            for a in range(gp[g, _G_AB], gp[g, _G_AB] + gp[g, _G_NAX]):
                records[c] += hit[a]
            for j in range(gp[g, _G_NB], gp[g, _G_NB] + gp[g, _G_NN]):
                records[c] += spikes[j]
        n_prof[c] += 1
        te = gp[g, _G_TEPOCH]
        if T % te == 0:
            ending[c] = 1
            epochs[c] += (1 + (gp[g, _G_SE] - gp[g, _G_SO])
                          * (4 + 5 * te + 6 * (gp[g, _G_PE] - gp[g, _G_PO]))
                          + gp[g, _G_NAX] * (3 + 2 * te) + gp[g, _G_NN] * (3 + 3 * te))
        else:
            epochs[c] += 1
    out = np.zeros(n_cores, np.int64)
    for c in range(n_cores):
        if n_prof[c] > 0:
            out[c] = 2 + records[c] * (1 + 2 * n_prof[c]) + 1 + ending[c] * epochs[c]
    return out
