"""Sniff a document's format from its bytes (the file name only breaks ties)."""

from __future__ import annotations

import re
from pathlib import Path

from charset_normalizer import from_bytes

FORMATS = ("pdf", "docx", "html", "text", "doc", "wps", "image")


def sniff_format(path: Path, head: bytes) -> str:
    """Return one of FORMATS, or "unknown"."""
    suffix = path.suffix.lower().lstrip(".")
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2 compound file: .doc, .wps, .xls
        return "wps" if suffix == "wps" else "doc"
    lower = head[:4096].lower()
    if b"<html" in lower or b"<!doctype html" in lower or b"<table" in lower or b"<body" in lower:
        return "html"
    if suffix in ("htm", "html", "shtml"):
        return "html"
    if suffix in ("pdf", "docx", "doc", "wps"):
        return suffix  # the extractor will say why the bytes do not fit
    return "text"


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\ufffd]")


def looks_binary(text: str, sample: int = 100_000, share: float = 0.02) -> bool:
    """True when decoded 'text' is mostly bytes that are not text: more than `share` of its
    first `sample` characters are control characters or U+FFFD replacements."""
    head = text[:sample]
    if not head:
        return False
    bad = len(_CONTROL.findall(head))
    return bad > share * len(head)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode bytes of a web page or text file: BOM, declared charset, UTF-8, then detection.

    GB2312/GBK declarations are read as GB18030 (its superset), as browsers do.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    candidates = []
    if declared:
        d = declared.strip().lower()
        if d in ("gb2312", "gbk", "gb18030", "x-gbk", "gb_2312-80"):
            d = "gb18030"
        candidates.append(d)
    candidates.append("utf-8")
    for enc in candidates:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    # Undeclared and not UTF-8: Chinese government pages are almost always GB18030;
    # let charset-normalizer confirm, preferring the Chinese codecs when it hesitates.
    try:
        text = data.decode("gb18030")
        return text
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000]).best()
    if best is not None:
        return data.decode(best.encoding, errors="replace")
    return data.decode("utf-8", errors="replace")

