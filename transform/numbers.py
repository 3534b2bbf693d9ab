"""Cell text → numbers. The one place that knows full-width digits, thousands
separators, blank markers and the units of amounts (万元 / 万 / 元)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

BLANK_MARKERS = frozenset({"", "-", "--", "---", "—", "——", "–", "/", "\\", "无", "空", "_", "——/"})
"""Cell contents that mean 'nothing printed' (kept as null; checks read them as 0)."""

_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")
_DIGITS_APART = re.compile(r"(?<=\d)\s+(?=\d)")
_COUNT = re.compile(r"^([+-]?\d+)(?:\.0{1,2})?(?:件|个|项|条|次|人)?$")
"""A count may print `5.0` or `5.00`; `2.000` is not read: 2 with three decimals, or 2000
with a dot between thousands."""
_AMOUNT = re.compile(r"^([+-]?\d+(?:\.\d+)?)(万元|万|元)?$")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Parsed:
    kind: str  # "number" | "blank" | "unreadable"
    value: float | int | None = None
    unit: str | None = None
    unit_assumed: bool = False


@lru_cache(maxsize=1 << 16)
def _clean(text: str, digits_apart_ok: bool = False) -> str:
    """Cached: most cells hold the same few strings (`0`, blanks, small counts)."""
    t = unicodedata.normalize("NFKC", text or "").strip()
    if not digits_apart_ok:
        # digits apart (`1 2`) are two numbers run together, or one spaced out: never guess
        t = _DIGITS_APART.sub("\x00", t)
    t = _SPACE.sub("", t)
    return _THOUSANDS.sub("", t)


def is_blank(text: str) -> bool:
    return _clean(text) in BLANK_MARKERS


@lru_cache(maxsize=1 << 16)
def looks_numeric(text: str) -> bool:
    """True if the cell holds a count, an amount or a blank marker (not a label); `1 2`
    counts as numeric here (it is a value cell), though it parses as unreadable."""
    t = _clean(text, digits_apart_ok=True)
    return t in BLANK_MARKERS or bool(_COUNT.match(t) or _AMOUNT.match(t))


@lru_cache(maxsize=1 << 16)
def parse_count(text: str) -> Parsed:
    """Cached, like `parse_amount`: a pure function of the text, and `Parsed` is frozen."""
    t = _clean(text)
    if t in BLANK_MARKERS:
        return Parsed("blank")
    m = _COUNT.match(t)
    if m:
        return Parsed("number", int(m.group(1)))
    return Parsed("unreadable")


@lru_cache(maxsize=1 << 16)
def parse_amount(text: str, default_unit: str = "万元", header_has_unit: bool = False) -> Parsed:
    """Amounts are normalised to 万元 (`251000元` → 25.1, `506.48 万` → 506.48)."""
    t = _clean(text)
    if t in BLANK_MARKERS:
        return Parsed("blank", unit="万元")
    m = _AMOUNT.match(t)
    if not m:
        return Parsed("unreadable", unit="万元")
    number = Decimal(m.group(1))
    unit = m.group(2)
    assumed = False
    if unit is None:
        unit = default_unit
        assumed = not header_has_unit
    if unit == "元":
        number = number / Decimal(10000)
    value = float(number)
    return Parsed("number", int(value) if value == int(value) and "." not in m.group(1) and unit != "元" else value,
                  unit="万元", unit_assumed=assumed)


_DECLARED_UNIT = re.compile(r"单位\s*[:：]\s*(?:人民币)?\s*(万元|元)|[(（]\s*单位\s*(万元|元)\s*[)）]")


def declared_units(text: str) -> frozenset[str]:
    """The amount units a document declares anywhere (`单位：元` above a table, in a section
    row, in a header): what an amount whose own header and cell name none may be in."""
    return frozenset(a or b for a, b in _DECLARED_UNIT.findall(unicodedata.normalize("NFKC", text or "")))


def to_decimal(value: float | int | None) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
