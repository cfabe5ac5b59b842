"""PyNN's standard cell and synapse types, as far as the chip's arithmetic carries them.

Supported: ``IF_curr_exp`` and ``IF_curr_delta`` (Loihi's CUBA LIF is exactly a leaky
integrate-and-fire neuron with one exponentially decaying input current, or none), the spike
sources ``SpikeSourceArray`` and ``SpikeSourcePoisson`` (host input channels) and
``StaticSynapse`` and ``STDPMechanism`` (see :mod:`spikefab.pynn.plasticity`).  Parameters
keep their PyNN names and units (identity translations): they are turned into chip numbers only when the network is compiled (:mod:`spikefab.pynn.lowering`).

Every other standard type exists under its PyNN name so that a script fails with a
:class:`~spikefab.errors.ModelError` saying *why* the chip cannot run it, instead of an
``AttributeError``: conductance-based synapses (the chip's synaptic input is a current, not a
conductance times a driving force), alpha-shaped currents (one first-order current per neuron),
adaptation and exponential terms, STDP rules other than the pair rule with additive or
multiplicative weight dependence, and current injection.
"""

from __future__ import annotations

from pyNN.standardmodels import build_translations, cells, synapses

from spikefab.errors import ModelError

__all__ = ["IF_curr_exp", "IF_curr_delta", "SpikeSourceArray", "SpikeSourcePoisson",
           "StaticSynapse", "STDPMechanism", "SpikePairRule", "AdditiveWeightDependence",
           "MultiplicativeWeightDependence", "SUPPORTED_CELLS"]


def _identity(*names: str):
    return build_translations(*[(n, n) for n in names])


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = _identity(*cells.IF_curr_exp.default_parameters)


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    translations = _identity(*cells.IF_curr_delta.default_parameters)


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity("spike_times")


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity("rate", "start", "duration")


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = _identity("weight", "delay")

    def _get_minimum_delay(self) -> float:
        from spikefab.pynn.simulator import state
        d = state.min_delay
        return state.dt if d == "auto" else d


class STDPMechanism(synapses.STDPMechanism):
    """PyNN's STDP synapse, run by the chip's learning engine (:mod:`spikefab.pynn.plasticity`).

    Accepts ``SpikePairRule`` with ``AdditiveWeightDependence`` or
    ``MultiplicativeWeightDependence``; what the engine cannot express is refused when the
    network is compiled."""

    base_translations = _identity("weight", "delay", "dendritic_delay_fraction")

    def _get_minimum_delay(self) -> float:
        from spikefab.pynn.simulator import state
        d = state.min_delay
        return state.dt if d == "auto" else d


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = _identity(*synapses.SpikePairRule.default_parameters)


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _identity("w_min", "w_max")


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _identity("w_min", "w_max")


SUPPORTED_CELLS = ("IF_curr_exp", "IF_curr_delta", "SpikeSourceArray", "SpikeSourcePoisson")

#: Unsupported standard types and the reason the chip cannot run them.
_UNSUPPORTED = {
    "IF_curr_alpha": "alpha-shaped synaptic currents need a second state variable per synapse "
                     "type; the chip's neuron has one first-order (exponential) current",
    "IF_cond_exp": "conductance-based synapses multiply by a driving force (E_rev - v); the "
                   "chip's synaptic input is a current",
    "IF_cond_alpha": "conductance-based synapses multiply by a driving force (E_rev - v); the "
                     "chip's synaptic input is a current",
    "IF_cond_exp_gsfa_grr": "conductance-based synapses and adaptation conductances",
    "IF_facets_hardware1": "conductance-based synapses",
    "HH_cond_exp": "Hodgkin-Huxley channels",
    "EIF_cond_alpha_isfa_ista": "exponential spike initiation and adaptation currents",
    "EIF_cond_exp_isfa_ista": "exponential spike initiation and adaptation currents",
    "Izhikevich": "the quadratic Izhikevich membrane",
    "GIF_cond_exp": "generalized integrate-and-fire adaptation",
    "SpikeSourcePoissonRefractory": "refractory Poisson sources",
    "SpikeSourceGamma": "gamma-process sources",
    "SpikeSourceInhGamma": "inhomogeneous gamma-process sources",
    "TsodyksMarkramSynapse": "short-term plasticity",
    "SimpleStochasticSynapse": "stochastic synapses",
    "StochasticTsodyksMarkramSynapse": "stochastic short-term plasticity",
    "MultiQuantalSynapse": "multi-quantal synapses",
    "ElectricalSynapse": "gap junctions",
    "AdditivePotentiationMultiplicativeDepression": "this weight dependence (STDP runs as "
                                                    "SpikePairRule with Additive or "
                                                    "MultiplicativeWeightDependence)",
    "GutigWeightDependence": "this weight dependence (its power law has no sum-of-products "
                             "form; use Additive or MultiplicativeWeightDependence)",
    "Vogels2011Rule": "this timing dependence (STDP runs as SpikePairRule)",
    "DCSource": "current injection (use the cell's i_offset for a constant current)",
    "ACSource": "current injection",
    "StepCurrentSource": "current injection",
    "NoisyCurrentSource": "current injection",
}


def _unsupported(type_name: str, reason: str) -> type:
    def __init__(self, *args, **kwargs):
        raise ModelError(f"{type_name} is not supported by spikefab.pynn: {reason}; supported "
                         f"types are {', '.join(SUPPORTED_CELLS)} with StaticSynapse")
    return type(type_name, (), {"__init__": __init__,
                                "__doc__": f"Not supported on the chip: {reason}."})


for _name, _reason in _UNSUPPORTED.items():
    globals()[_name] = _unsupported(_name, _reason)
    __all__.append(_name)
