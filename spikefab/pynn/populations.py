"""``Population``, ``PopulationView`` and ``Assembly`` on top of PyNN's ``common`` classes.

As in ``pyNN.mock``, a population keeps its parameters as a dict of arrays (PyNN names and
units) and its initial values as PyNN's lazy arrays; nothing is sent anywhere until ``run``
compiles the network.  Each population registers itself with the simulator state, which gives it
a stable index (its hardware name is ``p<index>``), and any change of parameters or initial
values marks the network as changed.
"""

from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from spikefab.errors import ModelError
from spikefab.pynn import simulator
from spikefab.pynn.recording import Recorder

__all__ = ["Population", "PopulationView", "Assembly"]


class Assembly(common.Assembly):
    __doc__ = common.Assembly.__doc__
    _simulator = simulator


def _get_parameters(view, names):
    if isinstance(view.celltype, StandardCellType):
        if any(name in view.celltype.computed_parameters() for name in names):
            native = view.celltype.get_native_names()
        else:
            native = view.celltype.get_native_names(*names)
        return view.celltype.reverse_translate(view._get_native_parameters(*native))
    return view._get_native_parameters(*names)


class PopulationView(common.PopulationView):
    __doc__ = common.PopulationView.__doc__
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        return _get_parameters(self, names)

    def _get_native_parameters(self, *names):
        values = {}
        for name in names:
            value = self.parent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[self.mask]
            values[name] = simplify(value)
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        for name, value in parameter_space.items():
            try:
                self.parent._parameters[name][self.mask] = value.evaluate(simplify=True)
            except ValueError:
                raise errors.InvalidParameterValueError(
                    f"{name} should not be of type {type(value)}") from None
        simulator.state.changed()

    def _set_initial_value_array(self, variable, initial_values):
        values = np.broadcast_to(np.asarray(initial_values.evaluate(simplify=False), float),
                                 (self.size,))
        base = self.grandparent
        base._initial[variable][self.index_in_grandparent(np.arange(self.size))] = values
        simulator.state.changed()

    @property
    def initial_values(self) -> dict[str, np.ndarray]:
        """This view's initial values (a copy; ``initialize`` sets them).  PyNN 0.13's own
        property raises ``NotImplementedError``, which made ``view.initialize(v=...)`` fail
        after the values were already stored."""
        base = self.grandparent
        idx = np.asarray(self.index_in_grandparent(np.arange(self.size)), np.int64)
        return {var: values[idx] for var, values in getattr(base, "_initial", {}).items()}

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        if not isinstance(self.celltype, StandardCellType):
            raise ModelError(f"population {self.label!r}: cell type must be one of PyNN's "
                             f"standard types, not {type(self.celltype).__name__}")
        if self.size < 1:
            raise ModelError(f"population {self.label!r}: size must be at least 1 neuron, not "
                             f"{self.size}", where=self.label)
        state = simulator.state
        ids = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = np.ones(self.size, bool)
        space = self.celltype.native_parameters
        space.shape = (self.size,)
        space.evaluate(simplify=False)
        self._parameters = space.as_dict()
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        self._index = len(state.populations)
        state.populations.append(self)
        state.changed()

    def _set_initial_value_array(self, variable, initial_values):
        # evaluated now, as NEST and Brian2 do: a random distribution must be drawn once, in
        # script order (before the connectors draw from the same generator), and the recorded
        # first sample must be the value the run started from
        if not hasattr(self, "_initial"):
            self._initial = {}
        self._initial[variable] = np.broadcast_to(
            np.asarray(initial_values.evaluate(simplify=False), float), (self.size,)).copy()
        simulator.state.changed()

    def initial_value_array(self, variable: str) -> np.ndarray:
        """The evaluated initial values of ``variable``, one per neuron."""
        return self._initial[variable]

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        return _get_parameters(self, names)

    def _get_native_parameters(self, *names):
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names},
                              shape=(self.local_size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self._parameters[name] = value
        simulator.state.changed()
