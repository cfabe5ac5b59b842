"""The per-step kernels compile without Numba's reference counting (``_nrt=False``).

``_nrt`` is a private option of Numba's CPU target (no public per-function switch exists; the
global ``NUMBA_...`` settings would turn it off for every kernel, including those that allocate).
Without it each array slice in a per-step kernel costs an atomic increment and decrement, which
the functional engine's fused update and delivery take per segment and per row.  If a Numba
upgrade drops or renames the option, this test fails and says so, rather than the kernels
silently compiling with reference counting (or failing with an unknown-option error elsewhere).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.core import cpu

from spikefab.emulator import kernels


def _slice_sum(a):
    b = a[1:]
    return b[0] + b.shape[0]


def test_numba_still_has_the_private_nrt_option():
    assert hasattr(cpu.CPUTargetOptions, "_nrt"), \
        "numba's CPU target lost the private _nrt option used by emulator/kernels.py"
    plain = njit(_slice_sum)
    bare = njit(_nrt=False)(_slice_sum)
    x = np.arange(5)
    assert plain(x) == bare(x) == 5
    assert "NRT_decref" in plain.inspect_llvm(plain.signatures[0])     # slices are counted ...
    assert "NRT_decref" not in bare.inspect_llvm(bare.signatures[0])   # ... unless _nrt=False


def test_the_per_step_kernels_use_it():
    for fn in (kernels.update_lif, kernels.deliver_part, kernels.send_part, kernels.step_loop):
        assert fn.targetoptions.get("_nrt") is False, fn.__name__
