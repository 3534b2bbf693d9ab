"""Legacy Word (.doc) and WPS (.wps) files: converted to .docx by LibreOffice when
`soffice`/`libreoffice` is on the PATH, otherwise reported `unsupported` with the reason."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from . import docx as docx_extractor
from .errors import DocumentUnreadable, UnsupportedDocument
from .models import ExtractSettings, RawDocument

CONVERT_TIMEOUT_S = 120


def converter() -> str | None:
    """Path of the LibreOffice binary used for conversion, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def read_document(path: Path, settings: ExtractSettings | None = None, data: bytes | None = None) -> RawDocument:
    kind = path.suffix.lower().lstrip(".") or "doc"
    exe = converter()
    if exe is None:
        raise UnsupportedDocument(
            path, f"legacy .{kind} format: install LibreOffice (soffice) to convert it; no converter found"
        )
    with tempfile.TemporaryDirectory(prefix="xxgk-doc-") as tmp:
        src = Path(tmp) / f"in.{kind}"
        src.write_bytes(path.read_bytes() if data is None else data)
        try:
            subprocess.run(
                [exe, "--headless", "--convert-to", "docx", "--outdir", tmp, str(src)],
                check=True, capture_output=True, timeout=CONVERT_TIMEOUT_S,
                env={"HOME": tmp, "PATH": "/usr/bin:/bin:/usr/local/bin"},
            )
        except subprocess.TimeoutExpired as exc:
            raise DocumentUnreadable(path, f"LibreOffice conversion exceeded {CONVERT_TIMEOUT_S} s") from exc
        except subprocess.CalledProcessError as exc:
            raise DocumentUnreadable(path, f"LibreOffice could not convert it (exit {exc.returncode})") from exc
        out = Path(tmp) / "in.docx"
        if not out.exists():
            raise DocumentUnreadable(path, "LibreOffice produced no .docx")
        doc = docx_extractor.read_document(path, settings, data=out.read_bytes())
    doc.format = kind
    return doc


