"""docs/cli.md documents every subcommand (and each of its long options), and nothing else."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from spikefab.cli import build_parser

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    """Each optional argument's spellings (``("-o", "--output")``), help excluded."""
    return [tuple(a.option_strings) for a in parser._actions
            if a.option_strings and "--help" not in a.option_strings]


def _undocumented(parser: argparse.ArgumentParser, body: str, prefix: str) -> list[str]:
    """Options none of whose spellings appear in the section (as a whole word)."""
    return [f"{prefix} {spellings[-1]}" for spellings in _options(parser)
            if not any(re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", body)
                       for s in spellings)]


def _sections() -> dict[str, str]:
    text = DOC.read_text()
    parts = re.split(r"^## `spikefab ([a-z-]+)`\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_one_section_per_subcommand():
    documented, commands = list(_sections()), list(_subparsers(build_parser()))
    assert len(documented) == len(set(documented)), "a subcommand has two sections"
    assert set(documented) == set(commands), (
        f"undocumented: {sorted(set(commands) - set(documented))}; "
        f"documented but not a subcommand: {sorted(set(documented) - set(commands))}")


def test_every_option_and_nested_subcommand_is_documented():
    sections = _sections()
    missing = []
    for name, sub in _subparsers(build_parser()).items():
        body = sections.get(name, "")
        missing += _undocumented(sub, body, name)
        for nested, nested_parser in _subparsers(sub).items():
            if f"spikefab {name} {nested}" not in body:
                missing.append(f"{name} {nested}")
            missing += _undocumented(nested_parser, body, f"{name} {nested}")
    assert not missing, f"docs/cli.md lacks: {', '.join(missing)}"
