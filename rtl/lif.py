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
        phase = Signal(range(4))
        busy = Signal()
        # latched operands
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
        # pipeline registers
        prod = Signal(signed(46))
        u_new = Signal(signed(32))
        v_upd = Signal(signed(32))

        # the one multiplier: operand pair chosen by the phase
        mx = Signal(signed(32))
        mf = Signal(unsigned(13))
        with m.If(self.start):
            m.d.comb += [mx.eq(self.u), mf.eq(4095 - self.du)]
        with m.Elif(phase == 1):
            m.d.comb += [mx.eq(v), mf.eq(4096 - dv)]
        with m.Elif(self.has_adaptive):
            m.d.comb += [mx.eq(theta), mf.eq(4096 - theta_decay)]
        m.d.sync += prod.eq(mx * mf)
        dec = Signal(signed(32))
        m.d.comb += dec.eq(trunc_decay(prod))

        operands = [
            v.eq(self.v), theta.eq(self.theta), ref.eq(self.ref), a.eq(self.a),
            bias_mant.eq(self.bias_mant), bias_exp.eq(self.bias_exp), dv.eq(self.dv),
            vth.eq(self.vth), reset_mode.eq(self.reset_mode),
            refractory.eq(self.refractory), theta_decay.eq(self.theta_decay),
            theta_inc.eq(self.theta_inc),
        ]
        if not self.latch_operands:
            m.d.comb += operands
        with m.If(self.start):
            m.d.sync += [busy.eq(1), phase.eq(1)]
            if self.latch_operands:
                m.d.sync += operands
        with m.Elif(busy):
            m.d.sync += phase.eq(phase + 1)
            with m.If(phase == 3):
                m.d.sync += [busy.eq(0), phase.eq(0)]

        # phase 1: current.  int32(decay(u)) + int32(a << 6), wrapped to int32, one correction.
        a6 = Signal(signed(32))
        uc = Signal(signed(32))
        m.d.comb += [a6.eq(Cat(C(0, 6), a[:26]).as_signed()),
                     uc.eq((dec + a6)[:32].as_signed())]
        wrapped = Mux(uc > (1 << 23), uc - (1 << 24), Mux(uc <= -(1 << 23), uc + (1 << 24), uc))
        with m.If(phase == 1):
            m.d.sync += u_new.eq(wrapped[:32].as_signed())

        # phase 2: voltage, saturated.  bias = bias_mant << bias_exp (>> for a negative exponent),
        # as a multiplication by a power of two (a DSP block rather than a barrel shifter):
        # m << e = m * 2**e, and m >> -e = (m * 2**(16 - (-e))) >> 16 exactly (floor division)
        shift = Signal(4)
        m.d.comb += shift.eq(Mux(bias_exp >= 0, bias_exp[:4], (bias_exp + 16)[:4]))
        scaled = Signal(signed(33))
        m.d.comb += scaled.eq(bias_mant * (C(1, 16) << shift)[:16])
        bias = Signal(signed(32))     # |bias_mant << 15| < 2**31
        m.d.comb += bias.eq(Mux(bias_exp >= 0, scaled[:32].as_signed(), scaled[16:].as_signed()))
        vsum = Signal(signed(35))     # decayed v + int32 u + bias
        m.d.comb += vsum.eq(dec + u_new + bias)
        with m.If(phase == 2):
            m.d.sync += v_upd.eq(Mux(vsum > STATE_MAX, STATE_MAX,
                                     Mux(vsum < -STATE_MAX, -STATE_MAX, vsum)))

        # phase 3: threshold, spike, reset, refractory, adaptation (dec = decayed theta)
        refr_now = Signal()
        v_cur = Signal(signed(32))
        vth_eff = Signal(signed(35))
        spike = Signal()
        v_after = Signal(signed(36))
        theta_sum = Signal(signed(34))
        # without the extensions the threshold's decayed theta and the refractory count are 0
        th = dec if self.has_adaptive else C(0, signed(32))
        m.d.comb += [
            refr_now.eq((ref != 0) if self.has_refractory else 0),
            v_cur.eq(Mux(refr_now, v, v_upd)),
            vth_eff.eq(Cat(C(0, 6), vth).as_unsigned() + th),
            spike.eq(~refr_now & (v_cur > vth_eff)),
            v_after.eq(Mux(spike, Mux(reset_mode, v_cur - vth_eff, 0), v_cur)),
            theta_sum.eq(th + theta_inc),
            self.done.eq(busy & (phase == 3)),
            self.u_new.eq(u_new),
            self.v_new.eq(v_after[:32].as_signed()),
            self.spike.eq(spike),
        ]
        if self.has_refractory:
            m.d.comb += self.ref_new.eq(Mux(refr_now, ref - 1, Mux(spike, refractory, 0)))
        if self.has_adaptive:
            m.d.comb += self.theta_new.eq(
                Mux(spike, Mux(theta_sum > STATE_MAX, STATE_MAX, theta_sum), dec)[:32].as_signed())
        return m
