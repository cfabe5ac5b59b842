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

from dataclasses import dataclass

from amaranth.hdl import Array, C, Cat, Module, Mux, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.arch.image import LEARN_STATIC
from spikefab.rtl.learning.datapath import (FinalRound, ProductUnit, TraceStep,
                                            xorshift64_next)
from spikefab.arch.learning.layout import EngineLayout
from spikefab.arch.learning.words import (PRODUCT_BITS, PROFILE_WORDS, TABLES, VAR_NONE,
                                         EngineCaps, load_writes)

__all__ = ["LearningEngine"]

def _impulse(tr, imp_int, imp_frac, r):
    s = tr + imp_int + (r < imp_frac)
    return Mux(s > 127, 127, s)[:7]


@dataclass
class _Units:
    """The memories' ports and the shared datapath units that every state drives."""

    srd: object
    swr: object
    xrd: object
    xwr: object
    yrd: object
    ywr: object
    prd: object
    pwr: object
    tu: TraceStep
    pu: ProductUnit
    rnd: list


@dataclass
class _Profile:
    """The current profile ``p``'s registers as slices (the fields of :mod:`.words`)."""

    p: Signal
    pw: list
    te_of: list
    te: Value
    sign_mode: Value
    reward: Value
    targets: Value
    dec_on: Value
    dec_mask: Value
    syn_start: Value
    syn_end: Value
    syn_none: Value
    prod_start: Value
    prod_end: Value
    xbase: Value
    ybase: Value
    kk_p: Value
    epoch_p: Value
    state_p: list

    def tw(self, k: int) -> Value:
        """Trace ``k``'s word of profile ``p``."""
        return Array([w[1 + k] for w in self.pw])[self.p]

    def imp_int(self, k: int) -> Value:
        return self.tw(k)[55:62]

    def imp_frac(self, k: int) -> Value:
        return self.tw(k)[62:71]


@dataclass
class _Work:
    """The registers of the synapse / slot being worked on (one set, shared by all states)."""

    i: Signal
    twi: Value
    j: Signal
    q: Signal
    slot: Signal
    s_pre: Signal
    s_post: Signal
    w: Signal
    d: Signal
    t: Signal
    h: Array
    at_x: Array
    at_y: Array
    tx: Signal
    ty: Signal
    kk: Signal
    lo: Signal
    hi: Signal
    u: Signal
    acc: Array
    first: Signal
    idx: Signal
    ret_x: Signal
    ret_y: Signal
    ret_p: Signal


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
    clear: In(1)
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
    mem_rdata: Out(128)
    # weight write-back (``caps.entries``): in the cycle a plastic synapse's word is written,
    # its core synapse entry and new weight (the core's synapse memory takes it)
    wb_en: Out(1)
    wb_entry: Out(16)
    wb_weight: Out(signed(10))

    def __init__(self, caps: EngineCaps, init: EngineLayout | None = None) -> None:
        self.caps = caps
        n_p = caps.profiles
        self.ab, self.nb = caps.ab, caps.nb
        self.syn_bits = self.ab + self.nb + 30 + caps.eb
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
        io = self._units(m)
        pf = self._profile_view()
        wk = self._work_registers(pf)
        self._datapath(m, io, pf, wk)
        self._read_port(m, io)
        with m.If(self.clear):                # a new run: epochs count from step 1 again
            m.d.sync += [k.eq(0) for k in self.kk] + [e.eq(0) for e in self.epoch]
        entry = Signal(max(1, self.caps.eb))
        m.d.comb += self.wb_entry.eq(entry)
        self._entry = entry
        with m.FSM():
            self._idle_state(m, io, pf, wk)
            self._record_states(m, io, pf, wk)
            self._synapse_states(m, io, pf, wk)
            self._slot_states(m, io, pf, wk)
        return m

    def _units(self, m: Module) -> _Units:
        """The four memories with their ports, and the shared trace, product and round units."""
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
        return _Units(srd, swr, xrd, xwr, yrd, ywr, prd, pwr, tu, pu, rnd)

    def _profile_view(self) -> _Profile:
        """The profile registers (words of .words), selected by the current profile ``p``."""
        caps = self.caps
        n_p = caps.profiles
        p = Signal(range(max(2, n_p + 1)))
        f0 = [w[0] for w in self.pw]
        f0p = Array(f0)[p]
        return _Profile(
            p=p, pw=self.pw, te_of=[w[0:6] for w in f0], te=f0p[0:6], sign_mode=f0p[6:8],
            reward=f0p[8], targets=f0p[9:12], dec_on=f0p[12], dec_mask=f0p[13:29],
            syn_start=f0p[29:45], syn_end=(f0p[29:45] + f0p[45:61])[:16],
            syn_none=f0p[45:61] == 0, prod_start=f0p[61:77],
            prod_end=(f0p[61:77] + f0p[77:93])[:16],
            xbase=Array([C(q * caps.axons, 16) for q in range(n_p)])[p],
            ybase=Array([C(q * caps.neurons, 16) for q in range(n_p)])[p],
            kk_p=Array(self.kk)[p], epoch_p=Array(self.epoch)[p],
            state_p=[Array([self.rng[q][s] for q in range(n_p)])[p] for s in range(5)])

    def _work_registers(self, pf: _Profile) -> _Work:
        """The registers of the synapse / slot being worked on; ``twi``: trace ``i`` of ``p``."""
        i = Signal(3)
        twi = Array([Array(w[1:]) for w in self.pw])[pf.p][i]
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
        return _Work(i, twi, j, q, slot, s_pre, s_post, w, d, t, h, at_x, at_y, tx, ty, kk,
                     lo, hi, u, acc, first, idx, ret_x, ret_y, ret_p)

    def _datapath(self, m: Module, io: _Units, pf: _Profile, wk: _Work) -> None:
        """Feeds the trace step unit (trace ``i`` of the current slot at step ``kk``), the
        product unit (from the product memory's read port, its address held in ``q``) and the
        three final rounds."""
        tu, pu, i, twi, state_p = io.tu, io.pu, wk.i, wk.twi, pf.state_p
        own_t = Mux(i < 2, wk.tx, wk.ty)
        m.d.comb += [
            tu.tr.eq(wk.h[i]), tu.active.eq(twi[0]), tu.sig.eq(twi[1:54]), tu.sh54.eq(twi[54]),
            tu.imp_int.eq(twi[55:62]), tu.imp_frac.eq(twi[62:71]),
            tu.r_decay.eq(Mux(i < 2, state_p[0], state_p[2]) >> 11),
            tu.r_imp.eq(Mux(i < 2, state_p[1], state_p[3]) >> 57),
            tu.add.eq((own_t == wk.kk) & ~((i == 3) & pf.reward)),
        ]
        pw = io.prd.data
        m.d.comb += io.prd.addr.eq(wk.q)
        dep = pw[2:4]
        m.d.comb += [
            pu.dep.eq(Mux(dep == 0, wk.tx != 0, Mux(dep == 1, wk.ty != 0, wk.u))),
            pu.s_mantissa.eq(pw[4:8].as_signed()), pu.s_exp.eq(pw[8:12]),
            pu.x0.eq(wk.tx != 0), pu.y0.eq(wk.ty != 0), pu.w.eq(wk.w), pu.d.eq(wk.d),
            pu.t.eq(wk.t), pu.acc_in.eq(wk.acc[pw[0:2]]), pu.start.eq(wk.first),
        ]
        for k in range(4):
            code = pw[12 + 4 * k:16 + 4 * k]
            m.d.comb += [pu.var[k].eq(Mux(code == VAR_NONE, LEARN_STATIC, code)),
                         pu.const[k].eq(pw[28 + 16 * k:44 + 16 * k].as_signed()),
                         pu.sgn[k].eq(pw[92 + k])]
        for k in range(5):
            m.d.comb += pu.trace[k].eq(Mux(dep == 0, wk.at_x[k],
                                           Mux(dep == 1, wk.at_y[k], wk.h[k])))
        r_round = state_p[4] >> 11
        for v, r in enumerate(io.rnd):
            m.d.comb += [r.acc.eq(wk.acc[v]), r.var.eq(v), r.sign_mode.eq(pf.sign_mode),
                         r.r_round.eq(r_round)]

    def _read_port(self, m: Module, io: _Units) -> None:
        """The host read port: addresses in the idle cycle of the request, data a cycle later."""
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
                m.d.comb += self.mem_rdata.eq(io.srd.data)
            with m.Case(1):
                m.d.comb += self.mem_rdata.eq(io.xrd.data)
            with m.Case(2):
                m.d.comb += self.mem_rdata.eq(io.yrd.data)
            with m.Default():
                m.d.comb += self.mem_rdata.eq(r_rng)

    def _idle_state(self, m: Module, io: _Units, pf: _Profile, wk: _Work) -> None:
        """IDLE: host reads and writes, the step strobes, and the start of a record or epoch."""
        n_p, p = self.caps.profiles, pf.p
        any_end = 0
        for qq in range(n_p):
            any_end = any_end | ((qq < self.n_prof) & (self.kk[qq] == pf.te_of[qq]))
        with m.State("IDLE"):
            m.d.comb += self.ready.eq(1)
            with m.If(self.mem_re):
                m.d.comb += [io.srd.addr.eq(self.mem_index), io.xrd.addr.eq(self.mem_index),
                             io.yrd.addr.eq(self.mem_index)]
                m.d.sync += self.mem_rvalid.eq(1)
            self._host_write(m, io.swr, io.xwr, io.ywr, io.pwr)
            with m.If(self.step_begin):
                for qq in range(n_p):
                    m.d.sync += self.kk[qq].eq(Mux(self.kk[qq] == pf.te_of[qq], 1,
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
                m.d.sync += [p.eq(0), wk.idx.eq(self.index)]
                m.next = "PRE_RD"
            with m.Elif(self.post):
                m.d.sync += [p.eq(0), wk.idx.eq(self.index)]
                m.next = "POST_RD"
            with m.Elif(self.reward):
                m.d.sync += [p.eq(self.profile), wk.idx.eq(self.index)]
                m.next = "REW_RD"

    def _record_states(self, m: Module, io: _Units, pf: _Profile, wk: _Work) -> None:
        """Spike records: read a slot, add the second-spike impulse, write it back."""
        n_p, p, idx, kk_p = self.caps.profiles, pf.p, wk.idx, pf.kk_p
        xrd, xwr, yrd, ywr = io.xrd, io.xwr, io.yrd, io.ywr
        xbase, ybase = pf.xbase, pf.ybase
        y_r = pf.state_p[3] >> 57
        with m.State("PRE_RD"):
            m.d.comb += xrd.addr.eq(xbase + idx)
            m.next = "PRE_WR"
        with m.State("PRE_WR"):
            x1, x2, txo = xrd.data[:7], xrd.data[7:14], xrd.data[14:20]
            multi = (txo != 0) & (txo != kk_p)
            m.d.comb += [xwr.addr.eq(xbase + idx), xwr.en.eq(1), xwr.data.eq(Cat(
                Mux(multi, _impulse(x1, pf.imp_int(0), pf.imp_frac(0), 0), x1),
                Mux(multi, _impulse(x2, pf.imp_int(1), pf.imp_frac(1), 0), x2),
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
                imp = _impulse(yk, pf.imp_int(2 + k), pf.imp_frac(2 + k), y_r)
                skip = pf.reward if k == 1 else 0
                ys.append(Mux(multi & ~skip, imp, yk))
            m.d.comb += [ywr.addr.eq(ybase + idx), ywr.en.eq(1),
                         ywr.data.eq(Cat(*ys, kk_p))]
            self._next_profile(m, p, n_p, "POST_RD")
        with m.State("REW_RD"):
            m.d.comb += yrd.addr.eq(ybase + idx)
            m.next = "REW_WR"
        with m.State("REW_WR"):
            y2 = yrd.data[7:14]
            imp = _impulse(y2, pf.imp_int(3), pf.imp_frac(3), 0)
            m.d.comb += [ywr.addr.eq(ybase + idx), ywr.en.eq(1),
                         ywr.data.eq(Cat(yrd.data[:7], imp, yrd.data[14:27]))]
            m.next = "IDLE"

    def _synapse_states(self, m: Module, io: _Units, pf: _Profile, wk: _Work) -> None:
        """Epoch phase, per plastic synapse: read it and its slots, replay, evaluate, write."""
        n_p, p, ab, nb = self.caps.profiles, pf.p, self.ab, self.nb
        sdat, xrd, yrd, h, acc = io.srd.data, io.xrd, io.yrd, wk.h, wk.acc
        with m.State("E0"):
            with m.If(pf.kk_p == pf.te):
                for qq in range(n_p):
                    with m.If(p == qq):
                        m.d.sync += [self.rng[qq][4].eq(xorshift64_next(self.rng[qq][4])),
                                     self.epoch[qq].eq(self.epoch[qq] + 1)]
                m.d.sync += [wk.u.eq(pf.dec_on & (((pf.epoch_p + 1) & pf.dec_mask) == 0)),
                             wk.j.eq(pf.syn_start), wk.slot.eq(0)]
                with m.If(pf.syn_none):
                    m.next = "X_RD"
                with m.Else():
                    m.next = "S_RD"
            with m.Else():
                self._next_profile(m, p, n_p, "E0")
        with m.State("S_RD"):
            m.d.comb += io.srd.addr.eq(wk.j)
            m.next = "S_XY"
        with m.State("S_XY"):
            m.d.comb += [xrd.addr.eq(pf.xbase + sdat[:ab]),
                         yrd.addr.eq(pf.ybase + sdat[ab:ab + nb])]
            o = ab + nb
            m.d.sync += [wk.s_pre.eq(sdat[:ab]), wk.s_post.eq(sdat[ab:o]),
                         wk.w.eq(sdat[o:o + 10].as_signed()),
                         wk.d.eq(sdat[o + 10:o + 20].as_signed()),
                         wk.t.eq(sdat[o + 20:o + 30].as_signed())]
            if self.caps.eb:
                m.d.sync += self._entry.eq(sdat[o + 30:o + 30 + self.caps.eb])
            m.next = "S_LAT"
        with m.State("S_LAT"):
            txn, tyn = xrd.data[14:20], yrd.data[21:27]
            vals = [xrd.data[:7], xrd.data[7:14], yrd.data[:7], yrd.data[7:14], yrd.data[14:21]]
            for k in range(5):
                m.d.sync += [h[k].eq(vals[k]), wk.at_x[k].eq(vals[k]), wk.at_y[k].eq(vals[k])]
            m.d.sync += [wk.tx.eq(txn), wk.ty.eq(tyn), wk.kk.eq(1), wk.i.eq(0), wk.lo.eq(0),
                         wk.hi.eq(4), acc[0].eq(wk.w << 7), acc[1].eq(wk.d << 7),
                         acc[2].eq(wk.t << 7), wk.ret_x.eq(0), wk.ret_y.eq(0), wk.ret_p.eq(1)]
            m.next = "REPLAY"
        self._replay_state(m, io, pf, wk)
        self._product_states(m, io, pf, wk)

    def _replay_state(self, m: Module, io: _Units, pf: _Profile, wk: _Work) -> None:
        """REPLAY: one trace-step a cycle over traces ``lo..hi`` and steps ``1..te``, latching
        the values at ``tx`` and ``ty``; then on to the products or the slot write-back."""
        i, kk = wk.i, wk.kk
        with m.State("REPLAY"):
            m.d.sync += wk.h[i].eq(io.tu.out)
            with m.If(kk == wk.tx):
                m.d.sync += wk.at_x[i].eq(io.tu.out)
            with m.If(kk == wk.ty):
                m.d.sync += wk.at_y[i].eq(io.tu.out)
            with m.If(i == wk.hi):
                m.d.sync += [i.eq(wk.lo), kk.eq(kk + 1)]
                with m.If(kk == pf.te):
                    with m.If(wk.ret_p):
                        m.d.sync += [wk.q.eq(pf.prod_start)]
                        m.next = "P_RD"
                    with m.Elif(wk.ret_x):
                        m.next = "X_WR"
                    with m.Else():
                        m.next = "Y_WR"
            with m.Else():
                m.d.sync += i.eq(i + 1)

    def _product_states(self, m: Module, io: _Units, pf: _Profile, wk: _Work) -> None:
        """Every product of the rule through the product unit; then round and write back."""
        pu, pw, q, j, rnd = io.pu, io.prd.data, wk.q, wk.j, io.rnd
        with m.State("P_RD"):
            m.d.sync += wk.first.eq(1)
            m.next = "P_EV"
        with m.State("P_EV"):
            m.d.sync += wk.first.eq(0)
            with m.If(pu.done):
                m.d.sync += [wk.acc[pw[0:2]].eq(pu.acc_out), q.eq(q + 1)]
                with m.If(q + 1 == pf.prod_end):
                    m.next = "FIN"
                with m.Else():
                    m.next = "P_RD"
        with m.State("FIN"):
            nw = Mux(pf.targets[0], rnd[0].out, wk.w)
            nd = Mux(pf.targets[1], rnd[1].out, wk.d)
            nt = Mux(pf.targets[2], rnd[2].out, wk.t)
            entry = [self._entry[:self.caps.eb]] if self.caps.eb else []
            m.d.comb += [io.swr.addr.eq(j), io.swr.en.eq(1),
                         io.swr.data.eq(Cat(wk.s_pre, wk.s_post, nw[:10], nd[:10], nt[:10],
                                            *entry)),
                         self.wb_en.eq(1), self.wb_weight.eq(nw)]
            m.d.sync += j.eq(j + 1)
            with m.If(j + 1 == pf.syn_end):
                m.d.sync += wk.slot.eq(0)
                m.next = "X_RD"
            with m.Else():
                m.next = "S_RD"

    def _slot_states(self, m: Module, io: _Units, pf: _Profile, wk: _Work) -> None:
        """Epoch phase, per pre and post slot: replay once more, write the end-of-epoch traces
        with a cleared spike time."""
        xrd, xwr, yrd, ywr, h, slot = io.xrd, io.xwr, io.yrd, io.ywr, wk.h, wk.slot
        xbase, ybase = pf.xbase, pf.ybase
        with m.State("X_RD"):
            m.d.comb += xrd.addr.eq(xbase + slot)
            m.next = "X_LAT"
        with m.State("X_LAT"):
            m.d.sync += [h[0].eq(xrd.data[:7]), h[1].eq(xrd.data[7:14]),
                         wk.tx.eq(xrd.data[14:20]), wk.ty.eq(0), wk.kk.eq(1), wk.i.eq(0),
                         wk.lo.eq(0), wk.hi.eq(1), wk.ret_x.eq(1), wk.ret_p.eq(0)]
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
                         h[4].eq(yrd.data[14:21]), wk.ty.eq(yrd.data[21:27]), wk.tx.eq(0),
                         wk.kk.eq(1), wk.i.eq(2), wk.lo.eq(2), wk.hi.eq(4), wk.ret_x.eq(0),
                         wk.ret_p.eq(0)]
            m.next = "REPLAY"
        with m.State("Y_WR"):
            m.d.comb += [ywr.addr.eq(ybase + slot), ywr.en.eq(1),
                         ywr.data.eq(Cat(h[2], h[3], h[4], C(0, 6)))]
            with m.If(slot + 1 == self.n_n):
                self._next_profile(m, pf.p, self.caps.profiles, "E0")
            with m.Else():
                m.d.sync += slot.eq(slot + 1)
                m.next = "Y_RD"

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
