"""MkDocs hooks of the documentation site (``mkdocs.yml``; ``make docs``).

Three jobs, so that ``docs/`` stays plain Markdown that reads well on its own:

* **README is the front page.**  ``README.md`` becomes ``index.md`` and ``CHANGELOG.md``
  becomes ``changelog.md``; their links are rewritten to where the targets land in the site
  (``docs/cli.md`` -> ``cli.md``).
* **Links to repository files** (``examples/digits.py`` from the README, ``../benchmarks/...``
  from a page) are copied into the site under ``repo/`` and the links rewritten to the copies,
  so the site has no dead links.  A link whose target does not exist is left alone: MkDocs then
  reports it and the strict build fails.
* **API pages are generated** from the public names: one page per public namespace (each
  wing's ``__all__``), each name rendered by mkdocstrings from its docstring.  A new wing or a
  new public name needs no edit here.  mkdocstrings reads the sources statically, so it gets
  them laid out as the installed package is (``build/docs-src/spikefab/``: links to
  ``spikefab/``'s entries and to each wing folder of ``setup.py``'s ``WINGS``).  The docstrings'
  Sphinx roles (``:class:`~spikefab.arch.Image```) are shown as code (``Image``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
import posixpath
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.spikefab")

#: Namespaces with an API page, in this order; any other package folder under ``spikefab/``
#: whose ``__init__`` has an ``__all__`` gets one too (after these).
API_MODULES = ["spikefab", "spikefab.errors", "spikefab.arch", "spikefab.compiler",
               "spikefab.emulator", "spikefab.runtime", "spikefab.report", "spikefab.extras"]
#: Repository files that become pages: file -> page.
ROOT_PAGES = {"README.md": "index.md", "CHANGELOG.md": "changelog.md"}
REPO_PREFIX = "repo"
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):<code>(~?)([\w.]+)"
                  r"</code>")
LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")

_sources: dict[str, Path] = {}          # page src_uri -> the file it was made from


def _root(config) -> Path:
    """The repository (this file is ``tools/mkdocs_hooks.py``)."""
    return Path(__file__).resolve().parents[1]


def _with_api(config) -> bool:
    """API pages only where mkdocstrings is configured to render them."""
    return "mkdocstrings" in config["plugins"]


def _docs(config) -> Path:
    return Path(config["docs_dir"]).resolve()


def _links(text: str):
    """Relative links of ``text`` outside fenced code blocks: (match, path, fragment)."""
    fence = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
    code = [m.span() for m in fence.finditer(text)]
    for m in LINK.finditer(text):
        if any(a <= m.start() < b for a, b in code):
            continue
        target = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
            continue
        path, _, frag = target.partition("#")
        yield m, path, frag


def _resolve(page_src: Path, page_uri: str, path: str, config) -> str | None:
    """Where ``path`` (relative to the real file ``page_src``) lands in the site, relative to
    the page ``page_uri``; None when it needs no rewrite or does not exist."""
    target = (page_src.parent / path).resolve()
    docs, root = _docs(config), _root(config)
    if target.is_relative_to(docs):
        if page_src.is_relative_to(docs):
            return None                                  # a docs page's own link: as written
        site = target.relative_to(docs).as_posix()
    elif target.is_relative_to(root) and target.relative_to(root).as_posix() in ROOT_PAGES:
        site = ROOT_PAGES[target.relative_to(root).as_posix()]   # README.md -> index.md
    elif target.is_relative_to(root) and target.is_file():
        site = f"{REPO_PREFIX}/{target.relative_to(root).as_posix()}"
    else:
        return None
    if not (docs / site).exists() and not site.startswith(REPO_PREFIX + "/") and \
            site not in ROOT_PAGES.values():
        return None                                      # missing: MkDocs reports it
    return posixpath.relpath(site, posixpath.dirname(page_uri) or ".")


def _api_modules() -> list[str]:
    import spikefab

    names = list(API_MODULES)
    folder = Path(spikefab.__file__).parent
    for sub in sorted(p.parent.name for p in folder.glob("*/__init__.py")):
        name = f"spikefab.{sub}"
        if name not in names and "__all__" in (folder / sub / "__init__.py").read_text():
            names.append(name)
    return names


def _api_pages() -> dict[str, str]:
    """Namespace -> Markdown of its API page.

    Each class or function is rendered once, on the page of the namespace that owns it (the
    longest one its ``__module__`` lies in; else the first that exports it); other namespaces
    that re-export it (``spikefab.Image`` is ``spikefab.arch.Image``) link to it.  A namespace
    that cannot be imported here (an optional dependency missing) gets no page.
    """
    from spikefab.errors import ToolError     # an optional extra's package says it is missing

    modules = {}
    for name in _api_modules():
        try:
            modules[name] = importlib.import_module(name)
        except (ImportError, ToolError) as exc:
            log.info("no API page for %s: %s", name, exc)
    owner: dict[int, str] = {}
    for name, module in modules.items():
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            home = [ns for ns in modules if obj.__module__ == ns
                    or obj.__module__.startswith(ns + ".")]
            best = max(home, key=len) if home else None
            if best is not None and public in getattr(modules[best], "__all__", []):
                owner[id(obj)] = best
            else:
                owner.setdefault(id(obj), name)
    pages = {}
    for name, module in modules.items():
        doc = inspect.getdoc(module) or ""
        lines = [f"# `{name}`", "", doc.split("\n\n")[0], ""]
        elsewhere, constants = [], []
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public, None)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                path = f"{obj.__module__}.{obj.__qualname__}"
                if owner[id(obj)] == name:
                    lines += [f"::: {path}", ""]
                else:
                    elsewhere.append(f"[`{public}`]({owner[id(obj)]}.md#{path})")
            elif obj is not None and not inspect.ismodule(obj):
                constants.append(f"`{public}`")
        if elsewhere:
            lines += ["## Re-exported", "", "Documented with their own namespace: "
                      + ", ".join(elsewhere) + ".", ""]
        if constants:
            lines += ["## Constants", "", ", ".join(constants) + ".", ""]
        pages[name] = "\n".join(lines)
    return pages


def package_tree(root: Path) -> Path:
    """``build/docs-src`` with ``spikefab/`` laid out as installed (symbolic links)."""
    tree = root / "build" / "docs-src"
    pkg = tree / "spikefab"
    wings: dict[str, str] = {}
    for node in ast.parse((root / "setup.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "WINGS"
                                                for t in node.targets):
            wings = ast.literal_eval(node.value)
    links = {p.name: p for p in (root / "spikefab").iterdir() if p.name != "__pycache__"}
    for name, folder in wings.items():
        if name.count(".") == 1:
            links[name.split(".")[1]] = root / folder
    if pkg.is_dir():
        for old in pkg.iterdir():
            old.unlink()
    pkg.mkdir(parents=True, exist_ok=True)
    for name, target in links.items():
        (pkg / name).symlink_to(target.resolve())
    return tree


@event_priority(100)    # before mkdocstrings reads its `paths`: the tree must exist by then
def on_config(config):
    if _with_api(config):
        package_tree(_root(config))          # mkdocs.yml points mkdocstrings' paths at it
    return config


def on_files(files: Files, config) -> Files:
    root, docs = _root(config), _docs(config)
    _sources.clear()
    for f in files.documentation_pages():
        _sources[f.src_uri] = docs / f.src_uri
    for src, uri in ROOT_PAGES.items():
        if (root / src).is_file():
            files.append(File.generated(config, uri, abs_src_path=str(root / src)))
            _sources[uri] = root / src
    # repository files the pages link to; a Markdown one becomes a page whose links are
    # followed in turn
    todo, wanted = list(_sources.values()), set()
    while todo:
        src = todo.pop()
        for _, path, _ in _links(src.read_text(encoding="utf-8")):
            target = (src.parent / path).resolve()
            if target.is_file() and target.is_relative_to(root) and target not in wanted \
                    and not target.is_relative_to(docs) \
                    and target.relative_to(root).as_posix() not in ROOT_PAGES:
                wanted.add(target)
                if target.suffix == ".md":
                    _sources[f"{REPO_PREFIX}/{target.relative_to(root).as_posix()}"] = target
                    todo.append(target)
    for target in sorted(wanted):
        files.append(File.generated(
            config, f"{REPO_PREFIX}/{target.relative_to(root).as_posix()}",
            abs_src_path=str(target)))
    if _with_api(config):
        _add_api_pages(files, config)
    return files


def _add_api_pages(files: Files, config) -> None:
    index = ["# API reference", "",
             "Generated from the docstrings of the public names (each namespace's `__all__`).",
             ""]
    for name, page in _api_pages().items():
        uri = f"api/{name}.md"
        files.append(File.generated(config, uri, content=page))
        summary = page.split("\n")[2]
        index.append(f"- [`{name}`]({name}.md) — {summary}")
    files.append(File.generated(config, "api/index.md", content="\n".join(index) + "\n"))


def on_page_markdown(markdown: str, page, config, files) -> str:
    src = _sources.get(page.file.src_uri)
    if src is None:
        return markdown
    out, last = [], 0
    for m, path, frag in _links(markdown):
        site = _resolve(src, page.file.src_uri, path, config)
        if site is None:
            continue
        out += [markdown[last:m.start()], m.group(1), site, f"#{frag}" if frag else "",
                m.group(3)]
        last = m.end()
    out.append(markdown[last:])
    return "".join(out)



def on_page_content(html: str, page, config, files) -> str:
    """``:class:`~a.b.C``` (rendered as ``:class:<code>~a.b.C</code>``) -> ``<code>C</code>``."""
    def code(m: re.Match) -> str:
        name = m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)
        return f"<code>{name}</code>"
    return ROLE.sub(code, html)
