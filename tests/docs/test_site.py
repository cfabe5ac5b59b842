"""The documentation site builds in strict mode (``make docs``), and strict mode has teeth.

The real build (mkdocs.yml: README as front page, every page of docs/, changelog, API pages from
the docstrings) must finish without a warning; a small build with the same hook and validation
settings but a broken link must fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("mkdocs", reason="the docs extra (make install) brings MkDocs")


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(config), "-d", str(site)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = mkdocs_build(ROOT / "mkdocs.yml", out)
    assert proc.returncode == 0, f"strict docs build failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_readme_is_the_front_page(site):
    html = (site / "index.html").read_text()
    first = next(ln for ln in (ROOT / "README.md").read_text().splitlines()
                 if ln.startswith("## "))[3:]
    assert first in html
    # README links into docs/ and to examples/ are rewritten to where they land in the site
    for href in re.findall(r'href="((?:docs/|examples/)[^"]*)"', html):
        pytest.fail(f"index.html keeps the repository link {href}")
    assert (site / "repo" / "examples" / "hello_builder.py").is_file()
    assert 'href="cli/"' in html


def test_every_docs_page_is_in_the_site(site):
    for page in (ROOT / "docs").glob("*.md"):
        assert (site / page.stem / "index.html").is_file(), f"{page.name} missing from the site"
    assert "0.2.0" in (site / "changelog" / "index.html").read_text()


def test_api_pages_render_the_public_docstrings(site):
    import spikefab
    from spikefab.compiler import compile as compile_model

    page = (site / "api" / "spikefab.compiler" / "index.html").read_text()
    assert "spikefab.compiler.driver.compile" in page or 'id="spikefab.compiler' in page
    summary = re.split(r"[:`]", compile_model.__doc__.strip().splitlines()[0])[0].strip()
    assert len(summary) > 10 and summary in page
    top = (site / "api" / "spikefab" / "index.html").read_text()
    for name in spikefab.__all__:
        if name != "__version__":
            assert name in top, f"spikefab.{name} missing from the API page"


def mini_site(tmp_path: Path, page: str) -> tuple[subprocess.CompletedProcess, Path]:
    """A one-page site in ``tmp_path`` with the real hook and validation, no API pages."""
    docs = tmp_path / "docs"
    docs.mkdir()
    up = os.path.relpath(ROOT, docs)                   # the checkout, seen from the page
    (docs / "page.md").write_text(page.format(up=up))
    validation = (ROOT / "mkdocs.yml").read_text().split("\nvalidation:", 1)[1]
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\ndocs_dir: {docs}\nstrict: true\n"
        f"hooks:\n  - {ROOT / 'tools' / 'mkdocs_hooks.py'}\nvalidation:{validation}")
    return mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site"), tmp_path / "site"


def test_links_to_repository_files_land_in_the_site(tmp_path):
    proc, site = mini_site(tmp_path, "# Page\n\n[readme]({up}/README.md), [cli]({up}/docs/cli.md), "
                                     "[hello]({up}/examples/hello_builder.py)\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (site / "page" / "index.html").read_text()
    assert 'href="../repo/examples/hello_builder.py"' in html and 'href="../"' in html
    assert (site / "repo" / "examples" / "hello_builder.py").read_bytes() == \
        (ROOT / "examples" / "hello_builder.py").read_bytes()
    # a linked Markdown file is a page, and its own links are followed
    assert (site / "repo" / "docs" / "cli" / "index.html").is_file()
    assert (site / "repo" / "docs" / "image-format" / "index.html").is_file()


def test_strict_build_fails_on_a_broken_link(tmp_path):
    proc, _ = mini_site(tmp_path, "# Page\n\nA link to [nowhere](no-such-page.md) and one to "
                                  "[a file that is not there]({up}/examples/gone.py).\n")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "no-such-page.md" in out and "gone.py" in out
