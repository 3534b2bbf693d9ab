"""Reports printed in traditional characters (政府信息公開工作年度報告), folded to simplified
before any metadata or label matching, so their title, body, year, date and rows are
found as in a simplified report.

The fold is a character table, `data/traditional.toml` (made from OpenCC's by
`data/make_traditional.py`): `[fold]`, characters never written in simplified text, each
to its one simplified form, for the characters of every template label, the metadata and
body-name keywords and the division names; `[in_traditional]`, a few also written in
simplified text (於, 祕) that in a traditional report stand for one simplified character
(属于, 秘密). A document is folded only when it is in traditional characters (at least
`MIN_TRADITIONAL` characters of `[fold]`): a simplified report is never changed. A
character outside the table stays as printed (a label or name it is part of is then not
matched, never matched to something else)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from functools import cache
from pathlib import Path

from extract.models import RawCell, RawDocument, RawRow, RawTable

from .errors import TemplateSpecError

TRADITIONAL_PATH = Path(__file__).resolve().parent.parent / "data" / "traditional.toml"


class TraditionalTableInvalid(TemplateSpecError):
    """data/traditional.toml is malformed (names the entry)."""


def _is_ideograph(ch: str) -> bool:
    cp = ord(ch)
    return 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0x20000 <= cp <= 0x3134F


MIN_TRADITIONAL = 10
"""A document with at least this many characters of `[fold]` is in traditional characters
(a report has hundreds: 開, 報, 會, 國, 區 …; a simplified one none, or a stray few)."""


@dataclasses.dataclass(frozen=True)
class Fold:
    only_traditional: frozenset[str]
    """The characters that mark a document as traditional (the keys of `[fold]`)."""
    table: dict[int, str]
    """Both sections as a str.translate table."""


def parse_traditional_table(data: dict, name: str = "traditional.toml") -> Fold:
    """`[fold]` and `[in_traditional]`, validated: each key and value one CJK ideograph, a
    key in one section only, never its own value nor any key's value (no chains)."""
    extra = set(data) - {"fold", "in_traditional"}
    if extra:
        raise TraditionalTableInvalid(f"{name}: unknown section [{sorted(extra)[0]}]")
    sections = {}
    for section in ("fold", "in_traditional"):
        table = data.get(section)
        if not isinstance(table, dict) or not table:
            raise TraditionalTableInvalid(f"{name}: [{section}] missing or empty")
        for key, value in table.items():
            if len(key) != 1 or not _is_ideograph(key):
                raise TraditionalTableInvalid(f"{name}: [{section}] key {key!r} is not one CJK ideograph")
            if not isinstance(value, str) or len(value) != 1 or not _is_ideograph(value) or value == key:
                raise TraditionalTableInvalid(f"{name}: [{section}] {key!r} = {value!r} is not one other CJK ideograph")
        sections[section] = table
    both = sorted(set(sections["fold"]) & set(sections["in_traditional"]))
    if both:
        raise TraditionalTableInvalid(f"{name}: {both[0]!r} is in both sections")
    merged = {**sections["fold"], **sections["in_traditional"]}
    chained = sorted(set(merged) & set(merged.values()))
    if chained:
        raise TraditionalTableInvalid(f"{name}: {chained[0]!r} is both folded and a fold's result (a chain)")
    return Fold(frozenset(sections["fold"]), {ord(k): v for k, v in merged.items()})


@cache
def traditional_table(path: Path = TRADITIONAL_PATH) -> Fold:
    with path.open("rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise TraditionalTableInvalid(f"{path.name}: {exc}") from exc
    return parse_traditional_table(data, path.name)


@cache
def _marks() -> re.Pattern:
    return re.compile("[" + "".join(sorted(traditional_table().only_traditional)) + "]")


def is_traditional(text: str) -> bool:
    """At least `MIN_TRADITIONAL` characters of `text` are never written in simplified text."""
    found = 0
    for _ in _marks().finditer(text or ""):
        found += 1
        if found >= MIN_TRADITIONAL:
            return True
    return False


def fold_traditional(text: str) -> str:
    """`text` (of a document in traditional characters) with the characters of the table
    replaced by their simplified forms (開→开, 報→报, 屬於→属于); everything else unchanged."""
    return text.translate(traditional_table().table) if text else text


def document_to_simplified(doc: RawDocument) -> RawDocument:
    """`doc` with its text, hints and every cell folded when it is in traditional
    characters (its text, or its title hint for a page whose body text is short); else
    `doc` itself, unchanged."""
    if not is_traditional(doc.text + "".join(doc.hints.values())):
        return doc
    tables = [RawTable(rows=[RawRow([_fold_cell(c) for c in r.cells], r.page, r.index) for r in t.rows],
                       index=t.index, page=t.page, locator=t.locator) for t in doc.tables]
    return dataclasses.replace(doc, text=fold_traditional(doc.text), tables=tables,
                               hints={k: fold_traditional(v) for k, v in doc.hints.items()})


def _fold_cell(cell: RawCell) -> RawCell:
    return dataclasses.replace(cell, text=fold_traditional(cell.text)) if cell.text else cell
