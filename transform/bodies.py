"""Issuing bodies: a stable `body_id` for every body, whatever name it printed.

    normalise_name → canonical_name (registry aliases and renames) → region (registry
    entry for a body that is no division, else the division table) → body_id

The registry is data (`data/bodies.toml`, validated on load). `body_id` is readable and
stable: the GB/T 2260 code of the body's division, a dash, and its canonical name without
the names of the divisions above it (so 江苏省淮安市洪泽区人民政府 and 淮安市洪泽区人民政府 are
one body):

    >>> body_id("320813", "洪泽区人民政府")
    '320813-洪泽区人民政府'

A body whose division is unknown (a name that is no division, or one shared by several)
gets the code `000000`; a `[[body]]` entry in the registry places it.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TransformError
from .region import Region, division_names, needs_parent
from .region import resolve as resolve_region

REGISTRY_PATH = Path(__file__).resolve().parent.parent / "data" / "bodies.toml"
UNKNOWN_CODE = "000000"
LEVELS = ("省级", "市级", "县级", "乡镇")
KINDS = ("government", "department")

_WS = re.compile(r"\s+")
_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "【": "(", "】": ")", "［": "(", "］": ")", "[": "(", "]": ")",
                           "﹙": "(", "﹚": ")"})
_QUOTES = "《》“”\"'「」『』‘’〈〉"
# 政府 after a division name is its 人民政府, but only as the whole rest of the name or
# before 办/办公室/办公厅 (淮安市政府采购中心 is a procurement centre, not a 人民政府)
_GOV = re.compile(r"(?<=[省市县区州旗盟镇乡])政府(?=$|办$|办公室$|办公厅$)")


class BodyRegistryError(TransformError):
    """data/bodies.toml is malformed (names the entry and the key)."""


@dataclass(frozen=True, slots=True)
class BodyEntry:
    """A body that is no administrative division, with the division it belongs to."""

    name: str
    region: str
    region_code: str
    level: str
    kind: str


@dataclass(frozen=True, slots=True)
class Registry:
    aliases: dict[str, str] = field(default_factory=dict)
    """normalised printed name → canonical name"""
    bodies: dict[str, BodyEntry] = field(default_factory=dict)
    """normalised name → entry"""


@dataclass(frozen=True, slots=True)
class BodyRef:
    body_id: str | None
    name: str | None
    """The canonical name."""
    region: Region


def normalise_name(name: str | None) -> str | None:
    """A printed body name in one form: NFKC (full-width → half-width), no whitespace,
    brackets as (), no surrounding quotes; 政府 → 人民政府 after a division name, 人民政府办 →
    人民政府办公室, 街道/街道办 → 街道办事处."""
    if not name:
        return None
    s = _WS.sub("", unicodedata.normalize("NFKC", name)).translate(_BRACKETS).strip(_QUOTES)
    s = _GOV.sub("人民政府", s)
    s = re.sub(r"人民政府办$", "人民政府办公室", s)
    s = re.sub(r"街道(?:办)?$", "街道办事处", s)
    return s or None


def canonical_name(name: str | None, registry: Registry) -> str | None:
    """The body's canonical name: the registry's alias target, else the normalised name."""
    norm = normalise_name(name)
    return registry.aliases.get(norm, norm) if norm else None


def registered_region(canonical: str | None, registry: Registry) -> Region | None:
    """The region of a registered body, or of a body whose name starts with one (its
    departments); None when the registry does not know it."""
    if not canonical:
        return None
    best = max((e for n, e in registry.bodies.items() if canonical.startswith(n)), key=lambda e: len(e.name),
               default=None)
    if best is None:
        return None
    kind = best.kind if canonical == best.name else "department"
    return Region(best.region, best.region_code, best.level, kind)


def strip_ancestors(name: str, ancestors: list[str], own: str) -> str:
    """`name` without the leading names of the divisions above its own division `own`:
    only while what is left still starts with an ancestor's name or `own` (吉林市人民政府
    keeps its 吉林, which is the city's name, not the province's)."""
    changed = True
    while changed:
        changed = False
        for a in sorted(ancestors, key=len, reverse=True):
            rest = name[len(a):]
            if a and name.startswith(a) and (rest.startswith(own) or any(rest.startswith(b) for b in ancestors)):
                name, changed = rest, True
                break
    return name


def body_id(region_code: str | None, canonical: str | None, ancestors: list[str] = (), own: str = "") -> str | None:
    """`<GB/T 2260 code>-<canonical name without its ancestors' names>`; None without a name."""
    if not canonical:
        return None
    return f"{region_code or UNKNOWN_CODE}-{strip_ancestors(canonical, list(ancestors), own) if own else canonical}"


def resolve_body(agency: str | None, registry: Registry | None = None) -> BodyRef:
    """The body behind a printed name: canonical name, region and body_id."""
    registry = registry if registry is not None else load_registry()
    canonical = canonical_name(agency, registry)
    region = registered_region(canonical, registry) or resolve_region(canonical)
    if region.code is None and (not plausible_name(canonical) or needs_parent(canonical)):
        # no id rather than one that two bodies would share (two 朝阳区人民政府 as one report)
        return BodyRef(None, canonical, region)
    ancestors, own = division_names(region.code) if region.code else ([], "")
    return BodyRef(body_id(region.code, canonical, ancestors, own), canonical, region)


def other_body(a: BodyRef, b: BodyRef) -> bool:
    """Do two names (the page's title and the report's visible one) name two bodies? Both must
    be placed (a name without a body_id, `XX网-` from a site's name, says nothing); the same
    body_id, or one canonical name extending the other in the same division (平潭综合实验区
    and 平潭综合实验区管委会, 洪泽区 and 洪泽区人民政府), is one body."""
    if a.body_id is None or b.body_id is None or a.body_id == b.body_id:
        return False
    (code_a, x), (code_b, y) = a.body_id.split("-", 1), b.body_id.split("-", 1)  # names without ancestors
    return not (code_a == code_b and (x.startswith(y) or y.startswith(x)))


_PLAUSIBLE = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff()·]*")


def plausible_name(name: str | None) -> bool:
    """A body's name is Chinese characters (and brackets, ·) beginning with a character: a
    fragment left by markup or a broken title (`]财政局`, `)财政局`) is no body's name."""
    return bool(name) and _PLAUSIBLE.fullmatch(name) is not None


# ---------------------------------------------------------------- the registry file

_ALIAS_KEYS = {"canonical", "names", "since", "note"}
_BODY_KEYS = {"name", "region", "region_code", "level", "kind", "note"}


def _check_keys(where: str, entry: dict, allowed: set[str], required: set[str], path: Path) -> None:
    if not isinstance(entry, dict):
        raise BodyRegistryError(f"{path.name}: {where} must be a table")
    extra = set(entry) - allowed
    if extra:
        raise BodyRegistryError(f"{path.name}: unknown key(s) {sorted(extra)} in {where}; allowed: {sorted(allowed)}")
    lacking = required - set(entry)
    if lacking:
        raise BodyRegistryError(f"{path.name}: {where} lacks {sorted(lacking)}")


def parse_registry(raw: dict, path: Path = REGISTRY_PATH) -> Registry:
    """A validated Registry from the parsed TOML (raises BodyRegistryError naming the entry)."""
    unknown = set(raw) - {"alias", "body"}
    if unknown:
        raise BodyRegistryError(f"{path.name}: unknown section(s) {sorted(unknown)}; allowed: alias, body")
    aliases: dict[str, str] = {}
    for k, e in enumerate(raw.get("alias", [])):
        where = f"alias #{k + 1}"
        _check_keys(where, e, _ALIAS_KEYS, {"canonical", "names"}, path)
        canonical = normalise_name(e["canonical"]) if isinstance(e["canonical"], str) else None
        if not canonical or not isinstance(e["names"], list) or not e["names"] \
                or not all(isinstance(n, str) and n.strip() for n in e["names"]):
            raise BodyRegistryError(f"{path.name}: {where} needs a canonical name and a non-empty list of names")
        for n in map(normalise_name, e["names"]):
            if n == canonical:
                raise BodyRegistryError(f"{path.name}: {where}: {n!r} is its own canonical name (not an alias)")
            if aliases.get(n, canonical) != canonical:
                raise BodyRegistryError(f"{path.name}: {where}: {n!r} is already an alias of {aliases[n]!r}")
            aliases[n] = canonical
    chained = sorted(set(aliases) & set(aliases.values()))
    if chained:
        raise BodyRegistryError(f"{path.name}: {chained} are both a canonical name and an alias (no chains)")
    bodies: dict[str, BodyEntry] = {}
    for k, e in enumerate(raw.get("body", [])):
        where = f"body #{k + 1}"
        _check_keys(where, e, _BODY_KEYS, _BODY_KEYS - {"note"}, path)
        name = normalise_name(e["name"]) if isinstance(e["name"], str) else None
        if not name or name in bodies:
            raise BodyRegistryError(f"{path.name}: {where} has a missing or duplicate name {e['name']!r}")
        if not re.fullmatch(r"\d{6}", str(e["region_code"])):
            raise BodyRegistryError(f"{path.name}: {where}: region_code must be 6 digits, got {e['region_code']!r}")
        if e["level"] not in LEVELS or e["kind"] not in KINDS:
            raise BodyRegistryError(f"{path.name}: {where}: level must be one of {LEVELS}, kind one of {KINDS}")
        bodies[name] = BodyEntry(name, str(e["region"]), str(e["region_code"]), e["level"], e["kind"])
    return Registry(aliases, bodies)


@functools.lru_cache(maxsize=4)
def load_registry(path: Path = REGISTRY_PATH) -> Registry:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BodyRegistryError(f"{path}: {exc}") from exc
    return parse_registry(raw, Path(path))
