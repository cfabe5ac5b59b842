"""The Python builder: hardware people write fixed-point networks by hand.

>>> import numpy as np, spikefab as sf
>>> net = sf.Network()
>>> x = net.input("x", 2)
>>> p = net.population("p", 2, sf.LoihiLIF(du=1024, dv=512, vth=100))
>>> net.connect(x, p, weights=np.array([[100, -50], [60, 60]]))
'x->p'
>>> net.output("y", p)

``connect`` follows Lava's Dense: ``weights`` is ``(out, in)``; the weights are clipped and
truncated exactly as Lava's bit-accurate Dense does (``num_weight_bits``, sign mode from the
matrix) and the sum is shifted by ``weight_exp``.  Nothing is re-quantized later.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.learning.profile import SIGN_MODES, LearningRule
from spikefab.arch.neuron import effective_weights
from spikefab.compiler.hwnet import HwNetwork, LoihiLIF, Population, Projection
from spikefab.errors import ModelError

__all__ = ["Network"]


class Network(HwNetwork):
    """A :class:`~spikefab.compiler.hwnet.HwNetwork` with builder methods."""

    def input(self, name: str, size: int) -> str:
        """Declare ``size`` host input channels; returns the name to connect from."""
        self._check_new(name, size)
        self.inputs[name] = int(size)
        return name

    def population(self, name: str, size: int, neuron: LoihiLIF | None = None) -> str:
        """Declare ``size`` neurons sharing ``neuron`` parameters (bias may be per neuron)."""
        self._check_new(name, size)
        neuron = neuron or LoihiLIF()
        for attr in ("bias_mant", "bias_exp"):
            arr = np.asarray(getattr(neuron, attr))
            if arr.ndim and arr.shape != (size,):
                raise ModelError(f"population {name!r}: {attr} must be a scalar or have shape "
                                 f"({size},), not {arr.shape}")
        self.populations[name] = Population(name, int(size), neuron)
        return name

    def connect(self, source: str, target: str, weights, *, weight_exp: int = 0,
                num_weight_bits: int = 8, delay=0, name: str | None = None,
                learning: LearningRule | None = None) -> str:
        """Dense projection ``source -> target`` with Lava semantics; returns its name.

        ``learning`` makes it plastic (Lava ``LearningDense``): every (out, in) pair is a synapse,
        zero weights included, clipped and truncated in the rule's sign mode, and the rule runs
        on the chip's learning engine (see ``docs/learning.md``).
        """
        n_pre, n_post = self.size_of(source), self.size_of(target)
        if target not in self.populations:
            raise ModelError(f"connect: target must be a population, not input {target!r}")
        w = np.asarray(weights)
        if w.shape != (n_post, n_pre):
            raise ModelError(f"connect {source!r} -> {target!r}: weights must have shape "
                             f"({n_post}, {n_pre}) (out, in), not {w.shape}")
        if w.dtype.kind not in "iu":
            if w.dtype.kind not in "fb" or not np.all(np.isfinite(w)) \
                    or not np.array_equal(w, np.round(w)):
                raise ModelError(f"connect {source!r} -> {target!r}: weights must be integers "
                                 f"(the builder takes fixed-point values)")
        if not 1 <= num_weight_bits <= 8:
            raise ModelError(f"connect: num_weight_bits must be in [1, 8], not {num_weight_bits}")
        proj_name = name or self._unique(f"{source}->{target}")
        sign = None
        if learning is not None:
            if not isinstance(learning, LearningRule):
                raise ModelError(f"connect {source!r} -> {target!r}: learning must be a "
                                 f"LearningRule (e.g. STDP(...)), not {type(learning).__name__}")
            sign = SIGN_MODES[learning.sign_mode] if learning.sign_mode in SIGN_MODES else None
            learning.profile(where=f"projection {proj_name!r}")      # refuse bad rules now
        eff = effective_weights(w.astype(np.int64), num_weight_bits, sign)
        d = np.broadcast_to(_int_delays(delay, f"connect {source!r} -> {target!r}"), w.shape)
        post, pre = np.nonzero(eff) if learning is None else np.nonzero(np.ones(w.shape, bool))
        self.projections.append(Projection(proj_name, source, target, pre=pre, post=post,
                                           weight=eff[post, pre], delay=d[post, pre],
                                           weight_exp=int(weight_exp), learning=learning))
        return proj_name

    def connect_sparse(self, source: str, target: str, pre, post, weights, *,
                       weight_exp: int = 0, num_weight_bits: int = 8, delay=0,
                       name: str | None = None) -> str:
        """Sparse projection: synapse ``k`` joins ``pre[k]`` of ``source`` to ``post[k]`` of ``target``.

        For networks whose dense ``(out, in)`` matrix could not be held in memory (a million
        neurons).  Weights are clipped and truncated as :meth:`connect` does, with the sign mode
        taken from all of ``weights`` together (one Lava Dense); synapses whose effective weight
        is 0 are dropped.  Each entry is one synapse: a repeated ``(pre, post)`` pair is two
        synapses whose weights add up.  ``delay`` is a scalar or one value per synapse.
        """
        n_pre, n_post = self.size_of(source), self.size_of(target)
        if target not in self.populations:
            raise ModelError(f"connect_sparse: target must be a population, not input {target!r}")
        where = f"connect_sparse {source!r} -> {target!r}"
        arrays = {}
        for label, value in (("pre", pre), ("post", post), ("weights", weights)):
            arr = np.asarray(value)
            if arr.ndim != 1:
                raise ModelError(f"{where}: {label} must be 1-D (one entry per synapse), not "
                                 f"shape {arr.shape}")
            if arr.dtype.kind not in "iu":
                if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) \
                        or not np.array_equal(arr, np.round(arr)):
                    raise ModelError(f"{where}: {label} must be integers, not {arr.dtype}")
            arrays[label] = arr.astype(np.int64)
        p, q, w = arrays["pre"], arrays["post"], arrays["weights"]
        if not len(p) == len(q) == len(w):
            raise ModelError(f"{where}: pre, post and weights must have one entry per synapse, "
                             f"not {len(p)}, {len(q)}, {len(w)}")
        for label, idx, size, of in (("pre", p, n_pre, source), ("post", q, n_post, target)):
            if idx.size and (idx.min() < 0 or idx.max() >= size):
                bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
                raise ModelError(f"{where}: {label} indices must be in [0, {size}) ({of!r} has "
                                 f"{size} neurons), not {bad}")
        if not 1 <= num_weight_bits <= 8:
            raise ModelError(f"connect_sparse: num_weight_bits must be in [1, 8], not "
                             f"{num_weight_bits}")
        d = np.asarray(delay)
        if d.ndim not in (0, 1) or (d.ndim == 1 and len(d) != len(p)):
            raise ModelError(f"{where}: delay must be a scalar or have {len(p)} entries, not "
                             f"shape {d.shape}")
        d = np.broadcast_to(_int_delays(d, where), p.shape)
        eff = effective_weights(w, num_weight_bits)
        keep = eff != 0
        proj_name = name or self._unique(f"{source}->{target}")
        self.projections.append(Projection(proj_name, source, target, pre=p[keep], post=q[keep],
                                           weight=eff[keep], delay=d[keep],
                                           weight_exp=int(weight_exp)))
        return proj_name

    def reward(self, source: str, projection: str, *, name: str | None = None) -> str:
        """Deliver reward spikes from ``source`` to the post neurons of plastic ``projection``.

        ``source`` has one channel per post neuron (channel ``i`` rewards neuron ``i``) or a single
        channel that rewards them all.  Its rule must have a reward trace
        (:func:`~spikefab.arch.learning.RewardModulatedSTDP`): each reward spike adds the y2
        impulse to the neuron's y2 trace.  The reward synapses carry weight 0 (no current).
        """
        plastic = {p.name: p for p in self.projections}
        p = plastic.get(projection)
        if p is None or p.learning is None or not p.learning.reward:
            raise ModelError(f"reward {source!r} -> {projection!r}: projection must be a plastic "
                             f"projection whose rule has a reward trace (RewardModulatedSTDP)")
        n_src, n_post = self.size_of(source), self.size_of(p.target)
        if n_src not in (1, n_post):
            raise ModelError(f"reward {source!r} -> {projection!r}: source must have 1 or "
                             f"{n_post} channels (one per post neuron), not {n_src}")
        post = np.arange(n_post)
        pre = np.zeros(n_post, np.int64) if n_src == 1 else post
        rname = name or self._unique(f"{source}=>{projection}")
        self.projections.append(Projection(rname, source, p.target, pre=pre, post=post,
                                           weight=np.zeros(n_post, np.int64), delay=0,
                                           reward_for=projection))
        return rname

    def output(self, name: str, population: str) -> None:
        """Report ``population``'s spikes as output ``name``."""
        if population not in self.populations:
            raise ModelError(f"output {name!r} must name a population, not {population!r}")
        if name in self.outputs:
            raise ModelError(f"output {name!r} is already defined")
        self.outputs[name] = population

    def _check_new(self, name: str, size: int) -> None:
        if not isinstance(name, str) or not name or any(c in name for c in " \t\n,:;"):
            raise ModelError(f"name must be a non-empty word, not {name!r}")
        if name in self.inputs or name in self.populations:
            raise ModelError(f"name {name!r} is already used")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ModelError(f"{name!r}: size must be a positive integer, not {size!r}")

    def _unique(self, base: str) -> str:
        names = {p.name for p in self.projections}
        if base not in names:
            return base
        k = 2
        while f"{base}#{k}" in names:
            k += 1
        return f"{base}#{k}"


def _int_delays(delay, where: str) -> np.ndarray:
    """Delays in whole steps as int64; anything else (text, fractions, NaN, values past int64)
    is a :class:`ModelError` here instead of a NumPy ``ValueError``/``OverflowError``.  The
    range a target allows is checked when compiling."""
    try:
        d = np.asarray(delay)
        ok = d.dtype.kind in "iu" or (d.dtype.kind in "fb" and np.all(np.isfinite(d))
                                      and np.array_equal(d, np.round(d))
                                      and np.all(np.abs(d) < 2.0 ** 62))
        if ok:
            return d.astype(np.int64)
    except (ValueError, TypeError, OverflowError):
        pass
    raise ModelError(f"{where}: delay must be whole steps (an integer or integer array), not "
                     f"{str(delay)[:40]!r}")
