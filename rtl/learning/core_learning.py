"""A core's learning engine with its spike recorder and its step phase.

During a step the core's synapse engine reports every packet it pops (``hit``, the input axon),
every reward synapse it walks (``rew``: the entry's neuron and reward profile, from the core's
``LEARN_REWARD`` marks) and its update engine every spike (``spike``, the neuron); the recorder
keeps each distinct axon and each neuron once, in arrival order, in two small lists (a bit per
axon removes repeats), and the reward synapses of an axon's first packet in a third (a repeated
axon's are not recorded: the contract's ``record_reward`` counts an axon once per step).
After the step's deliveries (the mesh's quiescence) ``start`` runs the learning phase: the
engine's ``step_begin``, one ``pre`` per listed axon, one ``post`` per listed neuron, one
``reward`` per listed reward synapse, ``step_end`` (and the epoch phases it starts), one strobe
whenever the engine is ready.  ``done`` says the phase is over (or that the core has no learning
profile and needs none); the mesh waits for every core's ``done`` before the barrier.

Cycles from ``start`` to ``done`` (:func:`phase_cycles`, what the cycle engine charges):
``2 + (hits + spikes) * (1 + 2 * profiles) + 3 * rewards + end``, with ``end = 1`` when no
profile's epoch ends and ``1 + sum over profiles of (epoch_cycles(p) if its epoch ends else 1)``
otherwise.

Recording then replaying (instead of strobing the engine as packets arrive) keeps the synapse
and update engines' timing exactly that of a static core: the engine needs ``1 + 2 * profiles``
cycles per record, more than a packet's two.
"""

from amaranth.hdl import C, Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.arch.learning.words import EngineCaps
from spikefab.rtl.learning.engine import LearningEngine

__all__ = ["CoreLearning"]


class CoreLearning(wiring.Component):
    """Recorder + phase control around one :class:`LearningEngine` (``engine``)."""

    go: In(1)
    clear: In(1)
    hit: In(1)
    hit_axon: In(16)
    spike: In(1)
    spike_neuron: In(16)
    rew: In(1)
    rew_neuron: In(16)
    rew_profile: In(8)
    start: In(1)
    done: Out(1)
    active: Out(1)

    IDLE, BEGIN, ACT, WAIT = range(4)

    def __init__(self, caps: EngineCaps) -> None:
        self.caps = caps
        self.engine = LearningEngine(caps)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        caps, eng = self.caps, self.engine
        m.submodules.engine = eng
        m.d.comb += eng.clear.eq(self.clear)
        seen = Signal(caps.axons)
        amem = m.submodules.hit_list = Memory(shape=caps.ab, depth=caps.axons, init=[])
        nmem = m.submodules.spike_list = Memory(shape=caps.nb, depth=caps.neurons, init=[])
        arp, awp = amem.read_port(), amem.write_port()
        nrp, nwp = nmem.read_port(), nmem.write_port()
        pb = max(1, (caps.profiles - 1).bit_length())
        rmem = m.submodules.reward_list = Memory(shape=caps.nb + pb, depth=caps.synapses, init=[])
        rrp, rwp = rmem.read_port(), rmem.write_port()
        n_r, p_r = Signal(range(caps.synapses + 1)), Signal(range(caps.synapses + 1))
        first = Signal()          # the packet being walked is its axon's first of the step
        n_a, p_a = Signal(range(caps.axons + 1)), Signal(range(caps.axons + 1))
        n_n, p_n = Signal(range(caps.neurons + 1)), Signal(range(caps.neurons + 1))
        # recording
        new_hit = self.hit & ~seen.bit_select(self.hit_axon[:caps.ab], 1)
        m.d.comb += [awp.addr.eq(n_a), awp.data.eq(self.hit_axon), awp.en.eq(new_hit),
                     nwp.addr.eq(n_n), nwp.data.eq(self.spike_neuron), nwp.en.eq(self.spike)]
        with m.If(new_hit):
            m.d.sync += [seen.eq(seen | (C(1, caps.axons) << self.hit_axon[:caps.ab])),
                         n_a.eq(n_a + 1)]
        with m.If(self.spike):
            m.d.sync += n_n.eq(n_n + 1)
        new_rew = self.rew & first & (n_r < caps.synapses)
        m.d.comb += [rwp.addr.eq(n_r), rwp.data.eq(Cat(self.rew_neuron[:caps.nb],
                                                       self.rew_profile[:pb])),
                     rwp.en.eq(new_rew)]
        with m.If(self.hit):
            m.d.sync += first.eq(new_hit)
        with m.If(new_rew):
            m.d.sync += n_r.eq(n_r + 1)
        # phase
        st = Signal(range(4))
        adv_a, adv_n, adv_r = Signal(), Signal(), Signal()
        m.d.comb += [arp.addr.eq(Mux(adv_a, p_a + 1, p_a)), nrp.addr.eq(Mux(adv_n, p_n + 1, p_n)),
                     rrp.addr.eq(Mux(adv_r, p_r + 1, p_r)), self.active.eq(st != self.IDLE)]
        with m.If(adv_a):
            m.d.sync += p_a.eq(p_a + 1)
        with m.If(adv_n):
            m.d.sync += p_n.eq(p_n + 1)
        with m.If(adv_r):
            m.d.sync += p_r.eq(p_r + 1)
        m.d.comb += self.done.eq(((st == self.IDLE) & (eng.n_prof == 0))
                                 | ((st == self.WAIT) & eng.ready))
        with m.Switch(st):
            with m.Case(self.IDLE):
                with m.If(self.start & (eng.n_prof != 0)):
                    m.d.sync += st.eq(self.BEGIN)
            with m.Case(self.BEGIN):
                m.d.comb += eng.step_begin.eq(1)
                m.d.sync += st.eq(self.ACT)
            with m.Case(self.ACT):
                with m.If(eng.ready):
                    with m.If(p_a != n_a):
                        m.d.comb += [eng.pre.eq(1), eng.index.eq(arp.data), adv_a.eq(1)]
                    with m.Elif(p_n != n_n):
                        m.d.comb += [eng.post.eq(1), eng.index.eq(nrp.data), adv_n.eq(1)]
                    with m.Elif(p_r != n_r):
                        m.d.comb += [eng.reward.eq(1), eng.index.eq(rrp.data[:caps.nb]),
                                     eng.profile.eq(rrp.data[caps.nb:]), adv_r.eq(1)]
                    with m.Else():
                        m.d.comb += eng.step_end.eq(1)
                        m.d.sync += st.eq(self.WAIT)
        with m.If(self.go | self.clear):
            m.d.sync += [st.eq(self.IDLE), seen.eq(0), n_a.eq(0), n_n.eq(0), p_a.eq(0),
                         p_n.eq(0), n_r.eq(0), p_r.eq(0)]
        return m
