"""The field table: every value an image holds, with the width of the register that holds it.

An image may only hold what the hardware registers can hold (DESIGN.md section 3): a value that
a register cannot represent would be truncated on a board while the emulator kept it whole, so
the backends would disagree.  This table is the one place those widths live; semantic validation
(:mod:`spikefab.arch.validate`), documentation and the RTL's register widths derive from it.

A field's range is ``[lo, hi]``: ``bits`` wide, two's complement when ``signed``, optionally
narrowed by the arithmetic (the 24-bit state saturates at +-(2**23 - 1), the current keeps
``2**23``, see :mod:`spikefab.arch.neuron`).  Fields whose limit is per target (delay, refractory
period) are narrowed further by :func:`spikefab.arch.validate.check_fits`; table indices are
checked against their tables by :func:`spikefab.arch.validate.check_image`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Field", "FIELDS", "field", "fields_of", "fold_into_range", "markdown_table",
           "STATE_BITS", "STATE_MAX"]

STATE_BITS = 24                     #: u, v, theta registers
STATE_MAX = (1 << (STATE_BITS - 1)) - 1


@dataclass(frozen=True)
class Field:
    """One field of an image table: ``table.name`` is ``bits`` wide (signed or not)."""

    table: str
    name: str
    bits: int
    signed: bool
    why: str
    lo_override: int | None = None
    hi_override: int | None = None

    @property
    def lo(self) -> int:
        if self.lo_override is not None:
            return self.lo_override
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        if self.hi_override is not None:
            return self.hi_override
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"


_F = Field
#: Every value field of every image table (pointers and indices are checked against their tables
#: by :func:`spikefab.arch.validate.check_image`; route address fields by the target's mesh).
FIELDS: tuple[Field, ...] = (
    _F("acc_exps", "exp", 5, True, "weight exponent of an accumulator class (shift of its sum)"),
    _F("profiles", "du", 12, False, "current decay"),
    _F("profiles", "dv", 12, False, "voltage decay"),
    _F("profiles", "vth", 17, False, "threshold mantissa (compared as vth << 6)"),
    _F("profiles", "reset_mode", 1, False, "0 reset to zero, 1 reset by subtraction"),
    _F("profiles", "refractory", 8, False, "refractory steps (narrowed by core.max_refractory)"),
    _F("profiles", "theta_decay", 12, False, "adaptive-threshold decay"),
    _F("profiles", "theta_inc", STATE_BITS, False, "adaptive-threshold increment per spike",
       hi_override=STATE_MAX),
    _F("neurons", "bias_exp", 5, True, "bias exponent (left shift if >= 0)"),
    _F("neurons", "bias_mant", 13, True, "bias mantissa"),
    _F("state", "u", STATE_BITS, True, "current (Lava's wrap keeps +2**23)",
       lo_override=-STATE_MAX, hi_override=STATE_MAX + 1),
    _F("state", "v", STATE_BITS, True, "voltage (saturates at +-(2**23 - 1))",
       lo_override=-STATE_MAX),
    _F("state", "theta", STATE_BITS, False, "adaptive-threshold offset", hi_override=STATE_MAX),
    _F("state", "ref", 8, False, "remaining refractory steps (narrowed by core.max_refractory)"),
    _F("synapses", "weight", 9, True, "effective weight (8-bit magnitude + sign)"),
    _F("synapses", "delay", 6, False, "synaptic delay in steps (narrowed by core.max_delay)"),
    _F("routes", "host", 1, False, "1: the route goes to the host port"),
    _F("host_routes", "host", 1, False, "1: the route goes to the host port"),
)

_BY_KEY = {f.key: f for f in FIELDS}


def field(table: str, name: str) -> Field:
    """The :class:`Field` ``table.name`` (KeyError if the image has no such value field)."""
    return _BY_KEY[f"{table}.{name}"]


def fields_of(table: str) -> tuple[Field, ...]:
    """Value fields of one table, in table order."""
    return tuple(f for f in FIELDS if f.table == table)


def fold_into_range(table: str, arr):
    """A copy of structured array ``arr`` with every value field folded into its range.

    ``lo + (x - lo) mod (hi - lo + 1)``: random bytes become random legal values (generators of
    test and fuzz images use it).
    """
    import numpy as np
    out = arr.copy()
    for f in fields_of(table):
        if out.dtype.names is None or f.name not in out.dtype.names:
            continue
        x = out[f.name].astype(np.int64)
        out[f.name] = f.lo + (x - f.lo) % (f.hi - f.lo + 1)
    return out


def markdown_table() -> str:
    """The field table as the markdown of ``docs/image-format.md`` section 6 (tested equal)."""
    rows = ["| field | bits | signed | range | meaning |", "|---|---:|---|---|---|"]
    for f in FIELDS:
        rows.append(f"| `{f.key}` | {f.bits} | {'yes' if f.signed else 'no'} | "
                    f"[{f.lo}, {f.hi}] | {f.why} |")
    return "\n".join(rows)
