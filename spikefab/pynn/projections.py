"""``Projection``: connections kept as flat arrays until the network is compiled.

PyNN's connectors (AllToAll, OneToOne, FixedProbability, FixedNumberPre/Post, FromList,
FromFile, ...) are implemented once in ``pyNN.connectors`` and call back
:meth:`Projection._convergent_connect` once per postsynaptic cell; this backend appends the
indices, weights and delays to flat arrays (a CUBA benchmark has 320,000 synapses, too many for a
Python object each, which is what ``pyNN.mock`` keeps).  Indices are relative to ``pre`` and
``post`` as PyNN gives them (a view or an assembly); :mod:`spikefab.pynn.lowering` resolves them
to the underlying populations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyNN import common
from pyNN.space import Space

from spikefab.errors import ModelError
from spikefab.pynn import simulator
from spikefab.pynn.plasticity import STDP_PARAMETERS
from spikefab.pynn.standardmodels import STDPMechanism, StaticSynapse

__all__ = ["Projection", "Connection"]


class Connection(common.Connection):
    """One connection, made on request from the arrays (for ``Projection[i]`` and iteration)."""

    def __init__(self, projection: "Projection", k: int) -> None:
        self.presynaptic_index = int(projection._pre[k])
        self.postsynaptic_index = int(projection._post[k])
        self.weight = float(projection._weight[k])
        self.delay = float(projection._delay[k])

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


def _one_to_one_of_one(connector, pre, post):
    """PyNN 0.13's ``OneToOneConnector`` fails on NumPy 2 when ``pre`` has one cell (its
    connection map column is a 0-d ``numpy.bool_``); one cell onto one cell is the same
    connection as ``AllToAllConnector`` with self connections, which works; one cell onto
    several is refused, naming the equivalent ``FromListConnector``."""
    from pyNN.connectors import AllToAllConnector, OneToOneConnector
    if type(connector) is not OneToOneConnector or pre.size != 1:
        return connector
    if post.size != 1:
        raise ModelError(f"OneToOneConnector from {pre.label!r} (1 cell) onto {post.label!r} "
                         f"({post.size} cells): PyNN 0.13's connector cannot build this on "
                         f"NumPy 2; FromListConnector([(0, 0)]) makes the one connection")
    return AllToAllConnector(allow_self_connections=True, safe=connector.safe,
                             callback=connector.callback,
                             location_selector=connector.location_selector)


def _check_nan_weight(synapse_type, label: str) -> None:
    """A NaN weight is neither positive nor negative, so PyNN's sign check called it "Weights
    must be negative/positive ..."; name the value instead (other non-finite values are
    refused with the same words when the network is lowered)."""
    space = getattr(synapse_type, "parameter_space", None)
    if space is None or "weight" not in space.keys():
        return
    base = space["weight"].base_value
    if isinstance(base, (int, float, np.number, np.ndarray)) and not isinstance(base, bool):
        values = np.asarray(base)
        if values.dtype.kind in "fc" and np.isnan(values).any():
            raise ModelError(f"projection {label!r}: weight must be a finite number, not nan "
                             f"(nA for current-based synapses; >= 0 excitatory, <= 0 "
                             f"inhibitory)", where=f"projection {label!r}")


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(), label=None):
        if not postsynaptic_population.receptor_types:
            where = f"{presynaptic_population.label!r} -> {postsynaptic_population.label!r}"
            raise ModelError(f"projection {where}: the target must be a cell population "
                             f"(IF_curr_exp, IF_curr_delta), not a spike source", where=where)
        _check_nan_weight(synapse_type, label or f"{presynaptic_population.label}→"
                                                 f"{postsynaptic_population.label}")
        connector = _one_to_one_of_one(connector, presynaptic_population,
                                       postsynaptic_population)
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        if not isinstance(self.synapse_type, (StaticSynapse, STDPMechanism)):
            raise ModelError(f"projection {self.label!r}: synapse type must be StaticSynapse "
                             f"or STDPMechanism (the chip's learning engine), not "
                             f"{type(self.synapse_type).__name__}")
        self.plastic = isinstance(self.synapse_type, STDPMechanism)
        #: STDP parameter -> one value per connection (plastic projections)
        self._stdp: dict[str, list[np.ndarray]] = {k: [] for k in STDP_PARAMETERS}
        #: weights learned in the last run (PyNN units, one per connection), or None
        self.learned: np.ndarray | None = None
        #: how the STDP rule was quantized (:class:`spikefab.pynn.plasticity.StdpReport`)
        self.stdp_reports: list[Any] = []
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._arrays: tuple[np.ndarray, ...] | None = None
        connector.connect(self)
        simulator.state.projections.append(self)
        simulator.state.changed()

    # ------------------------------------------------------------------ building
    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            location_selector=None, **connection_parameters):
        if location_selector is not None:
            raise ModelError(f"projection {self.label!r}: location_selector must be None "
                             f"(the chip's neurons have one compartment)")
        pre = np.atleast_1d(np.asarray(presynaptic_indices, np.int64))
        cols = [pre, np.full(pre.shape, int(postsynaptic_index), np.int64)]
        for name in ("weight", "delay"):
            value = connection_parameters.pop(name)
            cols.append(np.broadcast_to(np.asarray(value, float), pre.shape).copy())
        if self.plastic:
            for name in STDP_PARAMETERS:
                value = connection_parameters.pop(name)
                self._stdp[name].append(np.broadcast_to(np.asarray(value, float), pre.shape))
        if connection_parameters:
            raise ModelError(f"projection {self.label!r}: synapse parameters "
                             f"{sorted(connection_parameters)} are not supported")
        self._chunks.append(tuple(cols))
        self._arrays = None

    def _columns(self) -> tuple[np.ndarray, ...]:
        if self._arrays is None:
            if self._chunks:
                self._arrays = tuple(np.concatenate(c) for c in zip(*self._chunks))
            else:
                self._arrays = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                                np.zeros(0))
            self._chunks = [self._arrays]
        return self._arrays

    def stdp_columns(self) -> dict[str, np.ndarray]:
        """STDP parameter -> its value per connection (plastic projections)."""
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in self._stdp.items()}

    @property
    def _pre(self) -> np.ndarray:
        return self._columns()[0]

    @property
    def _post(self) -> np.ndarray:
        return self._columns()[1]

    @property
    def _weight(self) -> np.ndarray:
        return self._columns()[2]

    @property
    def _delay(self) -> np.ndarray:
        return self._columns()[3]

    # ------------------------------------------------------------------ PyNN interface
    def __len__(self) -> int:
        return int(self._pre.size)

    def __getitem__(self, i: int) -> Connection:
        if not -len(self) <= i < len(self):
            raise IndexError(f"connection index {i} out of range ({len(self)} connections)")
        return Connection(self, i % len(self))

    @property
    def connections(self) -> list[Connection]:
        return [Connection(self, k) for k in range(len(self))]

    def _set_attributes(self, parameter_space) -> None:
        parameter_space.evaluate(simplify=False)
        pre, post = self._pre, self._post
        for name, value in parameter_space.items():
            if name not in ("weight", "delay"):
                raise ModelError(f"projection {self.label!r}: only weight and delay can be "
                                 f"set, not {name!r} (STDP parameters are fixed when the "
                                 f"projection is made)")
            full = np.broadcast_to(np.asarray(value, float), (self.pre.size, self.post.size))
            column = {"weight": 2, "delay": 3}[name]
            self._columns()[column][:] = full[pre, post]
        simulator.state.changed()

    def _current_weight(self) -> np.ndarray:
        """Initial weights, or the weights learned in the last run of a plastic projection."""
        out = simulator.state.outcome
        if self.plastic and out is not None and self.learned is not None:
            return self.learned
        return self._weight

    def _get_attributes_as_list(self, names):
        cols = {"presynaptic_index": self._pre, "postsynaptic_index": self._post,
                "weight": self._current_weight(), "delay": self._delay}
        for name in names:
            if name not in cols:
                raise ModelError(f"projection {self.label!r} has no attribute {name!r}; it has "
                                 f"weight and delay")
        data: list[Any] = [cols[n].tolist() for n in names]
        return list(zip(*data))

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        op = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        out = []
        for name in names:
            name = name[:-1] if name.endswith("s") else name
            if name not in ("weight", "delay"):
                raise ModelError(f"projection {self.label!r} has no attribute {name!r}; it "
                                 f"has weight and delay")
            col = {"weight": self._current_weight(), "delay": self._delay}[name]
            values = np.full((self.pre.size, self.post.size), np.nan)
            for p, q, v in zip(self._pre, self._post, col):
                values[p, q] = v if np.isnan(values[p, q]) else op(values[p, q], v)
            out.append(values)
        return out
