"""PyNN's procedural API (``create``, ``connect``, ``record``), built by ``common``'s factories."""

from __future__ import annotations

from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from spikefab.pynn import simulator
from spikefab.pynn.populations import Population
from spikefab.pynn.projections import Projection
from spikefab.pynn.standardmodels import StaticSynapse

__all__ = ["create", "connect", "record", "record_v"]

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source, filename):
    """Record the membrane potential of ``source`` to ``filename``."""
    return record(["v"], source, filename)
