"""The README cannot rot: its quick command blocks run, and its links point at real files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
QUICK = re.compile(r"<!--\s*quick\s*-->\s*\n```(?:sh|bash|console)?\n(.*?)```", re.S)


def quick_blocks() -> list[str]:
    return QUICK.findall(README.read_text())


def test_readme_starts_with_make_demo_and_make_test():
    first_block = README.read_text().split("```")[1]
    lines = [ln.split("#")[0].strip() for ln in first_block.splitlines()[1:] if ln.strip()]
    assert lines[:2] == ["make demo", "make test"]


def test_readme_has_quick_blocks():
    assert len(quick_blocks()) >= 2


@pytest.mark.parametrize("block", quick_blocks(), ids=lambda b: b.split()[1])
def test_quick_block_runs(block):
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"README block failed:\n{block}\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("page", ["README.md", "docs/architecture.md", "docs/cli.md",
                                  "docs/frameworks.md"])
def test_relative_links_resolve(page):
    path = ROOT / page
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
        assert (path.parent / target).exists(), f"{page} links to missing {target}"
