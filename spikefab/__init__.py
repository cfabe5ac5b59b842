"""spikefab: compile spiking neural networks to Loihi/Darwin-style neuromorphic hardware.

Public API (DESIGN.md section 2)::

    net = spikefab.load_model("model.nir")            # or a .sfir file, or a spikefab.Network
    image = spikefab.compile(net, target="darwin3", dt=1e-3)
    result = spikefab.run(image, {"x": spikes}, steps=100, mode="cycle")

Wings are imported lazily so that ``import spikefab`` stays fast and a backend's heavy
dependencies (Numba, Amaranth) load only when used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from spikefab.arch import Image, Result, Target, load_image, load_target, target_names
from spikefab.errors import SpikefabError



def _version() -> str:
    """The installed distribution's version (pyproject.toml is its one source)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("spikefab")
    except PackageNotFoundError:        # a source tree on sys.path, never installed
        return "0+unknown"


__version__ = _version()

__all__ = [
    "__version__",
    "Image", "Result", "Target", "SpikefabError",
    "load_image", "load_target", "target_names",
]

# name -> (module, attribute): resolved on first access (PEP 562).  A wing adds its public
# entry points here; the names exist only once their module does.
_LAZY: dict[str, tuple[str, str]] = {}


def _register_lazy() -> None:
    import importlib.util
    candidates = {
        "load_model": ("spikefab.compiler", "load_model"),
        "compile": ("spikefab.compiler", "compile"),
        "Network": ("spikefab.compiler", "Network"),
        "LoihiLIF": ("spikefab.compiler", "LoihiLIF"),
        "run": ("spikefab.api", "run"),
        "compare": ("spikefab.api", "compare"),
        "open_device": ("spikefab.runtime", "open_device"),
        "STDP": ("spikefab.arch.learning", "STDP"),
        "RewardModulatedSTDP": ("spikefab.arch.learning", "RewardModulatedSTDP"),
        "LearningRule": ("spikefab.arch.learning", "LearningRule"),
        "TraceConfig": ("spikefab.arch.learning", "TraceConfig"),
    }
    for name, (module, attr) in candidates.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            _LAZY[name] = (module, attr)
            __all__.append(name)


_register_lazy()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spikefab' has no attribute {name!r}")
