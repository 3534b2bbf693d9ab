"""A faster content-stream interpreter for pdfminer.six.

pdfminer's `PDFContentParser` tokenizes page content one state-machine step at a time;
for the text-and-rulings pages of these reports that is about 90% of the PDF path. This
module keeps everything else of pdfminer (fonts, CMaps, the graphics state, the device)
and only replaces the tokenizer: one compiled regular expression over the decoded
stream, operators dispatched through a cached table. Inline images (BI … ID … EI) are
skipped: xxgk reads characters and rulings, never pixels.

The objects produced are pdfminer's own (ints, floats, `PSLiteral`, `PSKeyword`, bytes,
lists, dicts), so every `do_*` operator of `PDFPageInterpreter` works unchanged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdftypes import PDFStream, stream_value
from pdfminer.psparser import KWD, LIT

log = logging.getLogger(__name__)

_WS = rb"\x00\t\n\x0c\r "
_DELIM = rb"()<>\[\]{}/%"
_TOKEN = re.compile(
    rb"[" + _WS + rb"]+|%[^\r\n]*"                              # 1 whitespace, comments (no group)
    rb"|([+-]?(?:\d+\.\d*|\.\d+))"                              # 1 float
    rb"|([+-]?\d+)(?![\w.])"                                    # 2 int
    rb"|/([^" + _WS + _DELIM + rb"]*)"                          # 3 name
    rb"|\(((?:[^()\\]|\\.)*)\)"                                 # 4 string without nested parens
    rb"|<([0-9A-Fa-f" + _WS + rb"]*)>"                          # 5 hex string
    rb"|(<<|>>|\[|\]|\{|\})"                                    # 6 brackets
    rb"|(\()"                                                   # 7 string with nested parens
    rb"|([^" + _WS + _DELIM + rb"]+)",                          # 8 operator / keyword
    re.S,
)
_ESC = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|\r|\n)|(.))", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_NAME_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_HEX_WS = re.compile(rb"[" + _WS + rb"]")
_EI = re.compile(rb"[" + _WS + rb"]EI(?=[" + _WS + rb"]|$)")


def _unescape(raw: bytes) -> bytes:
    if b"\\" not in raw:
        return raw

    def one(m: re.Match) -> bytes:
        if m.group(1):
            return bytes((int(m.group(1), 8) & 0xFF,))
        if m.group(2):
            return b""
        c = m.group(3)
        return _ESCAPES.get(c, c)

    return _ESC.sub(one, raw)


def _nested_string(data: bytes, start: int) -> tuple[bytes, int]:
    """A literal string with balanced nested parentheses from `start` (just past '(')."""
    depth, i, n = 1, start, len(data)
    while i < n:
        c = data[i]
        if c == 0x5C:  # backslash
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return _unescape(data[start:i]), i + 1
        i += 1
    return _unescape(data[start:]), n


def _literal(raw: bytes):
    if b"#" in raw:
        raw = _NAME_HEX.sub(lambda m: bytes((int(m.group(1), 16),)), raw)
    try:
        return LIT(str(raw, "utf-8"))
    except UnicodeDecodeError:
        return LIT(raw)


_TRUE, _FALSE = b"true", b"false"


def tokens(data: bytes):
    """Yield the top-level objects of a content stream: operands and `PSKeyword`s."""
    stack: list[list] = []  # open arrays / dicts
    kinds: list[bytes] = []
    pos, n = 0, len(data)
    match = _TOKEN.match
    while pos < n:
        m = match(data, pos)
        if m is None:  # a stray delimiter such as ')' : skip it
            pos += 1
            continue
        pos = m.end()
        g = m.lastindex
        if g is None:
            continue
        if g == 2:
            obj = int(m.group(2))
        elif g == 1:
            obj = float(m.group(1))
        elif g == 8:
            word = m.group(8)
            if word == _TRUE:
                obj = True
            elif word == _FALSE:
                obj = False
            elif word == b"BI":
                # inline image: skip to the end of its data
                e = _EI.search(data, pos)
                pos = e.end() if e else n
                continue
            else:
                obj = KWD(word)
                if stack:  # a keyword inside an array (malformed): keep it as an operand
                    stack[-1].append(obj)
                    continue
                yield obj
                continue
        elif g == 3:
            obj = _literal(m.group(3))
        elif g == 4:
            obj = _unescape(m.group(4))
        elif g == 5:
            h = _HEX_WS.sub(b"", m.group(5))
            if len(h) % 2:
                h += b"0"
            obj = bytes.fromhex(h.decode("ascii"))
        elif g == 7:
            obj, pos = _nested_string(data, pos)
        else:
            b = m.group(6)
            if b == b"[" or b == b"<<":
                stack.append([])
                kinds.append(b)
                continue
            if b == b"]" or b == b">>":
                if not stack:
                    continue
                items = stack.pop()
                kind = kinds.pop()
                if kind == b"<<":
                    obj = {}
                    for k in range(0, len(items) - 1, 2):
                        key = items[k]
                        name = key.name if hasattr(key, "name") else key
                        obj[name if isinstance(name, str) else str(name)] = items[k + 1]
                else:
                    obj = items
            else:
                continue  # { } (PostScript procedures) do not occur in page content
        if stack:
            stack[-1].append(obj)
        else:
            yield obj


class FastPDFPageInterpreter(PDFPageInterpreter):
    """`PDFPageInterpreter` with the tokenizer above (same operators, same device calls)."""

    _methods: dict[bytes, tuple] = {}

    def execute(self, streams: Sequence[object]) -> None:
        valid: list[PDFStream] = []
        self.stream_ids.clear()
        for obj in streams:
            stream = stream_value(obj)
            if stream.objid is not None and stream.objid in self.parent_stream_ids:
                log.warning("refusing to execute circular reference to content stream %d", stream.objid)
                continue
            valid.append(stream)
            if stream.objid is not None:
                self.stream_ids.add(stream.objid)
        data = b"\n".join(s.get_data() for s in valid)
        methods = self._methods
        stack = self.argstack
        for obj in tokens(data):
            if obj.__class__ is not _KW_CLASS:
                stack.append(obj)
                continue
            name = obj.name
            entry = methods.get(name)
            if entry is None:
                attr = "do_" + name.decode("latin-1").replace("*", "_a").replace('"', "_w").replace("'", "_q")
                func = getattr(PDFPageInterpreter, attr, None) if attr.isidentifier() else None
                entry = (attr, func.__code__.co_argcount - 1) if func is not None else (None, 0)
                methods[name] = entry
            attr, nargs = entry
            if attr is None:
                continue
            func = getattr(self, attr)
            if nargs:
                args = stack[-nargs:]
                del stack[-nargs:]
                if len(args) == nargs:
                    func(*args)
            else:
                func()
            stack = self.argstack  # an operator may have replaced the stack


_KW_CLASS = KWD(b"q").__class__
