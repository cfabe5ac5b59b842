"""Flat arrays of an image's learning engine, for :mod:`spikefab.emulator.learning.kernels`.

One *group* per (core, learning profile): row ``g`` of ``gp`` holds its core, epoch, decimate
exponent, sign mode and where its traces (``xs`` rows ``xo .. xo + n_axons``, ``ys`` rows
``yo .. yo + n_neurons``), synapses (``so .. se`` of ``s_glob``/``s_pre``/``s_post``/``tags``)
and products (``po .. pe`` of ``prod``/``pvar``/``pconst``/``psgn``) are.  Random numbers are
drawn here, on the host, with the contract's generator (:class:`LearningRandom`) in the
contract's order: ``r_mid[t, g]`` is the y-impulse value between the two advances of step ``t``
and ``r_end[t, g]`` the five values used if step ``t`` ends an epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.arch.image import LEARN_REWARD, LEARN_STATIC, Image
from spikefab.arch.learning.random import LearningRandom
from spikefab.arch.learning.tables import MAX_FACTORS, synapse_axons
from spikefab.emulator.learning.kernels import (G_AB, G_CORE, G_DEC, G_NAX, G_NB, G_NN, G_PE,
                                                G_PO, G_RE, G_REWARD, G_RO, G_SE, G_SIGN, G_SO,
                                                G_TEPOCH, G_XO, G_YO, N_G, draw_hardware)

__all__ = ["FlatLearning", "flatten_learning"]


@dataclass
class FlatLearning:
    gp: np.ndarray
    gimp: np.ndarray            #: (G, 10) impulse integer parts (5) then fractions (5)
    gtau: np.ndarray
    gdec: np.ndarray
    xs: np.ndarray              #: (rows, 3) x1, x2, tx
    ys: np.ndarray              #: (rows, 4) y1, y2, y3, ty
    s_glob: np.ndarray
    s_pre: np.ndarray
    s_post: np.ndarray
    tags: np.ndarray            #: (n, 2) tag_d, tag_t
    prod: np.ndarray            #: (P, 5) target, dependency, mantissa, s_exp, n_factors
    pvar: np.ndarray
    pconst: np.ndarray
    psgn: np.ndarray
    randoms: list[LearningRandom]
    r_pre: np.ndarray = None        # type: ignore[assignment]  # reward synapses: local axon
    r_post: np.ndarray = None       # type: ignore[assignment]  # ... and local neuron
    x_ptr: np.ndarray = None        # type: ignore[assignment]  # synapses by xs row (CSR) ...
    x_syn: np.ndarray = None        # type: ignore[assignment]
    y_ptr: np.ndarray = None        # type: ignore[assignment]  # ... and by ys row
    y_syn: np.ndarray = None        # type: ignore[assignment]

    def draw(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Random values of the next ``steps`` steps (advances the generators)."""
        G = len(self.randoms)
        r_mid = np.zeros((steps, G), np.float64)
        r_end = np.zeros((steps, G, 5), np.float64)
        self._t = getattr(self, "_t", 0)
        if all(r.generator == "hardware" for r in self.randoms):     # in a kernel, same order
            states = np.array([r.states for r in self.randoms], np.uint64).reshape(G, 5)
            draw_hardware(states, self.gp[:, G_TEPOCH].copy(), self._t, r_mid, r_end)
            for rnd, st in zip(self.randoms, states):
                rnd.states = [int(v) for v in st]
                rnd.values = [rnd._draw(i) for i in range(len(rnd.states))]
            self._t += steps
            return r_mid, r_end
        for t in range(steps):
            T = self._t + t + 1
            for g, rnd in enumerate(self.randoms):
                rnd.advance_traces()
                r_mid[t, g] = rnd.y_impulse
                rnd.advance_traces()
                if T % int(self.gp[g, G_TEPOCH]) == 0:
                    rnd.advance_round()
                    r_end[t, g] = rnd.values
        self._t += steps
        return r_mid, r_end


def _by_row(rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Synapses grouped by trace row (CSR): those of row ``r`` are ``syn[ptr[r]:ptr[r + 1]]``,
    so an epoch visits only the synapses of rows that spiked."""
    ptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=ptr[1:])
    return ptr, np.argsort(rows, kind="stable").astype(np.int64)


def flatten_learning(image: Image, noff: np.ndarray) -> FlatLearning | None:
    """The learning arrays of ``image`` (None when no core is plastic)."""
    if not any(c.plastic for c in image.cores):
        return None
    gen = image.manifest.get("learning", {}).get("generator", "hardware")
    abase = np.zeros(len(image.cores) + 1, np.int64)
    abase[1:] = np.cumsum([len(c.axons) for c in image.cores])
    sbase = np.zeros(len(image.cores) + 1, np.int64)
    sbase[1:] = np.cumsum([len(c.synapses) for c in image.cores])
    gp, gimp, gtau, gdec, rnds = [], [], [], [], []
    xs, ys, s_glob, s_pre, s_post, tags = [], [], [], [], [], []
    prod, pvar, pconst, psgn, r_pre, r_post = [], [], [], [], [], []
    xo = yo = so = po = ro = 0
    for ci, c in enumerate(image.cores):
        if not c.plastic:
            continue
        axon = synapse_axons(c)
        nax, nn = len(c.axons), c.n_neurons
        for p, row in enumerate(c.learn_profiles):
            idx = np.flatnonzero(c.learn_synapses["profile"] == p)
            mine = c.learn_products[c.learn_products["profile"] == p]
            order = np.argsort(mine["target"], kind="stable")    # product order within a target
            mine = mine[order]
            lx = c.learn_x[p * nax:(p + 1) * nax]
            ly = c.learn_y[p * nn:(p + 1) * nn]
            xs.append(np.stack([lx["x1"], lx["x2"], lx["tx"]], 1).astype(np.int64))
            ys.append(np.stack([ly["y1"], ly["y2"], ly["y3"], ly["ty"]], 1).astype(np.int64))
            s_glob.append(sbase[ci] + idx)
            s_pre.append(axon[idx])
            s_post.append(c.synapses["neuron"][idx].astype(np.int64))
            tags.append(np.stack([c.learn_synapses["tag_d"][idx],
                                  c.learn_synapses["tag_t"][idx]], 1).astype(np.int64))
            nf = (mine["var"] != LEARN_STATIC).sum(axis=1)
            prod.append(np.stack([mine["target"], mine["dependency"], mine["s_mantissa"],
                                  mine["s_exp"], nf], 1).astype(np.int64))
            pvar.append(np.where(mine["var"] == LEARN_STATIC, 0, mine["var"]).astype(np.int64))
            pconst.append(mine["const"].astype(np.int64))
            psgn.append(mine["sgn"].astype(np.int64))
            g = np.zeros(N_G, np.int64)
            g[[G_CORE, G_TEPOCH, G_DEC, G_SIGN]] = (ci, row["t_epoch"], row["decimate"],
                                                    row["sign_mode"])
            g[[G_XO, G_NAX, G_AB, G_YO, G_NN, G_NB]] = (xo, nax, abase[ci], yo, nn, noff[ci])
            g[[G_SO, G_SE, G_PO, G_PE]] = (so, so + len(idx), po, po + len(mine))
            ridx = np.flatnonzero(c.learn_synapses["profile"] == LEARN_REWARD + p)
            r_pre.append(axon[ridx])
            r_post.append(c.synapses["neuron"][ridx].astype(np.int64))
            g[[G_RO, G_RE, G_REWARD]] = (ro, ro + len(ridx), int(row["flags"]) & 1)
            ro += len(ridx)
            gp.append(g)
            gimp.append(np.concatenate([row["impulse_int"], row["impulse_frac"]]).astype(np.int64))
            gtau.append(row["tau"].astype(np.int64))
            gdec.append(row["decay"].astype(np.float64))
            rnds.append(LearningRandom.lava(int(row["rng_seed"])) if gen == "lava" else
                        LearningRandom.hardware([int(s) for s in c.learn_rng[p]["state"]]))
            xo, yo, so, po = xo + nax, yo + nn, so + len(idx), po + len(mine)

    def cat(parts, shape, dtype=np.int64):
        return np.ascontiguousarray(np.concatenate(parts).astype(dtype)) if parts else \
            np.zeros(shape, dtype)
    gp_a, s_pre_a, s_post_a = np.stack(gp), cat(s_pre, (0,)), cat(s_post, (0,))
    grp = np.repeat(np.arange(len(gp_a)), gp_a[:, G_SE] - gp_a[:, G_SO])
    x_ptr, x_syn = _by_row(gp_a[grp, G_XO] + s_pre_a, xo)
    y_ptr, y_syn = _by_row(gp_a[grp, G_YO] + s_post_a, yo)
    return FlatLearning(
        gp=gp_a, gimp=np.stack(gimp), gtau=np.stack(gtau), gdec=np.stack(gdec),
        xs=cat(xs, (0, 3)), ys=cat(ys, (0, 4)), s_glob=cat(s_glob, (0,)),
        s_pre=s_pre_a, s_post=s_post_a, tags=cat(tags, (0, 2)),
        prod=cat(prod, (0, 5)), pvar=cat(pvar, (0, MAX_FACTORS)),
        pconst=cat(pconst, (0, MAX_FACTORS)), psgn=cat(psgn, (0, MAX_FACTORS)), randoms=rnds,
        r_pre=cat(r_pre, (0,)), r_post=cat(r_post, (0,)), x_ptr=x_ptr, x_syn=x_syn,
        y_ptr=y_ptr, y_syn=y_syn)
