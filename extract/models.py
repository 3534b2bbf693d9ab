"""The intermediate representation every extractor produces and `transform/` consumes.

A document becomes a `RawDocument`: its plain text (for metadata) and a list of
`RawTable`s. A table is a list of `RawRow`s, each a list of `RawCell`s in reading
order. Cells keep their raw text (blank stays ""), and their horizontal extent
`x0..x1` in the table's own units: grid columns for HTML/DOCX (a colspan of 2
covers two units), points for PDF, `None` where the format has no geometry
(plain text). Nothing here interprets labels or numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common import PARSER_VERSION  # noqa: F401  (re-exported: `from extract import PARSER_VERSION`)


@dataclass(slots=True)
class RawCell:
    text: str
    x0: float | None = None
    x1: float | None = None
    confidence: float | None = None
    """Read by OCR: the recogniser's lowest score over the cell's text (0–1); None otherwise."""
    doubtful: bool = False
    """Read by OCR with a confidence below `ExtractSettings.ocr_min_confidence`: its value is
    not taken (flagged `unreadable`, never guessed)."""
    rows: int = 1
    """Rows the cell spans: more than 1 for a cell merged down over the rows below it (HTML
    `rowspan`, DOCX `w:vMerge`, a ruled PDF cell with no ruling under it: `pdf.merge_down`)."""
    above: RawCell | None = None
    """Set on the empty stand-in a row holds where a cell merged down from a row above
    covers it (its grid columns as `x0..x1`): that cell. Without it the row would lack the
    cell, and its value be read as blank."""

    @property
    def center(self) -> float | None:
        if self.x0 is None or self.x1 is None:
            return None
        return (self.x0 + self.x1) / 2


@dataclass(slots=True)
class RawRow:
    cells: list[RawCell]
    page: int | None = None
    index: int = 0

    def text(self, sep: str = " ") -> str:
        return sep.join(c.text for c in self.cells if c.text)


def without_bare_stand_ins(cells: list[RawCell]) -> list[RawCell]:
    """A row's cells, none when the row has no cell of its own (every one a stand-in for a
    cell merged down from above: `<tr></tr>` under a row whose cells all span two rows, as
    Word's HTML writes): such a row is no row of the table, and the cells above do not
    span it (their `rows` count it no more)."""
    if cells and all(c.above is not None for c in cells):
        for c in cells:
            c.above.rows -= 1
        return []
    return cells


@dataclass(slots=True)
class RawTable:
    rows: list[RawRow]
    index: int = 0
    page: int | None = None
    locator: str = ""
    """Where the table was found: a CSS-like path, `page 3`, `table 2` or `lines 40-71`."""


@dataclass(slots=True)
class RawDocument:
    path: Path
    format: str
    text: str
    tables: list[RawTable] = field(default_factory=list)
    pages: int | None = None
    hints: dict[str, str] = field(default_factory=dict)
    """Format-specific metadata hints, e.g. HTML `<title>` or `<meta name=PubDate>`."""
    ocr_pages: int = 0
    """Pages or pictures read by OCR."""
    ocr_seconds: float = 0.0
    """CPU seconds OCR took on them (this process: the reader's one core)."""
    ocr_skipped: bool = False
    """Pages or pictures that only OCR reads were left unread because OCR is off or not
    installed (a later run with OCR on reads the document again)."""


PDF_ENGINES = ("pdfminer", "pdfium")


@dataclass(frozen=True, slots=True)
class ExtractSettings:
    """Per-document limits and knobs shared by all extractors."""

    max_bytes: int = 50 * 1024 * 1024
    """Files larger than this are refused (reason names the limit)."""
    max_pages: int = 200
    """PDFs with more pages are refused."""
    max_unzipped_bytes: int = 200 * 1024 * 1024
    """DOCX whose uncompressed parts exceed this are refused (zip bombs)."""
    max_html_depth: int = 200
    """HTML nested deeper than this is refused (the HTML parser itself stops at 256)."""
    max_seconds: float = 120.0
    """Time to read one document. PDFs check it after every page; a document read in an
    isolated reader process (`flows.sandbox`, what runs use) is stopped when it runs over."""
    max_memory_mb: int = 2048
    """Memory one document may take on top of the reader process's own (isolated readers
    only; enforced as an address-space limit on Linux)."""
    ocr: bool = True
    """Read PDF pages without a text layer and image files by OCR (RapidOCR), when it is
    installed; off: such documents are `unsupported` as before."""
    ocr_dpi: int = 150
    """Resolution PDF pages are rendered at for OCR."""
    ocr_min_confidence: float = 0.9
    """An OCR'd cell whose recogniser score is below this is flagged, its value not taken."""

    pdf_engine: str = "pdfium"
    """PDF reader: `pdfminer` (pdfminer.six, the reference) or `pdfium` (pypdfium2, faster;
    a document PDFium cannot read exactly like pdfminer is read with pdfminer)."""

    def __post_init__(self) -> None:
        if self.pdf_engine not in PDF_ENGINES:
            raise ValueError(f"pdf_engine must be one of {', '.join(PDF_ENGINES)}, not {self.pdf_engine!r}")

    @classmethod
    def resolve(cls, value: "ExtractSettings | dict | None") -> "ExtractSettings":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        return cls(**value)


def snap(values: list[float], tol: float) -> list[float]:
    """Sorted values with any value within `tol` of the previous kept one dropped: ruling
    positions that are one line drawn twice or in pieces (PDF readers and OCR alike)."""
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= tol:
            continue
        out.append(v)
    return out


DIGITS_APART = 0.5
"""Share of the font size: a wider gap between two digits on one line ends a number."""


def digits_apart(left: str, right: str, gap: float, size: float) -> bool:
    """Two digits side by side on an unruled line, more than half a character apart: the
    ends of two numbers in neighbouring columns that (nearly) touch in a narrow table
    (`50650 108760`), not one number: a reader splits the line there. Were they one number
    spaced out, its parts fall under one column header and the row is flagged, never
    read as two values."""
    return left.isdigit() and right.isdigit() and gap > DIGITS_APART * max(size, 1.0)
