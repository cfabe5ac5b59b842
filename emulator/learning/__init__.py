"""The emulator's learning engine (plastic images): flat arrays and Numba kernels."""

from spikefab.emulator.learning.flat import FlatLearning, flatten_learning

__all__ = ["FlatLearning", "flatten_learning"]
