"""Radical code points → the ideographs they stand for, before any matching or metadata.

PDFs printed from Chromium or Edge map some glyphs to Kangxi radicals (⼯ U+2F2F for 工,
⼈ for 人) or to the CJK Radicals Supplement (⺠ U+2EA0 for 民): the text reads the same
but no title, agency or label matches. `fold_radicals` maps the Kangxi block (U+2F00–
U+2FD5) by NFKC and the supplement (U+2E80–U+2EFF, which NFKC leaves alone but for two)
by the table `data/radicals.toml` (Unicode's EquivalentUnifiedIdeograph.txt, with the few
exceptions browser-printed PDFs need, ⼾ → 户 among them). Every other character is left
as it is.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache
from pathlib import Path

from .errors import XxgkError

RADICALS_PATH = Path(__file__).resolve().parent.parent / "data" / "radicals.toml"
KANGXI = (0x2F00, 0x2FD5)
SUPPLEMENT = (0x2E80, 0x2EFF)


class RadicalTableInvalid(XxgkError):
    """data/radicals.toml is malformed (names the entry)."""


def _is_ideograph(ch: str) -> bool:
    """A CJK unified ideograph: the main block, extension A, or extensions B–H."""
    cp = ord(ch)
    return 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0x20000 <= cp <= 0x323AF


def _entries(data: dict, section: str, block: tuple[int, int], required: bool) -> dict[int, str]:
    table = data.get(section, {})
    if not isinstance(table, dict) or (required and not table):
        raise RadicalTableInvalid(f"radicals.toml: [{section}] missing or empty")
    out: dict[int, str] = {}
    for key, value in table.items():
        if len(key) != 1 or not block[0] <= ord(key) <= block[1]:
            raise RadicalTableInvalid(
                f"radicals.toml: [{section}] key {key!r} is not one character of U+{block[0]:04X}–U+{block[1]:04X}")
        if not isinstance(value, str) or len(value) != 1 or not _is_ideograph(value):
            raise RadicalTableInvalid(f"radicals.toml: [{section}] {key!r} = {value!r} is not one CJK ideograph")
        out[ord(key)] = value
    return out


def parse_radical_table(data: dict) -> dict[int, str]:
    """radicals.toml as a str.translate table, validated: the Kangxi block by NFKC with the
    `[kangxi]` overrides, and the `[supplement]` table."""
    out = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(KANGXI[0], KANGXI[1] + 1)}
    out |= _entries(data, "kangxi", KANGXI, required=False)
    out |= _entries(data, "supplement", SUPPLEMENT, required=True)
    return out


@cache
def radical_table(path: Path = RADICALS_PATH) -> dict[int, str]:
    with path.open("rb") as f:
        return parse_radical_table(tomllib.load(f))


_RADICAL = re.compile("[\u2e80-\u2eff\u2f00-\u2fd5]")


def has_radicals(text: str) -> bool:
    return _RADICAL.search(text) is not None


def fold_radicals(text: str) -> str:
    """`text` with Kangxi and supplement radicals replaced by their ideographs (⼯作 → 工作,
    ⼈⺠ → 人民); radicals without an equivalent, and everything else, unchanged."""
    if not text or not has_radicals(text):
        return text
    return text.translate(radical_table())
