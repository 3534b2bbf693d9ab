"""Label normalisation shared by matching: radicals folded (browser-printed PDFs, see
`common.text`), NFKC (full-width → half-width brackets, digits, colons), all whitespace
removed, every quote style unified to '"'."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from common.text import fold_radicals

_QUOTES = str.maketrans({c: '"' for c in "“”„‟「」『』‘’'＂〝〞"})
_WS = re.compile(r"\s+")
_ENUM = re.compile(r"^(?:[(（]?[一二三四五六七八九十]+[)）、.]|\d+[.、])")
_DIGIT_ENUM = re.compile(r"(?<![\d.第])(?:(\d{1,2})、|\((\d{1,2})\))")


@lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    """Cached: a document's labels are mostly the templates' labels again, and matching
    normalises each row's text several times (split, header, contained labels)."""
    t = _WS.sub("", unicodedata.normalize("NFKC", fold_radicals(text or "")).translate(_QUOTES))
    return unify_enumerators(t)


def unify_enumerators(text: str) -> str:
    """Digit enumerators printed as `3、` or `(3)` → `3.`, as the templates spell them (the
    form prints `3.其他`; many reports print `3、其他`). Applied after NFKC, so `３．` and
    `（3）` are covered too; a number inside text (`2021、`, `1.5、`) is left alone."""
    return _DIGIT_ENUM.sub(lambda m: (m.group(1) or m.group(2)) + ".", text)


@lru_cache(maxsize=1 << 16)
def strip_enumeration(label: str) -> str:
    """Drop leading enumerators such as '2.', '(三)', '四、' (repeatedly). Cached like `norm`:
    header matching asks it of every header cell for every column."""
    prev = None
    while prev != label:
        prev = label
        label = _ENUM.sub("", label)
    return label
