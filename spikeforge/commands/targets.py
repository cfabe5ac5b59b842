"""``spikeforge targets [show NAME]``: list the shipped target profiles or show one in full."""

from __future__ import annotations

import argparse

from spikeforge.arch.target import load_target, target_names


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("targets", help="list target profiles, or show one with every source")
    p.add_argument("action", nargs="?", choices=["show"], help="show one target in full")
    p.add_argument("name", nargs="?", help="target name (with 'show')")
    p.set_defaults(func=run)


def format_summary() -> str:
    rows = [("target", "chiplets", "cores", "neurons", "synapses", "clock", "pJ/SOP", "description")]
    for name in target_names():
        t = load_target(name)
        rows.append((t.name, str(t.topology.chiplets), f"{t.topology.cores:,}",
                     f"{t.total_neurons:,}", f"{t.total_synapses:,}", f"{t.timing.clock_mhz:g} MHz",
                     f"{t.energy.synop_pj:g}", t.description))
    return _table(rows)


def format_target(name: str) -> str:
    t = load_target(name)
    rows = [("parameter", "value", "source")]
    for section, key, value, source in t.rows():
        rows.append((f"{section}.{key}", f"{value:g}" if isinstance(value, float) else str(value),
                     source))
    head = (f"{t.name}: {t.description}\n"
            f"{t.topology.cores:,} cores, {t.total_neurons:,} neurons, "
            f"{t.total_synapses:,} synapse entries\n")
    return head + _table(rows)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(r[-1]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        if not args.name:
            from spikeforge.errors import TargetError
            raise TargetError(f"'targets show' needs a NAME, one of {', '.join(target_names())}")
        print(format_target(args.name))
    else:
        print(format_summary())
    return 0
