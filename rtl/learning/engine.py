"""The learning engine of one core: records spikes, and at an epoch's end updates its synapses.

Bit-exact with the contract (:mod:`spikefab.arch.learning.engine`, driven as
:class:`~spikefab.arch.learning.tables.CoreLearner` drives it).  The core drives four strobes
(one per cycle while ``ready``):

``step_begin``    a step starts: every profile's within-epoch time ``k`` advances and its four
                  trace streams advance once (1 cycle);
``pre``/``post``  input axon ``index`` was hit / neuron ``index`` spiked in this step: for each
                  profile, read its slot, add the second-spike impulse, write ``tx``/``ty``
                  (2 cycles per profile);
``reward``        a reward synapse of profile ``profile`` to neuron ``index`` was hit (2 cycles);
``step_end``      the step's records are done: the trace streams advance again (1 cycle); when
                  some profile's epoch ends, every profile gets one cycle (its synapse stream
                  advances if its epoch ends) and each ending profile runs its epoch phase.

Epoch phase of profile ``p`` (:func:`~.layout.epoch_cycles`): for every plastic synapse of
``p`` read the synapse, then its pre and post slots, replay the five traces over the epoch with
one :class:`~.datapath.TraceStep` (one trace-step a cycle; the values at ``tx``, ``ty`` and
the epoch's end are latched), run every product of the rule through one
:class:`~.datapath.ProductUnit`, round the three accumulators (:class:`~.datapath.FinalRound`)
and write the synapse back.  Then every pre slot and post slot is replayed once more and
written with its end-of-epoch traces and a cleared spike time.

Replaying per synapse instead of storing each slot's history trades cycles for memory: a
history would need ``t_epoch`` words per trace and slot, which no iCE40 block RAM budget holds.
"""

from amaranth.hdl import Array, C, Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.arch.image import LEARN_STATIC
from spikefab.rtl.learning.datapath import (FinalRound, ProductUnit, TraceStep,
                                            xorshift64_next)
from spikefab.rtl.learning.layout import EngineLayout
from spikefab.rtl.learning.words import (PRODUCT_BITS, PROFILE_WORDS, TABLES, VAR_NONE,
                                         EngineCaps, load_writes)

__all__ = ["LearningEngine"]

def _impulse(tr, imp_int, imp_frac, r):
    s = tr + imp_int + (r < imp_frac)
    return Mux(s > 127, 127, s)[:7]


class LearningEngine(wiring.Component):
    """One core's learning engine, built for :class:`EngineCaps`, loaded through ``mem_*``.

    ``init`` (optional) preloads a layout as the memories' and registers' initial values (what
    :func:`~.words.load_writes` would write), which is how the Amaranth-simulator tests start.
    The memories (``smem``, ``xmem``, ``ymem``, ``pmem``) and the generator states ``rng[p][s]``
    are attributes, so a simulation can read them back.
    """

    step_begin: In(1)
    pre: In(1)
    post: In(1)
    reward: In(1)
    step_end: In(1)
    index: In(16)
    profile: In(8)
    ready: Out(1)
    # memory port (while ``ready``), tables and words of :mod:`.words`: a write is applied at
    # once; a read's word arrives a cycle later with ``mem_rvalid``
    mem_we: In(1)
    mem_re: In(1)
    mem_table: In(3)
    mem_index: In(16)
    mem_wdata: In(128)
    mem_rvalid: Out(1)
    mem_rdata: Out(64)

    def __init__(self, caps: EngineCaps, init: EngineLayout | None = None) -> None:
        self.caps = caps
        n_p = caps.profiles
        self.ab, self.nb = caps.ab, caps.nb
        self.syn_bits = self.ab + self.nb + 30
        mems = {t: {} for t in TABLES.values()}
        for table, index, word in (load_writes(init, caps) if init is not None else []):
            mems[table][index] = word

        def image(table: int, depth: int) -> list[int]:
            return [mems[table].get(k, 0) for k in range(depth)]
        self.smem = Memory(shape=self.syn_bits, depth=caps.synapses,
                           init=image(TABLES["synapses"], caps.synapses))
        self.xmem = Memory(shape=20, depth=n_p * caps.axons,
                           init=image(TABLES["x"], n_p * caps.axons))
        self.ymem = Memory(shape=27, depth=n_p * caps.neurons,
                           init=image(TABLES["y"], n_p * caps.neurons))
        self.pmem = Memory(shape=PRODUCT_BITS, depth=caps.products,
                           init=image(TABLES["products"], caps.products))
        rng = mems[TABLES["rng"]]
        self.rng = [[Signal(64, init=rng.get(p * 5 + i, 0), name=f"rng{p}_{i}")
                     for i in range(5)] for p in range(n_p)]
        cfg = mems[TABLES["config"]].get(0, 0)
        self.n_ax = Signal(16, init=cfg & 0xFFFF)
        self.n_n = Signal(16, init=(cfg >> 16) & 0xFFFF)
        self.n_prof = Signal(8, init=(cfg >> 32) & 0xFF)
        prof = mems[TABLES["profiles"]]
        self.pw = [[Signal(128, init=prof.get(p * PROFILE_WORDS + k, 0), name=f"prof{p}_{k}")
                    for k in range(PROFILE_WORDS)] for p in range(n_p)]
        self.kk = [Signal(6, name=f"k{p}") for p in range(n_p)]
        self.epoch = [Signal(16, name=f"epoch{p}") for p in range(n_p)]
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        caps = self.caps
        n_p = caps.profiles
        m.submodules.smem = self.smem
        m.submodules.xmem = self.xmem
        m.submodules.ymem = self.ymem
        m.submodules.pmem = self.pmem
        srd, swr = self.smem.read_port(), self.smem.write_port()
        xrd, xwr = self.xmem.read_port(), self.xmem.write_port()
        yrd, ywr = self.ymem.read_port(), self.ymem.write_port()
        prd, pwr = self.pmem.read_port(), self.pmem.write_port()
        m.submodules.trace = tu = TraceStep()
        m.submodules.prod = pu = ProductUnit()
        rnd = [FinalRound() for _ in range(3)]
        for v, r in enumerate(rnd):
            m.submodules[f"round{v}"] = r

        # the profile registers (words of .words), selected by the current profile p
        p = Signal(range(max(2, n_p + 1)))
        f0 = [w[0] for w in self.pw]
        f0p = Array(f0)[p]
        te_of = [w[0:6] for w in f0]
        te = f0p[0:6]
        sign_mode = f0p[6:8]
        reward = f0p[8]
        targets = f0p[9:12]
        dec_on = f0p[12]
        dec_mask = f0p[13:29]
        syn_start = f0p[29:45]
        syn_end = (f0p[29:45] + f0p[45:61])[:16]
        syn_none = f0p[45:61] == 0
        prod_start = f0p[61:77]
        prod_end = (f0p[61:77] + f0p[77:93])[:16]
        xbase = Array([C(q * caps.axons, 16) for q in range(n_p)])[p]
        ybase = Array([C(q * caps.neurons, 16) for q in range(n_p)])[p]
        kk_p = Array(self.kk)[p]
        epoch_p = Array(self.epoch)[p]
        state_p = [Array([self.rng[q][s] for q in range(n_p)])[p] for s in range(5)]

        def tw(k):          # trace k's word of profile p
            return Array([w[1 + k] for w in self.pw])[p]

        def imp_int(k):
            return tw(k)[55:62]

        def imp_frac(k):
            return tw(k)[62:71]

        # trace parameters of (p, i)
        i = Signal(3)
        twi = Array([Array(w[1:]) for w in self.pw])[p][i]

        # registers of the synapse / slot being worked on
        j = Signal(16)
        q = Signal(16)
        slot = Signal(16)
        s_pre, s_post = Signal(self.ab), Signal(self.nb)
        w, d, t = Signal(signed(10)), Signal(signed(10)), Signal(signed(10))
        h = Array([Signal(7, name=f"h{k}") for k in range(5)])
        at_x = Array([Signal(7, name=f"atx{k}") for k in range(5)])
        at_y = Array([Signal(7, name=f"aty{k}") for k in range(5)])
        tx, ty = Signal(6), Signal(6)
        kk = Signal(7)
        lo, hi = Signal(3), Signal(3)
        u = Signal()
        acc = Array([Signal(signed(17), name=f"acc{v}") for v in range(3)])
        first = Signal()
        idx = Signal(16)
        ret_x, ret_y, ret_p = Signal(), Signal(), Signal()

        # the trace step unit: trace i of the current slot at step kk
        own_t = Mux(i < 2, tx, ty)
        m.d.comb += [
            tu.tr.eq(h[i]), tu.active.eq(twi[0]), tu.sig.eq(twi[1:54]), tu.sh54.eq(twi[54]),
            tu.imp_int.eq(twi[55:62]), tu.imp_frac.eq(twi[62:71]),
            tu.r_decay.eq(Mux(i < 2, state_p[0], state_p[2]) >> 11),
            tu.r_imp.eq(Mux(i < 2, state_p[1], state_p[3]) >> 57),
            tu.add.eq((own_t == kk) & ~((i == 3) & reward)),
        ]
        # the product unit, fed from the product memory's read port (its address held in q)
        pw = prd.data
        m.d.comb += prd.addr.eq(q)
        dep = pw[2:4]
        m.d.comb += [
            pu.dep.eq(Mux(dep == 0, tx != 0, Mux(dep == 1, ty != 0, u))),
            pu.s_mantissa.eq(pw[4:8].as_signed()), pu.s_exp.eq(pw[8:12]),
            pu.x0.eq(tx != 0), pu.y0.eq(ty != 0), pu.w.eq(w), pu.d.eq(d), pu.t.eq(t),
            pu.acc_in.eq(acc[pw[0:2]]), pu.start.eq(first),
        ]
        for k in range(4):
            code = pw[12 + 4 * k:16 + 4 * k]
            m.d.comb += [pu.var[k].eq(Mux(code == VAR_NONE, LEARN_STATIC, code)),
                         pu.const[k].eq(pw[28 + 16 * k:44 + 16 * k].as_signed()),
                         pu.sgn[k].eq(pw[92 + k])]
        for k in range(5):
            m.d.comb += pu.trace[k].eq(Mux(dep == 0, at_x[k], Mux(dep == 1, at_y[k], h[k])))
        r_round = state_p[4] >> 11
        for v, r in enumerate(rnd):
            m.d.comb += [r.acc.eq(acc[v]), r.var.eq(v), r.sign_mode.eq(sign_mode),
                         r.r_round.eq(r_round)]

        ab, nb = self.ab, self.nb
        sdat = srd.data
        any_end = 0
        for qq in range(n_p):
            any_end = any_end | ((qq < self.n_prof) & (self.kk[qq] == te_of[qq]))
        x_word = Cat(xrd.data[:7], xrd.data[7:14], xrd.data[14:20])
        y_r = state_p[3] >> 57

        # read port: addresses in the idle cycle of the request, data one cycle later
        r_table = Signal(2)
        r_rng = Signal(64)
        m.d.sync += [self.mem_rvalid.eq(0), r_table.eq(self.mem_table)]
        rng_flat = [s for row in self.rng for s in row]
        with m.Switch(self.mem_index):
            for n, sig in enumerate(rng_flat):
                with m.Case(n):
                    m.d.sync += r_rng.eq(sig)
        with m.Switch(r_table):
            with m.Case(0):
                m.d.comb += self.mem_rdata.eq(srd.data)
            with m.Case(1):
                m.d.comb += self.mem_rdata.eq(xrd.data)
            with m.Case(2):
                m.d.comb += self.mem_rdata.eq(yrd.data)
            with m.Default():
                m.d.comb += self.mem_rdata.eq(r_rng)

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.ready.eq(1)
                with m.If(self.mem_re):
                    m.d.comb += [srd.addr.eq(self.mem_index), xrd.addr.eq(self.mem_index),
                                 yrd.addr.eq(self.mem_index)]
                    m.d.sync += self.mem_rvalid.eq(1)
                self._host_write(m, swr, xwr, ywr, pwr)
                with m.If(self.step_begin):
                    for qq in range(n_p):
                        m.d.sync += self.kk[qq].eq(Mux(self.kk[qq] == te_of[qq], 1,
                                                       self.kk[qq] + 1))
                        for s in range(4):
                            m.d.sync += self.rng[qq][s].eq(xorshift64_next(self.rng[qq][s]))
                with m.Elif(self.step_end):
                    for qq in range(n_p):
                        for s in range(4):
                            m.d.sync += self.rng[qq][s].eq(xorshift64_next(self.rng[qq][s]))
                    with m.If(any_end):
                        m.d.sync += p.eq(0)
                        m.next = "E0"
                with m.Elif(self.pre):
                    m.d.sync += [p.eq(0), idx.eq(self.index)]
                    m.next = "PRE_RD"
                with m.Elif(self.post):
                    m.d.sync += [p.eq(0), idx.eq(self.index)]
                    m.next = "POST_RD"
                with m.Elif(self.reward):
                    m.d.sync += [p.eq(self.profile), idx.eq(self.index)]
                    m.next = "REW_RD"

            # ---- spike records -----------------------------------------------------------------
            with m.State("PRE_RD"):
                m.d.comb += xrd.addr.eq(xbase + idx)
                m.next = "PRE_WR"
            with m.State("PRE_WR"):
                x1, x2, txo = xrd.data[:7], xrd.data[7:14], xrd.data[14:20]
                multi = (txo != 0) & (txo != kk_p)
                m.d.comb += [xwr.addr.eq(xbase + idx), xwr.en.eq(1), xwr.data.eq(Cat(
                    Mux(multi, _impulse(x1, imp_int(0), imp_frac(0), 0), x1),
                    Mux(multi, _impulse(x2, imp_int(1), imp_frac(1), 0), x2),
                    kk_p))]
                self._next_profile(m, p, n_p, "PRE_RD")
            with m.State("POST_RD"):
                m.d.comb += yrd.addr.eq(ybase + idx)
                m.next = "POST_WR"
            with m.State("POST_WR"):
                tyo = yrd.data[21:27]
                multi = (tyo != 0) & (tyo != kk_p)
                ys = []
                for k in range(3):
                    yk = yrd.data[7 * k:7 * k + 7]
                    imp = _impulse(yk, imp_int(2 + k), imp_frac(2 + k), y_r)
                    skip = reward if k == 1 else 0
                    ys.append(Mux(multi & ~skip, imp, yk))
                m.d.comb += [ywr.addr.eq(ybase + idx), ywr.en.eq(1),
                             ywr.data.eq(Cat(*ys, kk_p))]
                self._next_profile(m, p, n_p, "POST_RD")
            with m.State("REW_RD"):
                m.d.comb += yrd.addr.eq(ybase + idx)
                m.next = "REW_WR"
            with m.State("REW_WR"):
                y2 = yrd.data[7:14]
                imp = _impulse(y2, imp_int(3), imp_frac(3), 0)
                m.d.comb += [ywr.addr.eq(ybase + idx), ywr.en.eq(1),
                             ywr.data.eq(Cat(yrd.data[:7], imp, yrd.data[14:27]))]
                m.next = "IDLE"

            # ---- epoch phase ---------------------------------------------------------------------
            with m.State("E0"):
                with m.If(kk_p == te):
                    for qq in range(n_p):
                        with m.If(p == qq):
                            m.d.sync += [self.rng[qq][4].eq(xorshift64_next(self.rng[qq][4])),
                                         self.epoch[qq].eq(self.epoch[qq] + 1)]
                    m.d.sync += [u.eq(dec_on & (((epoch_p + 1) & dec_mask) == 0)),
                                 j.eq(syn_start), slot.eq(0)]
                    with m.If(syn_none):
                        m.next = "X_RD"
                    with m.Else():
                        m.next = "S_RD"
                with m.Else():
                    self._next_profile(m, p, n_p, "E0")
            with m.State("S_RD"):
                m.d.comb += srd.addr.eq(j)
                m.next = "S_XY"
            with m.State("S_XY"):
                m.d.comb += [xrd.addr.eq(xbase + sdat[:ab]), yrd.addr.eq(ybase + sdat[ab:ab + nb])]
                o = ab + nb
                m.d.sync += [s_pre.eq(sdat[:ab]), s_post.eq(sdat[ab:o]),
                             w.eq(sdat[o:o + 10].as_signed()), d.eq(sdat[o + 10:o + 20].as_signed()),
                             t.eq(sdat[o + 20:o + 30].as_signed())]
                m.next = "S_LAT"
            with m.State("S_LAT"):
                txn, tyn = xrd.data[14:20], yrd.data[21:27]
                vals = [xrd.data[:7], xrd.data[7:14], yrd.data[:7], yrd.data[7:14], yrd.data[14:21]]
                for k in range(5):
                    m.d.sync += [h[k].eq(vals[k]), at_x[k].eq(vals[k]), at_y[k].eq(vals[k])]
                m.d.sync += [tx.eq(txn), ty.eq(tyn), kk.eq(1), i.eq(0), lo.eq(0), hi.eq(4),
                             acc[0].eq(w << 7), acc[1].eq(d << 7), acc[2].eq(t << 7),
                             ret_x.eq(0), ret_y.eq(0), ret_p.eq(1)]
                m.next = "REPLAY"
            with m.State("REPLAY"):
                m.d.sync += h[i].eq(tu.out)
                with m.If(kk == tx):
                    m.d.sync += at_x[i].eq(tu.out)
                with m.If(kk == ty):
                    m.d.sync += at_y[i].eq(tu.out)
                with m.If(i == hi):
                    m.d.sync += [i.eq(lo), kk.eq(kk + 1)]
                    with m.If(kk == te):
                        with m.If(ret_p):
                            m.d.sync += [q.eq(prod_start)]
                            m.next = "P_RD"
                        with m.Elif(ret_x):
                            m.next = "X_WR"
                        with m.Else():
                            m.next = "Y_WR"
                with m.Else():
                    m.d.sync += i.eq(i + 1)
            with m.State("P_RD"):
                m.d.sync += first.eq(1)
                m.next = "P_EV"
            with m.State("P_EV"):
                m.d.sync += first.eq(0)
                with m.If(pu.done):
                    m.d.sync += [acc[pw[0:2]].eq(pu.acc_out), q.eq(q + 1)]
                    with m.If(q + 1 == prod_end):
                        m.next = "FIN"
                    with m.Else():
                        m.next = "P_RD"
            with m.State("FIN"):
                o = ab + nb
                nw = Mux(targets[0], rnd[0].out, w)
                nd = Mux(targets[1], rnd[1].out, d)
                nt = Mux(targets[2], rnd[2].out, t)
                m.d.comb += [swr.addr.eq(j), swr.en.eq(1),
                             swr.data.eq(Cat(s_pre, s_post, nw[:10], nd[:10], nt[:10]))]
                m.d.sync += j.eq(j + 1)
                with m.If(j + 1 == syn_end):
                    m.d.sync += slot.eq(0)
                    m.next = "X_RD"
                with m.Else():
                    m.next = "S_RD"
            with m.State("X_RD"):
                m.d.comb += xrd.addr.eq(xbase + slot)
                m.next = "X_LAT"
            with m.State("X_LAT"):
                m.d.sync += [h[0].eq(xrd.data[:7]), h[1].eq(xrd.data[7:14]),
                             tx.eq(xrd.data[14:20]), ty.eq(0), kk.eq(1), i.eq(0), lo.eq(0),
                             hi.eq(1), ret_x.eq(1), ret_p.eq(0)]
                m.next = "REPLAY"
            with m.State("X_WR"):
                m.d.comb += [xwr.addr.eq(xbase + slot), xwr.en.eq(1),
                             xwr.data.eq(Cat(h[0], h[1], C(0, 6)))]
                with m.If(slot + 1 == self.n_ax):
                    m.d.sync += slot.eq(0)
                    m.next = "Y_RD"
                with m.Else():
                    m.d.sync += slot.eq(slot + 1)
                    m.next = "X_RD"
            with m.State("Y_RD"):
                m.d.comb += yrd.addr.eq(ybase + slot)
                m.next = "Y_LAT"
            with m.State("Y_LAT"):
                m.d.sync += [h[2].eq(yrd.data[:7]), h[3].eq(yrd.data[7:14]),
                             h[4].eq(yrd.data[14:21]), ty.eq(yrd.data[21:27]), tx.eq(0),
                             kk.eq(1), i.eq(2), lo.eq(2), hi.eq(4), ret_x.eq(0), ret_p.eq(0)]
                m.next = "REPLAY"
            with m.State("Y_WR"):
                m.d.comb += [ywr.addr.eq(ybase + slot), ywr.en.eq(1),
                             ywr.data.eq(Cat(h[2], h[3], h[4], C(0, 6)))]
                with m.If(slot + 1 == self.n_n):
                    self._next_profile(m, p, n_p, "E0")
                with m.Else():
                    m.d.sync += slot.eq(slot + 1)
                    m.next = "Y_RD"
        return m

    def _host_write(self, m, swr, xwr, ywr, pwr) -> None:
        """A ``mem_we`` write of the idle cycle into the table ``mem_table`` names."""
        idx, wd = self.mem_index, self.mem_wdata
        we = self.mem_we
        for port, name in ((swr, "synapses"), (xwr, "x"), (ywr, "y"), (pwr, "products")):
            with m.If(we & (self.mem_table == TABLES[name])):
                m.d.comb += [port.addr.eq(idx), port.en.eq(1), port.data.eq(wd)]
        with m.If(we & (self.mem_table == TABLES["rng"])):
            with m.Switch(idx):
                for n, sig in enumerate(s for row in self.rng for s in row):
                    with m.Case(n):
                        m.d.sync += sig.eq(wd[:64])
        with m.If(we & (self.mem_table == TABLES["profiles"])):
            with m.Switch(idx):
                for n, sig in enumerate(s for row in self.pw for s in row):
                    with m.Case(n):
                        m.d.sync += sig.eq(wd)
        with m.If(we & (self.mem_table == TABLES["config"])):
            m.d.sync += [self.n_ax.eq(wd[:16]), self.n_n.eq(wd[16:32]), self.n_prof.eq(wd[32:40])]

    def _next_profile(self, m, p, n_p: int, again: str) -> None:
        with m.If(p + 1 >= self.n_prof):
            m.next = "IDLE"
        with m.Else():
            m.d.sync += p.eq(p + 1)
            m.next = again
