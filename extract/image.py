"""Reports as pictures: image files (.png/.jpg) and PDF pages without a text layer, read by
OCR (`ocr.py`) into the same rows as the PDF reader's. PDF pages are rendered with
pypdfium2 at `ExtractSettings.ocr_dpi`; the same limits hold (pages, time per document,
and in a reader process, memory)."""

from __future__ import annotations

import time
from pathlib import Path

from . import ocr
from .errors import OCR_MISSING, OCR_OFF, DocumentUnreadable, LimitExceeded, NoTextLayer, OcrSkipped, one_line
from .models import ExtractSettings, RawDocument, RawRow, RawTable

MAX_SIDE = 2600
"""Images with a longer side (pixels) are scaled down first: OCR time grows with the area,
and a table legible to a reader is legible at this size."""
MAX_PIXELS = 60_000_000
"""Images larger than this (decoded) are refused: a decompression bomb, not a report page."""
MIN_SCALED_SIDE = 500
"""A picture so long that scaling it to MAX_SIDE leaves its short side under this many
pixels (a whole document's screenshot in one strip) is refused: its text would be a few
pixels high and read as nothing. Short wide strips (表二 cut into five pictures) are not
scaled at all."""
MAX_PAGE_SIDE = 2 * MAX_SIDE
"""A PDF page is rendered for OCR at `ocr_dpi`, at most this many pixels on its longer side
(A3 at 150 dpi is 2,480): a page of a metre or more is rendered smaller, not at 900
million pixels."""
IMAGE_DPI = 150
"""Nominal resolution of an image file (it has no page size): only scales geometry."""


class OcrCost:
    """Pages (or pictures) read by OCR and the CPU seconds that took, for the document, and
    whether some were left unread because OCR is off or not installed (`skipped`)."""

    def __init__(self) -> None:
        self.pages = 0
        self.seconds = 0.0
        self.skipped = False

    def rows(self, gray, scale: float, pageno: int, min_confidence: float, all_text: bool = True,
             path: Path | None = None) -> list[RawRow]:
        """`ocr.image_rows`, counted. The OCR engine's own failures (out of memory inside
        onnxruntime or OpenCV) become one line naming the picture's size."""
        start = time.process_time()
        try:
            return ocr.image_rows(gray, scale, pageno, min_confidence, all_text=all_text)
        except MemoryError:
            raise LimitExceeded(path, f"OCR ran out of memory on a {gray.shape[1]}x{gray.shape[0]} pixel image") from None
        except Exception as exc:
            if not type(exc).__module__.startswith(("onnxruntime", "cv2")):
                raise  # a bug of ours: the caller names it as an internal error
            raise DocumentUnreadable(path, f"OCR failed on a {gray.shape[1]}x{gray.shape[0]} pixel image: "
                                           f"{one_line(str(exc))}") from None
        finally:
            self.pages += 1
            self.seconds += time.process_time() - start

    def onto(self, doc: RawDocument) -> RawDocument:
        doc.ocr_pages, doc.ocr_seconds = doc.ocr_pages + self.pages, doc.ocr_seconds + self.seconds
        doc.ocr_skipped = doc.ocr_skipped or self.skipped
        return doc


def why_no_ocr(settings: ExtractSettings) -> str | None:
    """Why OCR cannot read here (OCR_OFF, OCR_MISSING), or None when it can."""
    if not settings.ocr:
        return OCR_OFF
    return None if ocr.available() else OCR_MISSING


def ocr_ready(path: Path, settings: ExtractSettings, what: str) -> None:
    """Raise OcrSkipped naming why `what` cannot be read by OCR here."""
    why = why_no_ocr(settings)
    if why is not None:
        raise OcrSkipped(path, what, why)


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, without decoding the pixels."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data.startswith(b"\xff\xd8"):
        k = 2
        while k + 9 < len(data):
            if data[k] != 0xFF:
                return None
            marker, length = data[k + 1], int.from_bytes(data[k + 2:k + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                return int.from_bytes(data[k + 7:k + 9], "big"), int.from_bytes(data[k + 5:k + 7], "big")
            k += 2 + length
    return None


def decode_image(path: Path, data: bytes):
    """Grayscale pixels of a PNG/JPEG, scaled so the longer side is at most MAX_SIDE."""
    import cv2
    import numpy as np

    size = _image_size(data)
    if size and size[0] * size[1] > MAX_PIXELS:
        raise LimitExceeded(path, f"image of {size[0]}x{size[1]} pixels exceeds {MAX_PIXELS} pixels")
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise DocumentUnreadable(path, "not a readable image")
    h, w = gray.shape
    if max(h, w) > MAX_SIDE and min(h, w) * MAX_SIDE / max(h, w) < MIN_SCALED_SIDE:
        raise LimitExceeded(path, f"picture of {w}x{h} pixels is too long: scaled to {MAX_SIDE} pixels for OCR, "
                                  "its text would be too small to read (cut it into pages)")
    if max(h, w) > MAX_SIDE:
        f = MAX_SIDE / max(h, w)
        gray = cv2.resize(gray, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    return gray


def read_document(path: Path, settings: ExtractSettings | None = None, data: bytes | None = None) -> RawDocument:
    """An image file holding a report page (tables pasted as pictures)."""
    settings = ExtractSettings.resolve(settings)
    data = path.read_bytes() if data is None else data
    ocr_ready(path, settings, "image")
    gray = decode_image(path, data)
    cost = OcrCost()
    rows = cost.rows(gray, IMAGE_DPI / 72, 1, settings.ocr_min_confidence, path=path)
    return cost.onto(RawDocument(path=path, format="image", text="\n".join(r.text("\t") for r in rows),
                                 tables=[RawTable(rows=rows, index=0, page=1, locator="image")], pages=1))


def render_scale(size: tuple[float, float], scale: float) -> float:
    """Pixels per point to render a page of `size` points: `scale`, or less for a page
    whose longer side would exceed MAX_PAGE_SIDE pixels."""
    longest = max(size)
    return min(scale, MAX_PAGE_SIDE / longest) if longest > 0 else scale


def ocr_pdf_pages(path: Path, data: bytes, pages: list[int], settings: ExtractSettings,
                  cost: OcrCost | None = None) -> dict[int, list[RawRow]]:
    """Rows of the given PDF pages (1-based), rendered with pypdfium2 and read by OCR
    (counted in `cost`)."""
    cost = cost if cost is not None else OcrCost()
    import pypdfium2 as pdfium

    scale = settings.ocr_dpi / 72
    started = time.monotonic()
    out: dict[int, list[RawRow]] = {}
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise DocumentUnreadable(path, f"PDF cannot be rendered for OCR ({exc})") from exc
    try:
        for pageno in pages:
            if time.monotonic() - started > settings.max_seconds:
                raise LimitExceeded(path, f"still reading by OCR after max_seconds={settings.max_seconds:g} s "
                                          f"(gave up at page {pageno})")
            page = pdf[pageno - 1]
            try:
                page_scale = render_scale(page.get_size(), scale)
                gray = page.render(scale=page_scale, grayscale=True).to_numpy()
            finally:
                page.close()
            if gray.ndim == 3:
                gray = gray[:, :, 0]
            out[pageno] = cost.rows(gray, page_scale, pageno, settings.ocr_min_confidence, all_text=pageno == 1,
                                    path=path)
    finally:
        pdf.close()
    return out


def read_scanned_pdf(path: Path, data: bytes, n_pages: int, settings: ExtractSettings) -> RawDocument:
    """A PDF without a text layer, every page read by OCR."""
    ocr_ready(path, settings, "no text layer (scanned or blank pages)")
    if b"/Image" not in data:
        # no image XObject (their dictionaries are never inside object streams): blank
        # pages or vector drawings, nothing to OCR; and pdfium is not asked to render
        # hostile structures that pdfminer survived (100,000 nested arrays crash it)
        raise NoTextLayer(path)
    cost = OcrCost()
    by_page = ocr_pdf_pages(path, data, list(range(1, n_pages + 1)), settings, cost)
    tables = [RawTable(rows=rows, index=p - 1, page=p, locator=f"page {p} (OCR)") for p, rows in by_page.items()]
    text = "\n\f".join("\n".join(r.text("\t") for r in t.rows) for t in tables)
    if not text.strip():
        raise NoTextLayer(path)  # OCR found no text either: blank pages
    return cost.onto(RawDocument(path=path, format="pdf", text=text, tables=tables, pages=n_pages,
                                 hints={"ocr": "all pages"}))


def read_page_images(path: Path, images: list, settings: ExtractSettings, first_index: int,
                     cost: OcrCost) -> tuple[list[RawTable], list[str]]:
    """Tables of an HTML page's pictures (`htmlimg.PageImage`s, bytes loaded), read by OCR
    like image files: one RawTable per picture, its rows' `page` the picture's number in
    page order, its locator `img N (src)`. Returns the tables and one note per picture not
    read (refused, not decodable), naming it, and one for those left unread because OCR is
    off or not installed (`cost.skipped` then). The time limit counts all pictures."""
    from .htmlimg import MIN_SIDE, image_size

    notes = [f"{img.label}: {img.refused}" for img in images if img.data is None]
    todo = [img for img in images if img.data is not None]
    why = why_no_ocr(settings) if todo else None
    if why is not None:
        cost.skipped = True
        return [], notes + [f"{len(todo)}{' others' if notes else ''} ({why})"]
    started = time.monotonic()
    tables: list[RawTable] = []
    for img in todo:
        size = image_size(img.data)
        if size is not None and min(size) < MIN_SIDE:
            continue  # an icon or a bullet, not a table
        if time.monotonic() - started > settings.max_seconds:
            raise LimitExceeded(path, f"still reading pictures by OCR after max_seconds={settings.max_seconds:g} s "
                                      f"(gave up at {img.label})")
        try:
            gray = decode_image(path, img.data)
        except (LimitExceeded, DocumentUnreadable) as exc:
            notes.append(f"{img.label}: {exc.reason}")
            continue
        try:
            rows = cost.rows(gray, IMAGE_DPI / 72, img.number, settings.ocr_min_confidence, path=path)
        except (LimitExceeded, DocumentUnreadable) as exc:  # only this picture is lost
            notes.append(f"{img.label}: {exc.reason}")
            continue
        if rows:
            tables.append(RawTable(rows=rows, index=first_index + len(tables), page=img.number,
                                   locator=img.label))
    return tables, notes
