"""``spikefab demo`` (and ``make demo``): the digits example, end to end, in a few minutes.

The demo *is* ``examples/digits.py`` -- the file a newcomer reads to see how the toolchain is
used -- so there is one copy of that code.  The ``examples/`` folder is installed as the
:mod:`spikefab.examples` package (``setup.py``), so the same file runs from a checkout, an
editable install and a wheel alike.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Sequence

from spikefab.errors import ToolError

__all__ = ["example_names", "example_path", "load_example", "run_demo"]


def example_names() -> list[str]:
    """The shipped examples (module names in :mod:`spikefab.examples`), sorted."""
    import spikefab.examples as pkg
    return sorted(p.stem for p in Path(pkg.__file__).parent.glob("*.py")
                  if not p.stem.startswith("_"))


def example_path(name: str = "digits") -> Path:
    """The file of example ``name`` (``examples/NAME.py`` in a checkout, inside a wheel else)."""
    spec = find_spec(f"spikefab.examples.{name}") if name.isidentifier() else None
    if spec is None or spec.origin is None:
        raise ToolError(f"example must be one of {', '.join(example_names())}, not {name!r}",
                        where=name)
    return Path(spec.origin)


def load_example(name: str = "digits") -> ModuleType:
    """Import example ``name`` as :mod:`spikefab.examples.NAME`."""
    example_path(name)
    return import_module(f"spikefab.examples.{name}")


def run_demo(argv: Sequence[str] = ()) -> dict:
    """Run ``examples/digits.py`` with ``argv``; returns its summary (table printed)."""
    return load_example("digits").main(list(argv))
