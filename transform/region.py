"""The administrative region of an issuing body, from its name: province / city /
county with the GB/T 2260 division code, and the body's level and kind.

The division table is the one the `cpca` package ships (`cpca/resources/adcodes.csv`,
national division codes as of 2020); it is read as data, without importing `cpca`
(whose import needs `pkg_resources`). Resolution walks the name from its start:
an optional province (full name or short form such as 广西), an optional city within it,
an optional county within that. A name that is not unique at its level without a
parent (朝阳区 is in Beijing and in Changchun) stops the walk: the region is then only
what is certain, never a guess.

    >>> resolve("淮安市洪泽区人民政府")
    Region(name='江苏省淮安市洪泽区', code='320813', level='县级', body_type='government')
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .errors import TransformError

DATASET = "cpca"
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_MUNICIPALITIES = {"11", "12", "31", "50"}
_SHORT = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_TOWN = re.compile(r"^(?P<town>[\u4e00-\u9fff]{1,8}?(?:镇|乡|街道))(?:人民政府|办事处|党政办|$)")


class RegionDataMissing(TransformError):
    """The division table could not be found (the `cpca` package is not installed)."""


@dataclass(frozen=True, slots=True)
class Region:
    name: str | None
    code: str | None
    level: str | None
    body_type: str | None


@dataclass(slots=True)
class _Table:
    names: dict[str, str]
    children: dict[str, list[str]]
    by_name: dict[str, list[str]]
    provinces: dict[str, str]  # full and short name → code


def _dataset_path() -> Path:
    spec = importlib.util.find_spec(DATASET)
    if spec is None or not spec.submodule_search_locations:
        raise RegionDataMissing(f"the `{DATASET}` package (division table) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"


@functools.lru_cache(maxsize=1)
def _table() -> _Table:
    names: dict[str, str] = {}
    with _dataset_path().open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names[row["adcode"][:6]] = row["name"]
    children: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    provinces: dict[str, str] = {}
    for code, name in names.items():
        if code.endswith("0000"):
            provinces[name] = code
            short = _SHORT.sub("", name)
            if len(short) >= 2:
                provinces.setdefault(short, code)
            continue
        if name in _PLACEHOLDERS:
            continue
        if code.endswith("00"):
            parent = code[:2] + "0000"
        else:
            city = code[:4] + "00"
            # counties of municipalities and 省直辖 counties hang under the province
            parent = city if city in names and names[city] not in _PLACEHOLDERS else code[:2] + "0000"
        children[parent].append(code)
        by_name[name].append(code)
    return _Table(names, dict(children), dict(by_name), provinces)


def _longest_child(t: _Table, text: str, parent: str | None, level_codes: bool) -> tuple[str | None, int, bool]:
    """(code, length, ambiguous) of the longest division name at the start of `text`."""
    for n in range(min(len(text), 24), 1, -1):
        codes = t.by_name.get(text[:n])
        if not codes:
            continue
        if parent is not None:
            codes = [c for c in codes if c in t.children.get(parent, ()) or
                     any(c in t.children.get(k, ()) for k in t.children.get(parent, ()))]
            if not codes:
                continue
        if level_codes:
            codes = [c for c in codes if c.endswith("00")] or codes
        if len(codes) > 1:
            return (None, n, True)
        return (codes[0], n, False)
    return (None, 0, False)


def resolve(agency: str | None) -> Region:
    """Region, GB/T 2260 code, level (省级/市级/县级/乡镇) and kind (government/department)."""
    if not agency:
        return Region(None, None, None, None)
    t = _table()
    text = re.sub(r"\s+", "", agency)
    pos = 0
    chain: list[str] = []
    for n in range(min(len(text), 12), 1, -1):
        code = t.provinces.get(text[:n])
        if code:
            # 吉林市 is a city, not 吉林 (the province) + 市: the longer name wins
            _, city_len, _ = _longest_child(t, text, None, level_codes=True)
            if city_len <= n:
                chain.append(code)
                pos = n
            break
    for _ in range(2):
        parent = chain[-1] if chain else None
        code, n, ambiguous = _longest_child(t, text[pos:], parent, level_codes=not chain)
        if code is None:
            break
        chain.append(code)
        pos += n
    if not chain:
        return Region(None, None, None, None)
    code = chain[-1]
    rest = text[pos:]
    level = "省级" if code.endswith("0000") else "市级" if code.endswith("00") else "县级"
    if code[:2] in _MUNICIPALITIES and not code.endswith("0000"):
        level = "县级"  # districts and counties of 北京/天津/上海/重庆
    if _TOWN.match(rest) and level == "县级":
        level = "乡镇"
    return Region(_full_name(t, code), code, level, _kind(rest))


def needs_parent(agency: str | None) -> bool:
    """Whether a name begins with a division name that several divisions share (朝阳区 is in
    Beijing and in Changchun) or with a township's (城关镇: hundreds of them): a local body
    that cannot be told from others of its name without its parent division."""
    if not agency:
        return False
    text = re.sub(r"\s+", "", agency)
    _, _, ambiguous = _longest_child(_table(), text, None, level_codes=False)
    return ambiguous or bool(_TOWN.match(text))


def _full_name(t: _Table, code: str) -> str:
    parts = [t.names.get(code[:2] + "0000")]
    city = code[:4] + "00"
    if city != code[:2] + "0000" and t.names.get(city) not in _PLACEHOLDERS and city in t.names:
        parts.append(t.names[city])
    if not code.endswith("00"):
        parts.append(t.names[code])
    return "".join(p for p in dict.fromkeys(parts) if p)


def _kind(rest: str) -> str | None:
    m = _TOWN.match(rest)
    if m:
        rest = rest[m.end("town"):]
    if rest in ("", "人民政府", "办事处", "街道办事处"):
        return "government"
    return "department"


def division_names(code: str) -> tuple[list[str], str]:
    """(names of the divisions above `code`: province full and short name, city; the
    division's own name), as printed before a body's name: (江苏省/江苏, 淮安市), 洪泽区."""
    t = _table()
    names = []
    province = code[:2] + "0000"
    if code != province and province in t.names:
        full = t.names[province]
        names += [full, _SHORT.sub("", full)]
    city = code[:4] + "00"
    if code not in (city, province) and t.names.get(city) not in _PLACEHOLDERS and city in t.names:
        names.append(t.names[city])
    return [n for n in names if len(n) >= 2], t.names.get(code, "")
