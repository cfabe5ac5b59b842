"""The image's on-chip learning tables (``docs/image-format.md``, ``docs/learning.md``).

Optional per-core tables, written only for cores with plastic synapses; an image without them
reads as before (same bytes, same CRC).  Trace order everywhere: x1, x2, y1, y2, y3.  Kept out
of :mod:`spikefab.arch.image` so the format's core tables stay in one place; the image module
re-exports every name.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LEARN_PROFILE_DTYPE", "LEARN_PRODUCT_DTYPE", "LEARN_VARS", "LEARN_STATIC",
           "LEARN_REWARD", "LEARN_SYNAPSE_DTYPE", "LEARN_X_DTYPE", "LEARN_Y_DTYPE",
           "LEARN_RNG_DTYPE", "LEARN_TABLES"]

#: Learning profile: trace parameters, epoch, sign mode and the lava-mode seed of one rule.
LEARN_PROFILE_DTYPE = np.dtype([
    ("t_epoch", "u1"),          # 1..63
    ("decimate", "i1"),         # K of the uK dependency, -1 if none
    ("sign_mode", "u1"),        # weights: 1 mixed, 2 excitatory, 3 inhibitory
    ("impulse_int", "u1", (5,)),
    ("impulse_frac", "<u2", (5,)),   # 1/256 units (0..256)
    ("tau", "u1", (5,)),             # 0 = cleared every step
    ("decay", "<f8", (5,)),          # exp(-1/tau) as IEEE binary64 (0.0 when tau = 0)
    ("rng_seed", "<u4"),             # seed of the "lava" generator (compatibility mode)
    ("flags", "u1"),                 # bit 0: y2 is a reward trace (reward synapses feed it)
])
#: One product of a rule (at most 4 factors; unused factor slots have var 255).
LEARN_PRODUCT_DTYPE = np.dtype([
    ("profile", "u1"),
    ("target", "u1"),           # 0 dw, 1 dd, 2 dt
    ("dependency", "u1"),       # 0 x0, 1 y0, 2 u
    ("s_mantissa", "i1"),       # -8..7
    ("s_exp", "u1"),            # 0..15 (exponent + 7)
    ("var", "u1", (4,)),        # index into LEARN_VARS, 255 unused
    ("const", "<i2", (4,)),
    ("sgn", "u1", (4,)),
])
LEARN_VARS = ("x0", "y0", "x1", "x2", "y1", "y2", "y3", "w", "d", "t")
LEARN_STATIC = 255              #: learn_synapses.profile of a static synapse
LEARN_REWARD = 128              #: learn_synapses.profile 128 + p: a reward synapse of profile p
#: Per synapse entry (same order as ``synapses``): its learning profile, delay tag, tag.
LEARN_SYNAPSE_DTYPE = np.dtype([("profile", "u1"), ("tag_d", "u1"), ("tag_t", "<i2")])
#: Pre traces per (learning profile, input axon): index ``profile * n_axons + axon``.
LEARN_X_DTYPE = np.dtype([("x1", "u1"), ("x2", "u1"), ("tx", "u1")])
#: Post traces per (learning profile, neuron): index ``profile * n_neurons + neuron``.
LEARN_Y_DTYPE = np.dtype([("y1", "u1"), ("y2", "u1"), ("y3", "u1"), ("ty", "u1")])
#: Hardware generator state per learning profile: xorshift64 words of the five streams.
LEARN_RNG_DTYPE = np.dtype([("state", "<u8", (5,))])
LEARN_TABLES: dict[str, np.dtype] = {
    "learn_profiles": LEARN_PROFILE_DTYPE, "learn_products": LEARN_PRODUCT_DTYPE,
    "learn_synapses": LEARN_SYNAPSE_DTYPE, "learn_x": LEARN_X_DTYPE, "learn_y": LEARN_Y_DTYPE,
    "learn_rng": LEARN_RNG_DTYPE,
}
