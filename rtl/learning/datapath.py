"""Learning-engine datapath units, bit-exact with :mod:`spikefab.arch.learning.engine`.

* :func:`xorshift64_next`: the hardware generator's step (:func:`spikefab.arch.learning.random.xorshift64`).
* :class:`TraceStep`: one step of a trace's history: the binary64 decay ``tr * exp(-1/tau)``
  rounded stochastically, then the impulse.  The decay factor is an IEEE binary64; the unit
  multiplies the 7-bit trace by its 53-bit significand exactly, rounds the 60-bit product to 53
  significant bits (round half to even, what the binary64 multiply in the reference does) and
  compares the fraction with the 53-bit uniform ``k * 2^-53`` as integers, so no comparison is
  inexact.  :func:`spikefab.arch.learning.layout.decay_operands` splits a factor into the significand and shift the unit takes.
* :class:`ProductUnit`: one product of a rule for one synapse in five cycles with one shared
  32 x 10-bit multiplier (four factor slots, then scale, shift and saturating accumulate).
* :class:`FinalRound`: sign-mode floor, stochastic rounding of the accumulator and clipping of
  the synaptic variable to its range.
"""



from amaranth.hdl import Array, C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from spikefab.arch.image import LEARN_STATIC, LEARN_VARS
from spikefab.arch.learning.layout import PRODUCT_CYCLES, decay_operands
from spikefab.arch.learning.profile import W_ACC_U, W_S_MANT, W_TRACE
from spikefab.arch.learning.rule import FACTOR_WIDTH
from spikefab.arch.neuron import SIGN_EXCITATORY, SIGN_INHIBITORY

__all__ = ["xorshift64_next", "TraceStep", "ProductUnit", "FinalRound",
           "ACC_MIN", "ACC_MAX", "VAR_CODES"]

MASK64 = (1 << 64) - 1
ACC_MAX = 2 ** W_ACC_U - 1
ACC_MIN = -(2 ** W_ACC_U) - 1
TRACE_MAX = 2 ** W_TRACE - 1
#: factor variable -> its code in the image's ``learn_products.var`` column
VAR_CODES = {v: i for i, v in enumerate(LEARN_VARS)}
N_FACTORS = 4


def xorshift64_next(s):
    """The next xorshift64 state (shifts 13, 7, 17) of a 64-bit Value."""
    s = s ^ (s << 13)[:64]
    s = s ^ (s >> 7)
    s = s ^ (s << 17)[:64]
    return s[:64]


class TraceStep(wiring.Component):
    """Combinational: ``impulse(decay(tr))`` of one trace for one step of its history.

    ``active`` is ``tau != 0`` (otherwise the decayed value is 0), ``sh54`` selects a shift of 54
    (factor < 0.5), ``r_decay`` is the 53-bit integer ``k`` of the uniform ``k * 2^-53``; ``add``
    applies the impulse ``imp_int + (r_imp < imp_frac)`` clipped to 127.
    """

    tr: In(unsigned(7))
    active: In(1)
    sig: In(unsigned(53))
    sh54: In(1)
    r_decay: In(unsigned(53))
    add: In(1)
    imp_int: In(unsigned(7))
    imp_frac: In(unsigned(9))
    r_imp: In(unsigned(7))
    out: Out(unsigned(7))
    decayed: Out(unsigned(7))

    def elaborate(self, platform):
        m = Module()
        q = Signal(60)
        m.d.comb += q.eq(self.tr * self.sig)
        # round q to 53 significant bits, half to even: s = bit length - 53 (0..7)
        qr = Signal(61)
        with m.If(q[59]):
            m.d.comb += qr.eq(self._round(q, 7))
        for s in range(6, -1, -1):
            with m.Elif(q[52 + s]):
                m.d.comb += qr.eq(self._round(q, s))
        fl = Signal(8)
        frac = Signal(54)
        with m.If(self.sh54):
            m.d.comb += [fl.eq(qr >> 54), frac.eq(qr[:54])]
        with m.Else():
            m.d.comb += [fl.eq(qr >> 53), frac.eq(qr[:53])]
        rk = Mux(self.sh54, Cat(C(0, 1), self.r_decay), self.r_decay)
        dec = Signal(8)
        m.d.comb += dec.eq(Mux(self.active, fl + (rk < frac), 0))
        imp = Signal(9)
        m.d.comb += imp.eq(dec + self.imp_int + (self.r_imp < self.imp_frac))
        m.d.comb += [self.decayed.eq(dec),
                     self.out.eq(Mux(self.add, Mux(imp > TRACE_MAX, TRACE_MAX, imp), dec))]
        return m

    @staticmethod
    def _round(q, s: int):
        if s == 0:
            return q
        top = q >> s
        rem = q[:s]
        half = 1 << (s - 1)
        up = (rem > half) | ((rem == half) & top[0])
        return (top + up) << s


def _wrap32(v):
    return v[:32].as_signed()


def _clip(v, lo: int, hi: int):
    return Mux(v < lo, lo, Mux(v > hi, hi, v))


class ProductUnit(wiring.Component):
    """One product of a rule for one synapse, accumulated onto ``acc_in`` in five cycles.

    Operands are held stable from ``start`` until ``done``.  ``dep`` is the product's dependency
    value (x0, y0 or u: 0 or 1); ``var``/``const``/``sgn`` the four factor slots (var 255 =
    unused); ``trace`` the x1, x2, y1, y2, y3 values read at the dependency's time; ``x0``, ``y0``
    the synapse's pre/post spike bits; ``w``, ``d``, ``t`` its variables.  In cycle ``k``
    (0..3) slot ``k`` is multiplied in; in cycle 4 the scale is applied, ``done`` is high and
    ``acc_out`` (combinational) holds the saturated sum.
    """

    start: In(1)
    dep: In(1)
    s_mantissa: In(signed(4))
    s_exp: In(unsigned(4))
    var: In(unsigned(8)).array(N_FACTORS)
    const: In(signed(16)).array(N_FACTORS)
    sgn: In(1).array(N_FACTORS)
    trace: In(unsigned(7)).array(5)
    x0: In(1)
    y0: In(1)
    w: In(signed(10))
    d: In(signed(10))
    t: In(signed(10))
    acc_in: In(signed(17))
    done: Out(1)
    acc_out: Out(signed(17))

    def elaborate(self, platform):
        m = Module()
        step = Signal(range(PRODUCT_CYCLES))
        busy = Signal()
        prod = Signal(signed(32))
        with m.If(self.start):
            m.d.sync += [busy.eq(1), step.eq(1)]
        with m.Elif(busy):
            m.d.sync += step.eq(Mux(step == PRODUCT_CYCLES - 1, 0, step + 1))
            with m.If(step == PRODUCT_CYCLES - 1):
                m.d.sync += busy.eq(0)
        slot = Signal(range(N_FACTORS))
        m.d.comb += slot.eq(Mux(self.start, 0, step[:2]))
        var = Signal(8)
        cst = Signal(signed(16))
        sg = Signal()
        m.d.comb += [var.eq(Array(self.var)[slot]), cst.eq(Array(self.const)[slot]),
                     sg.eq(Array(self.sgn)[slot])]
        raw = Signal(signed(11))
        srcs = [self.x0, self.y0, *self.trace, self.w, self.d, self.t]
        with m.Switch(var):
            for code, src in enumerate(srcs):
                with m.Case(code):
                    m.d.comb += raw.eq(src)
        s = Signal(signed(18))
        m.d.comb += s.eq(raw + cst)
        val = Signal(signed(18))
        m.d.comb += val.eq(Mux(sg, Mux(s > 0, 1, Mux(s < 0, -1, 0)), s))
        fac = Signal(signed(11))
        width = Signal(4)
        with m.Switch(var):
            for code, name in enumerate(LEARN_VARS):
                b = FACTOR_WIDTH[name]
                with m.Case(code):
                    m.d.comb += [fac.eq(_clip(val, -(2 ** b), 2 ** b - 1)), width.eq(b)]
        mcur = Mux(self.start, self.dep, prod)
        mul = Signal(signed(32))
        m.d.comb += mul.eq(_wrap32(mcur * fac))
        used = var != LEARN_STATIC
        last = busy & (step == PRODUCT_CYCLES - 1)
        wsum = Signal(6)
        with m.If(self.start):
            m.d.sync += [prod.eq(Mux(used, mul, self.dep)), wsum.eq(Mux(used, width, 0))]
        with m.Elif(busy & ~last):
            m.d.sync += [prod.eq(Mux(used, mul, prod)), wsum.eq(wsum + Mux(used, width, 0))]
        # scale: m * mantissa, >> max(0, width + 4 - 15), << s_exp, saturate, accumulate
        scaled = Signal(signed(32))
        m.d.comb += scaled.eq(_wrap32(prod * self.s_mantissa))
        sh = Signal(6)
        m.d.comb += sh.eq(Mux(wsum + W_S_MANT > W_ACC_U, wsum + W_S_MANT - W_ACC_U, 0))
        shifted = Signal(signed(32))
        m.d.comb += shifted.eq(scaled >> sh)
        up = Signal(signed(32))
        m.d.comb += up.eq(_wrap32(shifted << self.s_exp))
        term = Signal(signed(17))
        m.d.comb += term.eq(_clip(up, ACC_MIN, ACC_MAX))
        tot = Signal(signed(18))
        m.d.comb += tot.eq(self.acc_in + term)
        m.d.comb += [self.done.eq(last), self.acc_out.eq(_clip(tot, ACC_MIN, ACC_MAX))]
        return m


class FinalRound(wiring.Component):
    """Combinational: the new value of a synaptic variable from its accumulator.

    ``var`` 0 = w, 1 = d, 2 = t; ``sign_mode`` as in the image; ``r_round`` the 53-bit integer of
    the synapse stream's uniform.
    """

    acc: In(signed(17))
    var: In(unsigned(2))
    sign_mode: In(unsigned(2))
    r_round: In(unsigned(53))
    out: Out(signed(10))

    def elaborate(self, platform):
        m = Module()
        a = Signal(signed(17))
        is_w = self.var == 0
        with m.If(is_w & (self.sign_mode == SIGN_EXCITATORY) & (self.acc < 0)):
            m.d.comb += a.eq(0)
        with m.Elif(is_w & (self.sign_mode == SIGN_INHIBITORY) & (self.acc > 0)):
            m.d.comb += a.eq(0)
        with m.Elif((self.var == 1) & (self.acc < 0)):
            m.d.comb += a.eq(0)
        with m.Else():
            m.d.comb += a.eq(self.acc)
        frac = a[:7]
        # r < frac * 2^46 exactly when r's top 7 bits are < frac (its low 46 bits cannot tip it)
        up = self.r_round[46:53] < frac
        v = Signal(signed(12))
        m.d.comb += v.eq((a >> 7) + up)
        lo = Signal(signed(10))
        hi = Signal(signed(10))
        with m.Switch(self.var):
            with m.Case(0):
                m.d.comb += [lo.eq(Mux(self.sign_mode == SIGN_EXCITATORY, 0, Mux(
                    self.sign_mode == SIGN_INHIBITORY, -255, -256))),
                    hi.eq(Mux(self.sign_mode == SIGN_INHIBITORY, 0, 255))]
            with m.Case(1):
                m.d.comb += [lo.eq(0), hi.eq(255)]
            with m.Default():
                m.d.comb += [lo.eq(-257), hi.eq(255)]
        m.d.comb += self.out.eq(Mux(v < lo, lo, Mux(v > hi, hi, v)))
        return m
