"""A small hostile-input corpus, generated (nothing large is committed):

    uv run python tests/hostile.py OUT_DIR        # writes the files and OUT_DIR/expected.json

`build(out)` writes every kind of bad input a nightly run over thousands of sites meets,
plus good reports hidden behind odd file names or encodings, and returns what each one
must become: `{file name: {"status": ..., "reason": text the reason must contain}}`
(status "ok" with a "truth" file: the values must equal that truth file).

The bombs are small on disk (a few MB at most) and expand only when read.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import sys
import zipfile
import zlib
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
GOOD_PDF = SAMPLE / "gen-2026-00002-2020.pdf"
GOOD_HTML = SAMPLE / "gen-2026-00012-2022.html"
GOOD_DOCX = SAMPLE / "gen-2026-00005-2024.docx"
GOOD_TEXT = SAMPLE / "gen-2026-00003-2022.txt"

SECRET = "XXGK-SECRET-7f3a"
"""Written to a file that the XXE document tries to include: must never appear in output."""


def _truth(doc: Path) -> Path:
    return doc.parent / (doc.name.rsplit(".", 1)[0] + ".truth.json")


# ------------------------------------------------------------------ PDF helpers


def _pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF file from numbered object bodies (1-based), with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    return out.getvalue()


def _stream(raw: bytes, compress: bool = True, extra: bytes = b"") -> bytes:
    data = zlib.compress(raw, 9) if compress else raw
    flt = b" /Filter /FlateDecode" if compress else b""
    return b"<< /Length %d%s%s >>\nstream\n" % (len(data), flt, extra) + data + b"\nendstream"


def _deflated_zeros(n_bytes: int) -> bytes:
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [comp.compress(chunk) for _ in range(n_bytes >> 20)]
    parts.append(comp.flush())
    return b"".join(parts)


def pdf_many_pages(n: int, honest_count: bool) -> bytes:
    """A page tree of `n` (empty) pages; `honest_count=False` claims /Count 1."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(n))
    count = n if honest_count else 1
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>" for _ in range(n)]
    return _pdf(objs)


def pdf_nested_pages(depth: int) -> bytes:
    """A page tree `depth` levels deep (each /Pages node has one /Pages kid)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for i in range(depth):
        me, kid = 2 + i, 3 + i
        parent = b" /Parent %d 0 R" % (me - 1) if i else b""
        objs.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (kid, parent))
    objs.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % (1 + depth))
    return _pdf(objs)


def pdf_nested_arrays(depth: int) -> bytes:
    """A page whose /MediaBox is an array nested `depth` levels deep."""
    box = b"[" * depth + b"0 0 595 842" + b"]" * depth
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s >>" % box]
    return _pdf(objs)


def pdf_flate_bomb(expanded_mb: int) -> bytes:
    """One page whose content stream inflates to `expanded_mb` MB of spaces."""
    data = _deflated_zeros(expanded_mb << 20)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"]
    return _pdf(objs)


def pdf_busy_page(n_ops: int) -> bytes:
    """One page drawing `n_ops` tiny ruling lines (slow to read, little memory on disk)."""
    rnd = random.Random(3)
    ops = b"".join(b"%d %d m %d %d l S\n" % (x, y, x + 1, y) for x, y in
                   ((rnd.randrange(0, 590), rnd.randrange(0, 840)) for _ in range(n_ops)))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>", _stream(ops)]
    return _pdf(objs)


def pdf_encrypted() -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption("user-pw", "owner-pw", canPrint=0))
    c.drawString(72, 720, "2023 annual report")
    c.showPage()
    c.save()
    return buf.getvalue()


# ------------------------------------------------------------------ DOCX helpers


def _docx_with(document_xml: bytes, extra: dict[str, bytes] | None = None, bomb_mb: int = 0) -> bytes:
    """A .docx made from GOOD_DOCX with its document.xml replaced (and parts added)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(GOOD_DOCX) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = document_xml if info.filename == "word/document.xml" and document_xml else src.read(info)
            z.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
        if bomb_mb:
            with z.open("word/media/padding.bin", "w", force_zip64=True) as fh:
                chunk = b"\0" * (1 << 20)
                for _ in range(bomb_mb):
                    fh.write(chunk)
    return buf.getvalue()


def docx_xxe(secret_path: Path) -> bytes:
    uri = secret_path.resolve().as_uri().encode()
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
           b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "' + uri + b'">]>\n'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           b'<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>')
    return _docx_with(xml)


def docx_billion_laughs() -> bytes:
    ents = b'<!ENTITY lol0 "lollollollollollollollollollol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, 10))
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE w:document [' + ents + b"]>\n"
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           b"<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    return _docx_with(xml)


# ------------------------------------------------------------------ the corpus


def build(out: Path, big_html_mb: int = 50) -> dict[str, dict]:
    out.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(20261126)
    expected: dict[str, dict] = {}

    def put(name: str, data: bytes, status: str, reason: str = "", truth: Path | None = None) -> None:
        (out / name).write_bytes(data)
        expected[name] = {"status": status, "reason": reason}
        if truth is not None:
            expected[name]["truth"] = str(truth)

    good_pdf = GOOD_PDF.read_bytes()
    # --- broken files
    put("truncated.pdf", good_pdf[: len(good_pdf) // 3], "failed", "PDF")
    corrupt = bytearray(good_pdf)
    for _ in range(200):
        i = rnd.randrange(len(corrupt) // 4, len(corrupt))
        corrupt[i] = rnd.randrange(256)
    # the damage may or may not reach a table: only a clear status is required (see test)
    put("corrupted.pdf", bytes(corrupt), "any", "")
    put("encrypted.pdf", pdf_encrypted(), "unsupported", "encrypted PDF")
    put("zero-bytes.pdf", b"", "failed", "empty file")
    put("random.pdf", rnd.randbytes(40_000), "failed", "")
    put("random.docx", rnd.randbytes(40_000), "failed", "not a readable .docx")
    put("random.html", rnd.randbytes(40_000), "failed", "")
    # --- bombs and limits
    put("pages-bomb.pdf", pdf_many_pages(5000, honest_count=True), "failed", "max_pages")
    put("pages-bomb-lying-count.pdf", pdf_many_pages(1000, honest_count=False), "failed", "max_pages")
    put("nested-pages.pdf", pdf_nested_pages(5000), "failed", "")
    put("nested-arrays.pdf", pdf_nested_arrays(100_000), "unsupported", "no text layer")
    put("flate-bomb.pdf", pdf_flate_bomb(1500), "failed", "max_memory_mb")
    put("busy-page.pdf", pdf_busy_page(400_000), "failed", "max_seconds")
    put("zip-bomb.docx", _docx_with(b"", bomb_mb=300), "failed", "max_unzipped_bytes")
    secret = out.parent / f"{out.name}-secret.txt"  # outside the corpus
    secret.write_text(SECRET, encoding="utf-8")
    put("xxe.docx", docx_xxe(secret), "failed", "no report tables found")
    put("billion-laughs.docx", docx_billion_laughs(), "failed", "")
    html = GOOD_HTML.read_bytes()
    pad = b"<p>" + b"\xe5\x85\xac" * 3000 + b"</p>\n"  # 公…
    body_end = html.rfind(b"</body>")
    big = html[:body_end] + pad * ((big_html_mb << 20) // len(pad)) + html[body_end:]
    put("huge-page.html", big, "failed", "max_bytes")
    put("nested-10000.html", b"<html><body>" + b"<div>" * 10_000 + b"x" + b"</div>" * 10_000 + b"</body></html>",
        "failed", "max_html_depth")
    # --- reports whose tables are all empty: nothing may be invented
    empty = _blank_numbers(html)
    put("empty-tables.html", empty, "partial", "every table cell is blank")
    # --- text in an unexpected encoding
    text = GOOD_TEXT.read_text(encoding="utf-8")
    put("report-utf16.txt", text.encode("utf-16"), "ok", truth=_truth(GOOD_TEXT))
    put("report-big5.txt", text.encode("big5", errors="replace"), "failed", "no report tables found")
    # --- good documents behind odd names
    odd = {
        "report..%2F..%2Fetc%2Fpasswd.pdf": GOOD_PDF,
        "报告 (2022) final;rm -rf ~.html": GOOD_HTML,
        "-rf --all.docx": GOOD_DOCX,
        "line\nbreak\t.txt": GOOD_TEXT,
        ("长" * 80) + ".html": GOOD_HTML,
    }
    for name, src in odd.items():
        put(name, src.read_bytes(), "ok", truth=_truth(src))
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8")
    return expected


def _blank_numbers(html: bytes) -> bytes:
    """The same page with every number in its table cells blanked."""
    import re

    text = html.decode("utf-8")
    return re.sub(r">\s*[\d,，.]+\s*(</span>|</td>|</p>)", r">\1", text).encode("utf-8")


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    if target.exists() and "--force" in sys.argv:
        shutil.rmtree(target)
    for name, exp in build(target).items():
        print(f"{exp['status']:12} {name!r}: {exp['reason']}")
