"""The table specs are the contract of docs/DATA.md, column by column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paycascade.tables import TABLES, TableSpec, markdown_table

DATA_MD = Path(__file__).resolve().parents[2] / "docs" / "DATA.md"


def documented(table: str) -> list[tuple[str, str, str]]:
    text = DATA_MD.read_text(encoding="utf-8")
    section = text.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \| ([A-Za-z]+) \| (yes|no) \|", section, re.M)


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.name)
def test_specs_match_data_md(spec: TableSpec) -> None:
    rendered = re.findall(
        r"^\| `([a-z_]+)` \| ([A-Za-z]+) \| (yes|no) \|", markdown_table(spec), re.M
    )
    assert rendered == documented(spec.name)
