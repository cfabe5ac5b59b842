"""The neuron-update datapath: one Loihi LIF step (:func:`spikefab.arch.neuron.lif_step`).

:class:`LifUnit` computes one neuron in four cycles with **one** shared 32 x 13-bit multiplier
(current decay, voltage decay, threshold decay, in that order), which is what lets an iCE40 UP5K
with 8 DSP blocks hold several cores.  All of Lava's quirks are reproduced bit for bit:

* ``trunc0`` of the decay product is ``(p + (p < 0 ? 4095 : 0)) >> 12``;
* the current is ``int32(decay(u)) + int32(a << 6)`` in int32, then one +-2**24 correction
  (``u == 2**23`` is kept);
* the voltage saturates at +-(2**23 - 1); the threshold compare is strict ``v > (vth << 6) + theta``;
* reset to zero or by subtraction, refractory freeze, adaptive threshold — everything the image's
  profile enables.

State words are 32 bits wide, the width of the image's ``STATE_DTYPE``: the reference stores its
int64 results into those int32 fields, so truncating to 32 bits on write-back is exact.

Timing: operands must be valid in the cycle ``start`` is high (cycle 0); they are latched.  The
results are valid (combinationally) in cycle 3 while ``done`` is high.
"""

from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["LifUnit", "trunc_decay"]

STATE_MAX = (1 << 23) - 1


def trunc_decay(product):
    """``trunc0(product / 4096)`` of a signed product (a Value)."""
    return ((product + Mux(product < 0, 4095, 0)) >> 12)


class LifUnit(wiring.Component):
    """Four-cycle LIF update of one neuron with one shared multiplier.

    Parameters
    ----------
    latch_operands:
        ``True`` (default): operands are sampled in the ``start`` cycle.  ``False``: the caller
        holds them stable from ``start`` until ``done`` (the serial core assembles them in its
        own registers over several cycles, so latching them again would only cost flip-flops).
    refractory, adaptive:
        Build the refractory counter / the adaptive threshold (a target's ``max_refractory`` /
        ``adaptive_threshold``).  Without them ``ref`` and ``theta`` stay 0, which is what the
        reference computes for every image such a target accepts (``check_fits``).
    """

    start: In(1)
    # state and input
    u: In(signed(32))
    v: In(signed(32))
    theta: In(signed(32))
    ref: In(unsigned(8))
    a: In(signed(32))
    # per-neuron parameters
    bias_mant: In(signed(16))
    bias_exp: In(signed(5))
    # profile
    du: In(unsigned(12))
    dv: In(unsigned(12))
    vth: In(unsigned(17))
    reset_mode: In(1)
    refractory: In(unsigned(8))
    theta_decay: In(unsigned(12))
    theta_inc: In(signed(32))
    # results (valid while done)
    done: Out(1)
    u_new: Out(signed(32))
    v_new: Out(signed(32))
    theta_new: Out(signed(32))
    ref_new: Out(unsigned(8))
    spike: Out(1)

    def __init__(self, latch_operands: bool = True, refractory: bool = True,
                 adaptive: bool = True) -> None:
        self.latch_operands = latch_operands
        self.has_refractory = refractory      # (``refractory`` is the profile's input port)
        self.has_adaptive = adaptive
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        r = self._registers()
        dec = self._multiplier(m, r)
        self._sequence(m, r)
        self._current(m, r, dec)
        self._voltage(m, r, dec)
        self._threshold(m, r, dec)
        return m

    def _registers(self) -> "_Registers":
        """The phase counter, the latched operands and the pipeline registers."""
        phase = Signal(range(4))
        busy = Signal()
        v = Signal(signed(32))
        theta = Signal(signed(32))
        ref = Signal(unsigned(8))
        a = Signal(signed(32))
        bias_mant = Signal(signed(16))
        bias_exp = Signal(signed(5))
        dv = Signal(unsigned(12))
        vth = Signal(unsigned(17))
        reset_mode = Signal()
        refractory = Signal(unsigned(8))
        theta_decay = Signal(unsigned(12))
        theta_inc = Signal(signed(32))
        prod = Signal(signed(46))
        u_new = Signal(signed(32))
        v_upd = Signal(signed(32))
        return _Registers(phase, busy, v, theta, ref, a, bias_mant, bias_exp, dv, vth, reset_mode,
                          refractory, theta_decay, theta_inc, prod, u_new, v_upd)

    def _multiplier(self, m: Module, r: "_Registers") -> Signal:
        """The one multiplier, its operand pair chosen by the phase; returns the decayed value
        of the previous cycle's pair."""
        mx = Signal(signed(32))
        mf = Signal(unsigned(13))
        with m.If(self.start):
            m.d.comb += [mx.eq(self.u), mf.eq(4095 - self.du)]
        with m.Elif(r.phase == 1):
            m.d.comb += [mx.eq(r.v), mf.eq(4096 - r.dv)]
        with m.Elif(self.has_adaptive):
            m.d.comb += [mx.eq(r.theta), mf.eq(4096 - r.theta_decay)]
        m.d.sync += r.prod.eq(mx * mf)
        dec = Signal(signed(32))
        m.d.comb += dec.eq(trunc_decay(r.prod))
        return dec

    def _sequence(self, m: Module, r: "_Registers") -> None:
        """Operands in (latched at ``start`` or held by the caller), phases 1..3, done."""
        operands = [
            r.v.eq(self.v), r.theta.eq(self.theta), r.ref.eq(self.ref), r.a.eq(self.a),
            r.bias_mant.eq(self.bias_mant), r.bias_exp.eq(self.bias_exp), r.dv.eq(self.dv),
            r.vth.eq(self.vth), r.reset_mode.eq(self.reset_mode),
            r.refractory.eq(self.refractory), r.theta_decay.eq(self.theta_decay),
            r.theta_inc.eq(self.theta_inc),
        ]
        if not self.latch_operands:
            m.d.comb += operands
        with m.If(self.start):
            m.d.sync += [r.busy.eq(1), r.phase.eq(1)]
            if self.latch_operands:
                m.d.sync += operands
        with m.Elif(r.busy):
            m.d.sync += r.phase.eq(r.phase + 1)
            with m.If(r.phase == 3):
                m.d.sync += [r.busy.eq(0), r.phase.eq(0)]

    def _current(self, m: Module, r: "_Registers", dec) -> None:
        """Phase 1: int32(decay(u)) + int32(a << 6), wrapped to int32, one correction."""
        a6 = Signal(signed(32))
        uc = Signal(signed(32))
        m.d.comb += [a6.eq(Cat(C(0, 6), r.a[:26]).as_signed()),
                     uc.eq((dec + a6)[:32].as_signed())]
        wrapped = Mux(uc > (1 << 23), uc - (1 << 24), Mux(uc <= -(1 << 23), uc + (1 << 24), uc))
        with m.If(r.phase == 1):
            m.d.sync += r.u_new.eq(wrapped[:32].as_signed())

    def _voltage(self, m: Module, r: "_Registers", dec) -> None:
        """Phase 2: voltage, saturated.

        bias = bias_mant << bias_exp (>> for a negative exponent), as a multiplication by a
        power of two (a DSP block rather than a barrel shifter): m << e = m * 2**e, and
        m >> -e = (m * 2**(16 - (-e))) >> 16 exactly (floor division).
        """
        shift = Signal(4)
        m.d.comb += shift.eq(Mux(r.bias_exp >= 0, r.bias_exp[:4], (r.bias_exp + 16)[:4]))
        scaled = Signal(signed(33))
        m.d.comb += scaled.eq(r.bias_mant * (C(1, 16) << shift)[:16])
        bias = Signal(signed(32))     # |bias_mant << 15| < 2**31
        m.d.comb += bias.eq(Mux(r.bias_exp >= 0, scaled[:32].as_signed(),
                                scaled[16:].as_signed()))
        vsum = Signal(signed(35))     # decayed v + int32 u + bias
        m.d.comb += vsum.eq(dec + r.u_new + bias)
        with m.If(r.phase == 2):
            m.d.sync += r.v_upd.eq(Mux(vsum > STATE_MAX, STATE_MAX,
                                       Mux(vsum < -STATE_MAX, -STATE_MAX, vsum)))

    def _threshold(self, m: Module, r: "_Registers", dec) -> None:
        """Phase 3: threshold, spike, reset, refractory, adaptation (``dec`` = decayed theta)."""
        refr_now = Signal()
        v_cur = Signal(signed(32))
        vth_eff = Signal(signed(35))
        spike = Signal()
        v_after = Signal(signed(36))
        theta_sum = Signal(signed(34))
        # without the extensions the threshold's decayed theta and the refractory count are 0
        th = dec if self.has_adaptive else C(0, signed(32))
        m.d.comb += [
            refr_now.eq((r.ref != 0) if self.has_refractory else 0),
            v_cur.eq(Mux(refr_now, r.v, r.v_upd)),
            vth_eff.eq(Cat(C(0, 6), r.vth).as_unsigned() + th),
            spike.eq(~refr_now & (v_cur > vth_eff)),
            v_after.eq(Mux(spike, Mux(r.reset_mode, v_cur - vth_eff, 0), v_cur)),
            theta_sum.eq(th + r.theta_inc),
            self.done.eq(r.busy & (r.phase == 3)),
            self.u_new.eq(r.u_new),
            self.v_new.eq(v_after[:32].as_signed()),
            self.spike.eq(spike),
        ]
        if self.has_refractory:
            m.d.comb += self.ref_new.eq(Mux(refr_now, r.ref - 1, Mux(spike, r.refractory, 0)))
        if self.has_adaptive:
            m.d.comb += self.theta_new.eq(
                Mux(spike, Mux(theta_sum > STATE_MAX, STATE_MAX, theta_sum), dec)[:32].as_signed())


@dataclass
class _Registers:
    """The registers the phases of :meth:`LifUnit.elaborate` share: sequencing (``phase``,
    ``busy``), the latched operands (named as the ports) and the pipeline registers (``prod``
    of the multiplier, ``u_new`` after phase 1, ``v_upd`` after phase 2)."""

    phase: Signal
    busy: Signal
    v: Signal
    theta: Signal
    ref: Signal
    a: Signal
    bias_mant: Signal
    bias_exp: Signal
    dv: Signal
    vth: Signal
    reset_mode: Signal
    refractory: Signal
    theta_decay: Signal
    theta_inc: Signal
    prod: Signal
    u_new: Signal
    v_upd: Signal
