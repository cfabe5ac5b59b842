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

from amaranth.hdl import Array, C, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.arch.image import LEARN_STATIC
from spikefab.rtl.learning.datapath import (FinalRound, ProductUnit, TraceStep,
                                            xorshift64_next)
from spikefab.rtl.learning.layout import EngineLayout

__all__ = ["LearningEngine"]

_VAR_NONE = 15          # 4-bit code of an unused factor slot in the product memory


def _bits(n: int) -> int:
    return max(1, (max(n, 1) - 1).bit_length())


def _impulse(tr, imp_int, imp_frac, r):
    s = tr + imp_int + (r < imp_frac)
    return Mux(s > 127, 127, s)[:7]


def _pack_product(row) -> int:
    word, pos = 0, 0

    def put(v: int, bits: int) -> None:
        nonlocal word, pos
        word |= (int(v) & ((1 << bits) - 1)) << pos
        pos += bits
    put(row["target"], 2)
    put(row["dependency"], 2)
    put(row["s_mantissa"], 4)
    put(row["s_exp"], 4)
    for k in range(4):
        put(_VAR_NONE if row["var"][k] == LEARN_STATIC else row["var"][k], 4)
    for k in range(4):
        put(row["const"][k], 16)
    for k in range(4):
        put(row["sgn"][k], 1)
    return word


PRODUCT_BITS = 2 + 2 + 4 + 4 + 16 + 64 + 4


class LearningEngine(wiring.Component):
    """One core's learning engine over its own memories, initialised from an :class:`EngineLayout`.

    The memories (``smem`` plastic synapses, ``xmem``/``ymem`` traces, ``pmem`` products) and the
    generator states ``rng[p][s]`` are attributes, so a simulation can read them back.
    """

    step_begin: In(1)
    pre: In(1)
    post: In(1)
    reward: In(1)
    step_end: In(1)
    index: In(16)
    profile: In(8)
    ready: Out(1)
    # read port (while ``ready``): table 0 synapses, 1 pre traces, 2 post traces, 3 generator
    # states (index ``profile * 5 + stream``); the engine-native word arrives a cycle later
    mem_re: In(1)
    mem_table: In(2)
    mem_index: In(16)
    mem_rvalid: Out(1)
    mem_rdata: Out(64)

    def __init__(self, lay: EngineLayout) -> None:
        self.lay = lay
        n_p = lay.n_profiles
        self.ab, self.nb = _bits(lay.n_axons), _bits(lay.n_neurons)
        self.syn_bits = self.ab + self.nb + 30
        syn_init = [self.pack_synapse(*v) for v in zip(lay.pre, lay.post, lay.w, lay.d, lay.t)]
        self.smem = Memory(shape=self.syn_bits, depth=max(1, len(syn_init)), init=syn_init)
        self.xmem = Memory(shape=20, depth=max(1, len(lay.x)),
                           init=[self.pack_x(r) for r in lay.x])
        self.ymem = Memory(shape=27, depth=max(1, len(lay.y)),
                           init=[self.pack_y(r) for r in lay.y])
        self.pmem = Memory(shape=PRODUCT_BITS, depth=max(1, len(lay.products)),
                           init=[_pack_product(r) for r in lay.products])
        self.rng = [[Signal(64, init=s, name=f"rng{p}_{i}") for i, s in enumerate(lay.rng[p])]
                    for p in range(n_p)]
        self.kk = [Signal(6, name=f"k{p}") for p in range(n_p)]
        self.epoch = [Signal(16, name=f"epoch{p}") for p in range(n_p)]
        super().__init__()

    # engine-native words (memory contents, read port data) -------------------------------------
    def pack_synapse(self, pre, post, w, d, t) -> int:
        o = self.ab + self.nb
        return (int(pre) | (int(post) << self.ab) | ((int(w) & 1023) << o)
                | ((int(d) & 1023) << (o + 10)) | ((int(t) & 1023) << (o + 20)))

    @staticmethod
    def pack_x(row) -> int:
        return int(row["x1"]) | (int(row["x2"]) << 7) | (int(row["tx"]) << 14)

    @staticmethod
    def pack_y(row) -> int:
        return (int(row["y1"]) | (int(row["y2"]) << 7) | (int(row["y3"]) << 14)
                | (int(row["ty"]) << 21))

    def unpack_synapse(self, word: int) -> tuple[int, int, int]:
        o = self.ab + self.nb

        def s10(v: int) -> int:
            return v - 1024 if v & 512 else v
        return s10((word >> o) & 1023), s10((word >> (o + 10)) & 1023), s10((word >> (o + 20)) & 1023)

    @staticmethod
    def unpack_x(word: int) -> tuple[int, int, int]:
        return word & 127, (word >> 7) & 127, (word >> 14) & 63

    @staticmethod
    def unpack_y(word: int) -> tuple[int, int, int, int]:
        return word & 127, (word >> 7) & 127, (word >> 14) & 127, (word >> 21) & 63

    def elaborate(self, platform):
        m = Module()
        lay = self.lay
        n_p = lay.n_profiles
        m.submodules.smem = self.smem
        m.submodules.xmem = self.xmem
        m.submodules.ymem = self.ymem
        m.submodules.pmem = self.pmem
        srd, swr = self.smem.read_port(), self.smem.write_port()
        xrd, xwr = self.xmem.read_port(), self.xmem.write_port()
        yrd, ywr = self.ymem.read_port(), self.ymem.write_port()
        prd = self.pmem.read_port()
        m.submodules.trace = tu = TraceStep()
        m.submodules.prod = pu = ProductUnit()
        rnd = [FinalRound() for _ in range(3)]
        for v, r in enumerate(rnd):
            m.submodules[f"round{v}"] = r

        # per-profile constants and registers, selected by the current profile p
        p = Signal(range(max(2, n_p + 1)))

        def const_arr(vals, shape):
            return Array([Const(int(v), shape) for v in vals])
        te = const_arr(lay.t_epoch, 6)[p]
        sign_mode = const_arr(lay.sign_mode, 2)[p]
        reward = const_arr(lay.reward, 1)[p]
        targets = const_arr(lay.targets, 3)[p]
        dec_on = const_arr([d >= 0 for d in lay.decimate], 1)[p]
        dec_mask = const_arr([(1 << max(d, 0)) - 1 for d in lay.decimate], 16)[p]
        xbase = const_arr([q * lay.n_axons for q in range(n_p)], 16)[p]
        ybase = const_arr([q * lay.n_neurons for q in range(n_p)], 16)[p]
        syn_start = const_arr([s for s, _ in lay.syn_range], 16)[p]
        syn_end = const_arr([s + c for s, c in lay.syn_range], 16)[p]
        syn_none = const_arr([c == 0 for _, c in lay.syn_range], 1)[p]
        prod_start = const_arr([s for s, _ in lay.prod_range], 16)[p]
        prod_end = const_arr([s + c for s, c in lay.prod_range], 16)[p]
        kk_p = Array(self.kk)[p]
        epoch_p = Array(self.epoch)[p]
        state_p = [Array([self.rng[q][s] for q in range(n_p)])[p] for s in range(5)]

        # trace parameters of (p, i)
        i = Signal(3)

        def trace_arr(attr, shape):
            return Array([Array([Const(int(v), shape) for v in getattr(lay, attr)[q]])
                          for q in range(n_p)])[p][i]

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
            tu.tr.eq(h[i]), tu.active.eq(trace_arr("active", 1)), tu.sig.eq(trace_arr("sig", 53)),
            tu.sh54.eq(trace_arr("sh54", 1)), tu.imp_int.eq(trace_arr("imp_int", 7)),
            tu.imp_frac.eq(trace_arr("imp_frac", 9)),
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
            m.d.comb += [pu.var[k].eq(Mux(code == _VAR_NONE, LEARN_STATIC, code)),
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
            any_end = any_end | (self.kk[qq] == lay.t_epoch[qq])
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
                with m.If(self.step_begin):
                    for qq in range(n_p):
                        m.d.sync += self.kk[qq].eq(Mux(self.kk[qq] == lay.t_epoch[qq], 1,
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
                    Mux(multi, _impulse(x1, Array([Const(v[0], 7) for v in lay.imp_int])[p],
                                        Array([Const(v[0], 9) for v in lay.imp_frac])[p], 0), x1),
                    Mux(multi, _impulse(x2, Array([Const(v[1], 7) for v in lay.imp_int])[p],
                                        Array([Const(v[1], 9) for v in lay.imp_frac])[p], 0), x2),
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
                    imp = _impulse(yk, Array([Const(v[2 + k], 7) for v in lay.imp_int])[p],
                                   Array([Const(v[2 + k], 9) for v in lay.imp_frac])[p], y_r)
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
                imp = _impulse(y2, Array([Const(v[3], 7) for v in lay.imp_int])[p],
                               Array([Const(v[3], 9) for v in lay.imp_frac])[p], 0)
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
                with m.If(slot + 1 == lay.n_axons):
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
                with m.If(slot + 1 == lay.n_neurons):
                    self._next_profile(m, p, n_p, "E0")
                with m.Else():
                    m.d.sync += slot.eq(slot + 1)
                    m.next = "Y_RD"
        return m

    @staticmethod
    def _next_profile(m, p, n_p: int, again: str) -> None:
        with m.If(p + 1 == n_p):
            m.next = "IDLE"
        with m.Else():
            m.d.sync += p.eq(p + 1)
            m.next = again
