"""Template specs (data/templates/*.toml) loaded and validated: items, columns, label
variants and identities of 表二/表三/表四 for the 2019 and 2021 formats."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TemplateSpecError
from .normalize import norm

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "data" / "templates"
TABLES = ("t2", "t3", "t4")
VERSIONS = ("2019", "2021")


@dataclass(frozen=True)
class ColumnSpec:
    code: str
    labels: tuple[str, ...]
    unit: str | None = None


@dataclass(frozen=True)
class ItemSpec:
    code: str
    labels: tuple[str, ...]
    columns: tuple[str, ...]
    versions: tuple[str, ...] = VERSIONS


@dataclass(frozen=True)
class TableSpec:
    code: str
    version: str | None
    items: tuple[ItemSpec, ...]
    columns: dict[str, ColumnSpec]
    column_order: tuple[str, ...] = ()
    title: tuple[str, ...] = ()

    def item(self, code: str) -> ItemSpec:
        for it in self.items:
            if it.code == code:
                return it
        raise KeyError(code)

    def items_for(self, version: str) -> tuple[ItemSpec, ...]:
        return tuple(it for it in self.items if version in it.versions)


@dataclass(frozen=True)
class Identity:
    rule: str
    number: int
    table: str
    kind: str
    lhs: tuple[str, ...] = ()
    rhs: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()


def expand_items(refs, printed: list[str]) -> list[str]:
    """An identity's item references → the printed items: `denied.*` names every printed
    item starting with `denied.`; an item not printed is left out."""
    out = []
    for ref in refs:
        if ref.endswith(".*"):
            out += [i for i in printed if i.startswith(ref[:-1])]
        elif ref in printed:
            out.append(ref)
    return out


@dataclass(frozen=True)
class T4Layout:
    """How 表四 is found: the header row that opens it names `opens` and one of
    `opens_with`; printed one row per item, a row is the first item of `row_parts` whose
    parts its label contains (most specific first), and a row whose label holds one of
    `row_starts` begins an item row (it is not the rest of a row a page break split)."""

    opens: str
    opens_with: tuple[str, ...]
    row_parts: tuple[tuple[str, tuple[str, ...]], ...]
    row_starts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Templates:
    t2: dict[str, TableSpec]
    t3: TableSpec
    t4: TableSpec
    identities: tuple[Identity, ...]
    t4_layout: T4Layout
    detect: dict[str, tuple[str, ...]] = field(default_factory=dict)
    first_year: dict[str, int] = field(default_factory=dict)

    def version_for_year(self, year: int | None) -> str | None:
        if year is None:
            return None
        best = None
        for v, first in sorted(self.first_year.items(), key=lambda kv: kv[1]):
            if year >= first:
                best = v
        return best


_ALLOWED = {
    "version": {"version", "first_year", "last_year", "detect", "tables"},
    "common": {"tables", "identities"},
    "table": {"title", "items", "columns", "column_order"},
    "item": {"code", "labels", "columns", "versions"},
    "identity": {"rule", "number", "table", "kind", "lhs", "rhs", "exempt"},
    "t4_layout": {"opens", "opens_with", "row_parts", "row_starts"},
    "row_parts": {"item", "parts"},
}
_KINDS = {"column_sum", "row_sum", "non_negative_integer"}


def _unknown(where: str, keys, allowed: set[str], path: Path) -> None:
    extra = set(keys) - allowed
    if extra:
        raise TemplateSpecError(f"{path.name}: unknown key(s) {sorted(extra)} in {where}; allowed: {sorted(allowed)}")


def _labels(value, path: Path, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise TemplateSpecError(f"{path.name}: {where} needs a non-empty list of labels")
    return tuple(norm(v) for v in value)


def _columns(raw: dict, path: Path, where: str) -> dict[str, ColumnSpec]:
    out = {}
    for code, spec in raw.items():
        if isinstance(spec, dict):
            _unknown(f"{where}.columns.{code}", spec, {"labels", "unit"}, path)
            out[code] = ColumnSpec(code, _labels(spec.get("labels"), path, f"{where}.columns.{code}"), spec.get("unit"))
        else:
            out[code] = ColumnSpec(code, _labels(spec, path, f"{where}.columns.{code}"))
    return out


def _table(code: str, raw: dict, version: str | None, path: Path) -> TableSpec:
    _unknown(f"tables.{code}", raw, _ALLOWED["table"], path)
    columns = _columns(raw.get("columns", {}), path, f"tables.{code}")
    order = tuple(raw.get("column_order", ()))
    items = []
    seen = set()
    for it in raw.get("items", []):
        _unknown(f"tables.{code}.items", it, _ALLOWED["item"], path)
        c = it.get("code")
        if not c or c in seen:
            raise TemplateSpecError(f"{path.name}: tables.{code} has a missing or duplicate item code {c!r}")
        seen.add(c)
        cols = tuple(it.get("columns", order))
        for col in cols:
            if col not in columns:
                raise TemplateSpecError(f"{path.name}: item {code}.{c} names column {col!r} not declared in tables.{code}.columns")
        versions = tuple(it.get("versions", [version] if version else VERSIONS))
        items.append(ItemSpec(c, _labels(it.get("labels"), path, f"tables.{code}.{c}"), cols, versions))
    for col in order:
        if col not in columns:
            raise TemplateSpecError(f"{path.name}: column_order of tables.{code} names undeclared column {col!r}")
    return TableSpec(code, version, tuple(items), columns, order, tuple(norm(t) for t in raw.get("title", ())))


def _t4_layout(raw, t4: TableSpec, path: Path) -> T4Layout:
    """tables.t4.layout: every 表四 item named once in row_parts."""
    where = "tables.t4.layout"
    if not isinstance(raw, dict):
        raise TemplateSpecError(f"{path.name}: {where} is missing")
    _unknown(where, raw, _ALLOWED["t4_layout"], path)
    opens = _labels(raw.get("opens"), path, f"{where}.opens")
    if len(opens) != 1:
        raise TemplateSpecError(f"{path.name}: {where}.opens needs one label")
    parts = []
    for entry in raw.get("row_parts", []):
        _unknown(f"{where}.row_parts", entry, _ALLOWED["row_parts"], path)
        parts.append((entry.get("item"), _labels(entry.get("parts"), path, f"{where}.row_parts")))
    named = [item for item, _ in parts]
    if sorted(named, key=str) != sorted(it.code for it in t4.items):
        raise TemplateSpecError(f"{path.name}: {where}.row_parts must name each 表四 item once, "
                                f"got {named}, items {[it.code for it in t4.items]}")
    return T4Layout(opens[0], _labels(raw.get("opens_with"), path, f"{where}.opens_with"), tuple(parts),
                    _labels(raw.get("row_starts"), path, f"{where}.row_starts"))


@functools.lru_cache(maxsize=4)
def load_templates(directory: Path | None = None) -> Templates:
    directory = Path(directory or TEMPLATE_DIR)
    t2: dict[str, TableSpec] = {}
    detect: dict[str, tuple[str, ...]] = {}
    first: dict[str, int] = {}
    for version in VERSIONS:
        path = directory / f"{version}.toml"
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TemplateSpecError(f"{path}: {exc}") from exc
        _unknown("top level", raw, _ALLOWED["version"], path)
        if raw.get("version") != version:
            raise TemplateSpecError(f"{path.name}: version = {raw.get('version')!r}, expected {version!r}")
        t2[version] = _table("t2", raw["tables"]["t2"], version, path)
        detect[version] = tuple(norm(d) for d in raw.get("detect", ()))
        first[version] = int(raw["first_year"])
    path = directory / "t3_t4.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    _unknown("top level", raw, _ALLOWED["common"], path)
    t3 = _table("t3", raw["tables"]["t3"], None, path)
    raw_t4 = dict(raw["tables"]["t4"])
    t4_layout_raw = raw_t4.pop("layout", None)
    t4 = _table("t4", raw_t4, None, path)
    t4_layout = _t4_layout(t4_layout_raw, t4, path)
    identities = []
    for ident in raw.get("identities", []):
        _unknown("identities", ident, _ALLOWED["identity"], path)
        if ident.get("kind") not in _KINDS:
            raise TemplateSpecError(f"{path.name}: identity {ident.get('rule')!r} kind must be one of {sorted(_KINDS)}")
        table = {"t3": t3, "t4": t4}.get(ident["table"])
        if table is not None:
            codes = {it.code for it in table.items}
            names = codes if ident["kind"] == "column_sum" else set(table.columns)
            for ref in list(ident.get("lhs", [])) + list(ident.get("rhs", [])):
                base = ref.removesuffix(".*")
                if ref.endswith(".*"):
                    ok = any(c.startswith(base + ".") for c in codes)
                else:
                    ok = ref in names
                if not ok:
                    raise TemplateSpecError(f"{path.name}: identity {ident['rule']!r} names {ref!r}, not in {ident['table']}")
        identities.append(Identity(ident["rule"], int(ident["number"]), ident["table"], ident["kind"],
                                   tuple(ident.get("lhs", ())), tuple(ident.get("rhs", ())), tuple(ident.get("exempt", ()))))
    return Templates(t2=t2, t3=t3, t4=t4, identities=tuple(identities), t4_layout=t4_layout,
                     detect=detect, first_year=first)
