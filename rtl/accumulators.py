"""The dendritic accumulator ring of a core: ``D`` banks, one per ring slot, in block RAM.

Both core microarchitectures (``NeuronCore``, ``SerialCore``) keep their accumulators the same
way, so the banks and their port sharing live here once.  Bank ``b`` holds slot ``b`` of the ring
``[(t + 1 + delay) mod D]`` for every neuron, ``acc_classes`` fields of ``acc_bits`` each.  Each
bank has one read and one write port: the update engine only touches bank ``slot`` (read the
neuron's word, then clear it) and the synapse engine only the others (read, then add a weight),
so both engines run concurrently without port conflicts (docs/microarchitecture.md section 7).

Timing (registered reads): the word of neuron ``neuron`` in bank ``slot`` is on ``current`` one
cycle after it is presented; the synapse engine presents ``syn_neuron`` in its first cycle and
strobes ``add`` (with ``add_bank``/``add_neuron``/``add_class``/``weight``) in the next, when the
old word is on the read port; a read in the cycle after an ``add`` sees the new word.
"""

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.rtl.params import MeshParams

__all__ = ["AccumulatorRing"]


class AccumulatorRing(wiring.Component):
    """``ring_slots`` banks of ``neurons`` words; see the module docstring for the protocol.

    Ports: ``slot`` (the current step's bank), ``neuron`` and ``clear_current`` (the update
    engine's read address and clear strobe), ``current`` (its word), ``syn_neuron`` (the synapse
    engine's read address), ``add``/``add_bank``/``add_neuron``/``add_class``/``weight`` (its
    read-modify-write), ``clear`` / ``clearing`` (zero every bank, one neuron per cycle).
    """

    def __init__(self, params: MeshParams) -> None:
        self.params = params
        D, n = params.ring_slots, params.neurons
        width = params.acc_classes * params.acc_bits
        super().__init__({
            "slot": In(range(D)), "neuron": In(range(n + 1)), "clear_current": In(1),
            "current": Out(unsigned(width)),
            "syn_neuron": In(range(n)), "add": In(1), "add_bank": In(range(D)),
            "add_neuron": In(range(n)), "add_class": In(range(max(params.acc_classes, 2))),
            "weight": In(signed(9)),
            "clear": In(1), "clearing": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        D, CL, AB = p.ring_slots, p.acc_classes, p.acc_bits
        banks = []
        for b in range(D):
            mem = m.submodules[f"bank{b}"] = Memory(shape=unsigned(CL * AB), depth=p.neurons,
                                                    init=[])
            banks.append((mem.read_port(), mem.write_port()))

        sweep = Signal(range(p.neurons))
        with m.If(self.clear):
            m.d.sync += [self.clearing.eq(1), sweep.eq(0)]
        with m.Elif(self.clearing):
            m.d.sync += sweep.eq(sweep + 1)
            with m.If(sweep == p.neurons - 1):
                m.d.sync += self.clearing.eq(0)

        with m.Switch(self.slot):
            for b in range(D):
                with m.Case(b):
                    m.d.comb += self.current.eq(banks[b][0].data)

        # the synapse engine's word after adding the weight to its class
        old_word = Signal(CL * AB)
        with m.Switch(self.add_bank):
            for b in range(D):
                with m.Case(b):
                    m.d.comb += old_word.eq(banks[b][0].data)
        new_word = Signal(CL * AB)
        for c in range(CL):
            field = old_word[c * AB:(c + 1) * AB]
            m.d.comb += new_word[c * AB:(c + 1) * AB].eq(
                Mux(self.add_class == c, (field + self.weight)[:AB], field))

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
