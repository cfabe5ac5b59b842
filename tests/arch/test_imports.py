"""The house rules of imports, read from the source (no module is imported to check them).

* ``spikefab.arch`` is the hardware contract: it imports numpy, lark (the learning-rule grammar)
  and the standard library, and of our own code only ``spikefab.arch`` itself (DESIGN.md
  section 3).
* No import cycles among our modules.  An edge is any import a module can execute, at top level
  or inside a function; imports under ``if TYPE_CHECKING:`` are for the type checker only and are
  not edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: folder -> import name (setup.py maps the wings into the one namespace)
FOLDERS = {"spikefab": "spikefab", "compiler": "spikefab.compiler",
           "emulator": "spikefab.emulator", "rtl": "spikefab.rtl", "runtime": "spikefab.runtime"}


def _modules() -> dict[str, Path]:
    mods = {}
    for folder, name in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            mod = ".".join((name, *rel))
            if mod.startswith("spikefab.spikefab") or "__pycache__" in rel:
                continue
            mods[mod] = path
    # spikefab/ holds only the package face and arch/commands/report/pynn: skip wing look-alikes
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, module: str, is_pkg: bool, mods: dict[str, Path]) -> list[str]:
    """Modules a module imports: ``from a import b`` gives ``a.b`` where that is a submodule
    (importing a submodule does not run the rest of ``a``'s initialisation again), else ``a``."""
    tree = ast.parse(path.read_text(), str(path))
    out: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                out.extend(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".") if is_pkg else module.split(".")[:-1]
                    base = base[:len(base) - (child.level - 1)]
                    src = ".".join(base + ([child.module] if child.module else []))
                else:
                    src = child.module or ""
                subs = [f"{src}.{a.name}" for a in child.names if f"{src}.{a.name}" in mods]
                out.extend(subs if len(subs) == len(child.names) else [src, *subs])
            visit(child)

    visit(tree)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {}
    for mod, path in mods.items():
        names = _imports(path, mod, path.name == "__init__.py", mods)
        graph[mod] = {n for n in names if n in mods and n != mod}
    return graph


def test_every_wing_is_found() -> None:
    mods = _modules()
    for name in ("spikefab.arch.image", "spikefab.compiler.driver", "spikefab.emulator.engine",
                 "spikefab.rtl.router", "spikefab.runtime.device", "spikefab.errors"):
        assert name in mods


def test_arch_imports_only_arch() -> None:
    mods = _modules()
    bad = []
    for mod, path in mods.items():
        if not mod.startswith("spikefab.arch"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):            # every import, TYPE_CHECKING ones included
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            bad += [f"{mod} imports {n}" for n in names
                    if n.split(".")[0] == "spikefab" and not n.startswith("spikefab.arch")]
    assert not bad, bad


def test_arch_third_party_is_numpy_and_lark() -> None:
    """Outside the standard library, the contract needs NumPy and Lark (the learning-rule
    grammar) only: a backend or tool can use it without the compiler's or RTL's dependencies."""
    import sys
    allowed = set(sys.stdlib_module_names) | {"numpy", "lark", "spikefab", "__future__"}
    bad = []
    for mod, path in _modules().items():
        if not mod.startswith("spikefab.arch"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            bad += [f"{mod} imports {n}" for n in names if n.split(".")[0] not in allowed]
    assert not bad, bad


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules, or None (iterative DFS)."""
    state: dict[str, int] = {}
    for root in sorted(graph):
        if root in state:
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(graph[nxt]))))
    return None


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle)


def test_load_image_checks_through_the_installed_checker() -> None:
    """image.py does not import validate.py (validate depends on image); the package installs
    the checker that load_image runs."""
    import spikefab.arch.image as image
    import spikefab.arch.validate as validate

    assert image.image_check is validate.check_image
    graph = _graph()
    assert "spikefab.arch.validate" not in graph["spikefab.arch.image"]
