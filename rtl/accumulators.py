"""The dendritic accumulator ring of a core: ``D`` banks, one per ring slot, in block RAM.

Both core microarchitectures (``NeuronCore``, ``SerialCore``) keep their accumulators the same
way, so the banks and their port sharing live here once.  Bank ``b`` holds slot ``b`` of the ring
``[(t + 1 + delay) mod D]`` for every neuron: ``acc_classes`` fields of ``acc_bits`` each, then a
*bucket tag* of :attr:`~spikefab.rtl.params.MeshParams.acc_tag_bits` (the delay of the word's
last add).  Each bank has one read and one write port: the update engine only touches bank
``slot`` (read the neuron's word, then clear it) and the synapse engine only the others (read,
then add a weight), so both engines run concurrently without port conflicts
(docs/microarchitecture.md section 7).

**Flooring per (source step, delay), as Lava's DelayDense.**  A slot read in step ``T`` collects
one *bucket* per delay ``d``: the adds of step ``T - 1 - d``.  Lava shifts each bucket's sum by
the class's weight exponent ``e`` and adds the results; a floor of the slot's whole sum differs
when ``e < 0``.  The ring keeps the sum exact without storing the buckets apart: before the first
add of a new bucket (the word's tag is not the add's delay) every class field ``x`` with
``k = -e > 0`` is rounded down to a multiple of ``2**k`` (its low ``k`` bits cleared), so that
``floor((2**k q + b) / 2**k) = q + floor(b / 2**k)`` and the read's one shift gives the sum of
the buckets' floors exactly.  Within a window the buckets arrive in descending delay (one per
step), so the delay identifies the bucket; a cleared word is 0, which rounding leaves 0.  The
rounding can move a field down by ``2**k - 1`` per bucket;
:func:`~spikefab.rtl.params.check_rtl_image` bounds that with the weights.

Timing (registered reads): the word of neuron ``neuron`` in bank ``slot`` is on ``current`` one
cycle after it is presented; the synapse engine presents ``syn_neuron`` in its first cycle and
strobes ``add`` (with ``add_bank``/``add_delay``/``add_neuron``/``add_class``/``weight``) in the
next, when the old word is on the read port; a read in the cycle after an ``add`` sees the new
word.
"""

from amaranth.hdl import C, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.rtl.params import MeshParams

__all__ = ["AccumulatorRing"]


class AccumulatorRing(wiring.Component):
    """``ring_slots`` banks of ``neurons`` words; see the module docstring for the protocol.

    Ports: ``slot`` (the current step's bank), ``neuron`` and ``clear_current`` (the update
    engine's read address and clear strobe), ``current`` (its class fields; the tag is left
    off), ``syn_neuron`` (the synapse engine's read address),
    ``add``/``add_bank``/``add_delay``/``add_neuron``/``add_class``/``weight`` (its
    read-modify-write), ``acc_exps`` (the classes' weight exponents, for the rounding),
    ``clear`` / ``clearing`` (zero every bank, one neuron per cycle).
    """

    def __init__(self, params: MeshParams) -> None:
        self.params = params
        D, n = params.ring_slots, params.neurons
        super().__init__({
            "slot": In(range(D)), "neuron": In(range(n + 1)), "clear_current": In(1),
            "current": Out(unsigned(params.acc_classes * params.acc_bits)),
            "syn_neuron": In(range(n)), "add": In(1), "add_bank": In(range(D)),
            "add_delay": In(range(params.max_delay + 1)),
            "add_neuron": In(range(n)), "add_class": In(range(max(params.acc_classes, 2))),
            "weight": In(signed(9)),
            "acc_exps": In(data.ArrayLayout(signed(5), params.acc_classes)),
            "clear": In(1), "clearing": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        D, n = p.ring_slots, p.neurons
        banks = []
        for b in range(D):
            mem = m.submodules[f"bank{b}"] = Memory(shape=unsigned(p.acc_word_bits), depth=n,
                                                    init=[])
            banks.append((mem.read_port(), mem.write_port()))

        sweep = Signal(range(n))
        with m.If(self.clear):
            m.d.sync += [self.clearing.eq(1), sweep.eq(0)]
        with m.Elif(self.clearing):
            m.d.sync += sweep.eq(sweep + 1)
            with m.If(sweep == n - 1):
                m.d.sync += self.clearing.eq(0)

        with m.Switch(self.slot):
            for b in range(D):
                with m.Case(b):
                    m.d.comb += self.current.eq(banks[b][0].data[:len(self.current)])

        old_word = Signal(p.acc_word_bits)
        with m.Switch(self.add_bank):
            for b in range(D):
                with m.Case(b):
                    m.d.comb += old_word.eq(banks[b][0].data)
        new_word = self._added(m, old_word)

        for b, (rport, wport) in enumerate(banks):
            cur = self.slot == b
            m.d.comb += rport.addr.eq(Mux(cur, self.neuron, self.syn_neuron))
            with m.If(self.clearing):
                m.d.comb += [wport.addr.eq(sweep), wport.data.eq(0), wport.en.eq(1)]
            with m.Elif(cur):
                m.d.comb += [wport.addr.eq(self.neuron), wport.data.eq(0),
                             wport.en.eq(self.clear_current)]
            with m.Else():
                m.d.comb += [wport.addr.eq(self.add_neuron), wport.data.eq(new_word),
                             wport.en.eq(self.add & (self.add_bank == b))]
        return m

    def _added(self, m: Module, old_word) -> Signal:
        """The synapse engine's word: rounded if a new bucket starts, weight added, tag set."""
        p = self.params
        CL, AB, TB = p.acc_classes, p.acc_bits, p.acc_tag_bits
        new_word = Signal(p.acc_word_bits)
        new_bucket = Signal()
        if TB:
            m.d.comb += [new_bucket.eq(old_word[CL * AB:] != self.add_delay),
                         new_word[CL * AB:].eq(self.add_delay)]
        for c in range(CL):
            field = old_word[c * AB:(c + 1) * AB]
            e = self.acc_exps[c]
            # low bits a new bucket clears: -e of them for a right shift, none otherwise
            cut = Signal(range(17), name=f"cut{c}")
            m.d.comb += cut.eq(Mux(new_bucket & (e < 0), (-e)[:5], 0))
            kept = Signal(AB, name=f"kept{c}")
            m.d.comb += kept.eq(field & (C((1 << AB) - 1, AB) << cut)[:AB])
            m.d.comb += new_word[c * AB:(c + 1) * AB].eq(
                Mux(self.add_class == c, (kept + self.weight)[:AB], kept))
        return new_word
