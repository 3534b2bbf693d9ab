"""The national form's 中文 labels of every canonical code, for analysts: the rows of the
`dictionary` view and of the labels the `facts` view joins, docs/data-dictionary.md, and
the layout `xxgk show` prints. Labels come from data/templates/*.toml (the first label of
each code: the one the national form prints); meanings from data/dictionary.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from transform.templates import VERSIONS, TableSpec, Templates, load_templates

from .errors import LoadError

DICTIONARY_FILE = Path(__file__).resolve().parent.parent / "data" / "dictionary.toml"
TABLE_LABELS = {"t2": "表二", "t3": "表三", "t4": "表四"}


class DictionarySpecError(LoadError):
    """data/dictionary.toml does not match the templates (a code without meaning, or a meaning without code)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the data dictionary: a code of a table (an item or a column) with the
    label the national form prints in `versions` (two rows when the versions differ)."""

    table: str
    kind: str  # "item" | "column"
    code: str
    label: str
    versions: tuple[str, ...]
    unit: str | None
    meaning: str


@dataclass(frozen=True, slots=True)
class FactLabel:
    """The labels of one (table, item, column); `version` is null when every version
    prints the same labels, else the template version they belong to."""

    table: str
    item: str
    column: str
    version: str | None
    item_label: str
    column_label: str


@dataclass(frozen=True, slots=True)
class Dictionary:
    meanings: dict[str, dict[str, dict[str, str]]]  # table → kind ("items"/"columns") → code → meaning
    tables: dict[str, str]
    t3_groups: dict[str, str]


def _specs(t: Templates) -> list[TableSpec]:
    return [t.t2[v] for v in VERSIONS] + [t.t3, t.t4]


def load_dictionary(path: Path | None = None, templates: Templates | None = None) -> Dictionary:
    """data/dictionary.toml, checked against the templates' codes both ways."""
    path = Path(path or DICTIONARY_FILE)
    t = templates or load_templates()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DictionarySpecError(f"{path}: {exc}") from exc
    meanings = {table: {kind: dict(raw.get(table, {}).get(kind, {})) for kind in ("items", "columns")}
                for table in TABLE_LABELS}
    for table in TABLE_LABELS:
        specs = [s for s in _specs(t) if s.code == table]
        codes = {"items": {it.code for s in specs for it in s.items},
                 "columns": {c for s in specs for c in s.columns}}
        for kind, expected in codes.items():
            have = set(meanings[table][kind])
            if expected - have:
                raise DictionarySpecError(f"{path.name}: no meaning for {table}.{kind} {sorted(expected - have)}")
            if have - expected:
                raise DictionarySpecError(f"{path.name}: {table}.{kind} {sorted(have - expected)} are no template codes")
    return Dictionary(meanings, dict(raw.get("tables", {})), dict(raw.get("t3_groups", {})))


def _merge(rows: list[tuple[str, str, str, str, str | None, str]]) -> list[Entry]:
    """(table, kind, code, version, unit, label) per version → one Entry per distinct label."""
    merged: dict[tuple, list[str]] = {}
    for table, kind, code, version, unit, label in rows:
        merged.setdefault((table, kind, code, label, unit), []).append(version)
    return [Entry(table, kind, code, label, tuple(sorted(set(vs))), unit, "")
            for (table, kind, code, label, unit), vs in merged.items()]


def dictionary_entries(templates: Templates | None = None, dictionary: Dictionary | None = None) -> list[Entry]:
    """Every table/item/column code with its printed label(s), versions, unit and meaning."""
    t = templates or load_templates()
    d = dictionary or load_dictionary(templates=t)
    rows = []
    for v in VERSIONS:
        for spec in (t.t2[v], t.t3, t.t4):
            for it in spec.items_for(v) if spec.version is None else spec.items:
                rows.append((spec.code, "item", it.code, v, None, it.labels[0]))
            used = {c for it in spec.items for c in it.columns} | set(spec.column_order)
            for code, col in spec.columns.items():
                if code in used:
                    rows.append((spec.code, "column", code, v, col.unit, col.labels[0]))
    out = []
    for e in _merge(rows):
        meaning = d.meanings[e.table][e.kind + "s"][e.code]
        out.append(Entry(e.table, e.kind, e.code, e.label, e.versions, e.unit, meaning))
    return out


def fact_labels(templates: Templates | None = None) -> list[FactLabel]:
    """The item and column labels of every (table, item, column) a report can carry."""
    t = templates or load_templates()
    per: dict[tuple[str, str, str], dict[str, tuple[str, str]]] = {}
    for v in VERSIONS:
        for spec in (t.t2[v], t.t3, t.t4):
            items = spec.items_for(v) if spec.version is None else spec.items
            for it in items:
                for col in it.columns:
                    per.setdefault((spec.code, it.code, col), {})[v] = (it.labels[0], spec.columns[col].labels[0])
    out = []
    for (table, item, col), by_version in per.items():
        if len(set(by_version.values())) == 1:
            out.append(FactLabel(table, item, col, None, *next(iter(by_version.values()))))
        else:
            out += [FactLabel(table, item, col, v, *labels) for v, labels in sorted(by_version.items())]
    return out


def _lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, tuple):
        return "[" + ", ".join(_lit(v) for v in value) + "]::VARCHAR[]"
    return "'" + str(value).replace("'", "''") + "'"


def values_sql(rows: list, names: tuple[str, ...]) -> str:
    """A SELECT of literal rows (dataclass instances with `names` as fields): the labels
    live in the DuckDB file as views, never as a table of data."""
    body = ",\n".join("(" + ", ".join(_lit(getattr(r, n)) for n in names) + ")" for r in rows)
    cols = ", ".join(f'"{n}"' for n in names)
    return f"SELECT * FROM (VALUES {body}) AS v({cols})"


def dictionary_sql() -> str:
    return values_sql(dictionary_entries(), ("table", "kind", "code", "label", "versions", "unit", "meaning"))


def fact_labels_sql() -> str:
    return values_sql(fact_labels(), ("table", "item", "column", "version", "item_label", "column_label"))


def dictionary_markdown() -> str:
    """docs/data-dictionary.md: generated by `xxgk dictionary --markdown`; a test keeps it in sync."""
    d = load_dictionary()
    lines = ["# Data dictionary", "",
             "Generated from `data/templates/*.toml` and `data/dictionary.toml` by",
             "`uv run xxgk dictionary --markdown > docs/data-dictionary.md` (do not edit by hand;",
             "`tests/test_labels.py` fails when it is out of date). The same rows are the `dictionary`",
             "view; `facts` carries `item_label` and `column_label`.", ""]
    entries = dictionary_entries()
    for table, title in TABLE_LABELS.items():
        lines += [f"## {title} `{table}`", "", d.tables.get(table, ""), ""]
        for kind in ("item", "column"):
            lines += [f"### {kind}s", "", "| code | 中文 label | versions | unit | meaning |", "|---|---|---|---|---|"]
            for e in entries:
                if e.table == table and e.kind == kind:
                    lines.append(f"| `{e.code}` | {e.label} | {', '.join(e.versions)} | {e.unit or ''} | {e.meaning} |")
            lines.append("")
    return "\n".join(lines)
