"""``docs/image-format.md`` documents every table field with the offset and type the code uses."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from spikefab.arch import image as image_module
from spikefab.arch.image import CORE_TABLES, FORMAT_VERSION, MAGIC

DOC = Path(__file__).resolve().parents[2] / "docs" / "image-format.md"


def type_name(dt: np.dtype) -> str:
    return f"{'u' if dt.kind == 'u' else 'i'}{dt.itemsize * 8}"


def doc_table(name: str) -> list[list[str]]:
    """Rows of the field table under ``### `name```."""
    text = DOC.read_text()
    block = text.split(f"### `{name}`")[1].split("\n### ")[0].split("\n## ")[0]
    rows = [line for line in block.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows[1:]]


@pytest.mark.parametrize("table", sorted(CORE_TABLES))
def test_every_field_is_documented_with_offset_and_type(table):
    dtype = CORE_TABLES[table]
    assert f"### `{table}` ({dtype.itemsize} byte" in DOC.read_text()
    rows = doc_table(table)
    if dtype.fields is None:
        assert [r[1:3] for r in rows] == [["0", type_name(dtype)]]
        return
    documented = [(r[0].strip("`"), int(r[1]), r[2]) for r in rows]
    actual = [(f, off, type_name(dt)) for f, (dt, off) in dtype.fields.items()]
    assert documented == actual
    assert all(len(r[3]) > 10 for r in rows)          # every field has a meaning


def test_every_dtype_field_named_in_image_py_appears():
    dtypes = [v for k, v in vars(image_module).items() if k.endswith("_DTYPE")]
    assert len(dtypes) == 13          # 7 core tables + 6 optional learning tables
    text = DOC.read_text()
    for dt in dtypes:
        for field in dt.names:
            assert f"| `{field}` |" in text, field


def test_header_facts():
    text = DOC.read_text()
    assert f"Format version: **{FORMAT_VERSION}**" in text
    assert MAGIC == b"SFIMAGE\0" and "`SFIMAGE\\0`" in text
    for key in ("target", "cores", "inputs", "outputs", "populations", "options"):
        assert re.search(rf"^\| `{key}` \|", text, re.M), key


def test_register_range_section_is_the_field_table():
    from spikefab.arch.fields import markdown_table
    assert markdown_table() in DOC.read_text()
