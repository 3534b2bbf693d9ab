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


@lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    """Cached: a document's labels are mostly the templates' labels again, and matching
    normalises each row's text several times (split, header, contained labels)."""
    return _WS.sub("", unicodedata.normalize("NFKC", fold_radicals(text or "")).translate(_QUOTES))


@lru_cache(maxsize=1 << 16)
def strip_enumeration(label: str) -> str:
    """Drop leading enumerators such as '2.', '(三)', '四、' (repeatedly). Cached like `norm`:
    header matching asks it of every header cell for every column."""
    prev = None
    while prev != label:
        prev = label
        label = _ENUM.sub("", label)
    return label
