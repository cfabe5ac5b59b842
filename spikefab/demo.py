"""``spikefab demo`` (and ``make demo``): the digits example, end to end, in a few minutes.

The demo *is* ``examples/digits.py`` — the file a newcomer reads to see how the toolchain is
used — so there is one copy of that code.  It lives in the source checkout beside the package
(``make demo`` installs the checkout in editable mode), and is loaded from there by path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

from spikefab.errors import ToolError

__all__ = ["example_path", "load_example", "run_demo"]


def example_path(name: str = "digits") -> Path:
    """``examples/NAME.py`` of the checkout this package was installed from."""
    return Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"


def load_example(name: str = "digits") -> ModuleType:
    """Import an example script as a module; :class:`ToolError` if the checkout lacks it."""
    path = example_path(name)
    if not path.is_file():
        raise ToolError(f"the demo needs the source checkout's examples/{name}.py, not found at "
                        f"{path} (install with 'pip install -e .' from a clone)", where=str(path))
    mod_name = f"spikefab_example_{name}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module


def run_demo(argv: Sequence[str] = ()) -> dict:
    """Run ``examples/digits.py`` with ``argv``; returns its summary (table printed)."""
    return load_example("digits").main(list(argv))
