"""Word (.docx) reports read with python-docx: body paragraphs and tables in document
order; merged cells (w:gridSpan, w:vMerge, w:gridBefore) expanded to grid columns.
Tables inside text boxes (`w:txbxContent`, read once: Word writes a box twice, as a
DrawingML shape and its VML fallback) and tables nested in a table's cells (a frame
around the real table) are read as tables of their own, in document order."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import docx
from docx.oxml.ns import qn

from .errors import DocumentUnreadable, LimitExceeded
from .models import ExtractSettings, RawCell, RawDocument, RawRow, RawTable, without_bare_stand_ins

# WordprocessingML tags, resolved once (qn() parses its argument on every call)
W_CUSTOMXML = qn("w:customXml")
W_CUSTOMXMLPR = qn("w:customXmlPr")
W_GRIDBEFORE = qn("w:gridBefore")
W_GRIDSPAN = qn("w:gridSpan")
W_INS = qn("w:ins")
W_P = qn("w:p")
W_R = qn("w:r")
W_RPR = qn("w:rPr")
W_SDT = qn("w:sdt")
W_SDTCONTENT = qn("w:sdtContent")
W_SDTENDPR = qn("w:sdtEndPr")
W_SDTPR = qn("w:sdtPr")
W_SPECVANISH = qn("w:specVanish")
W_T = qn("w:t")
W_TBL = qn("w:tbl")
W_TXBXCONTENT = qn("w:txbxContent")
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
W_TC = qn("w:tc")
W_TCPR = qn("w:tcPr")
W_TR = qn("w:tr")
W_TRPR = qn("w:trPr")
W_VMERGE = qn("w:vMerge")
W_VAL = qn("w:val")
W_VANISH = qn("w:vanish")
W_VERTALIGN = qn("w:vertAlign")
W_POSITION = qn("w:position")


def read_document(path: Path, settings: ExtractSettings | None = None, data: bytes | None = None) -> RawDocument:
    settings = ExtractSettings.resolve(settings)
    data = path.read_bytes() if data is None else data
    _check_zip(path, data, settings)
    try:
        document = docx.Document(BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on broken packages
        raise DocumentUnreadable(path, f"not a readable .docx ({type(exc).__name__}: {exc})") from exc
    lines: list[str] = []
    tables: list[RawTable] = []
    for kind, el in blocks(document.element.body):
        if kind == "p":
            lines.append(el)
        else:
            table = tbl_to_raw(el, len(tables))
            if table.rows:
                tables.append(table)
                lines.extend("\t".join(c.text for c in row.cells) for row in table.rows)
    props = document.core_properties
    hints = {"title": props.title or ""} if props.title else {}
    return RawDocument(path=path, format="docx", text="\n".join(lines), tables=tables, hints=hints)



def _check_zip(path: Path, data: bytes, settings: ExtractSettings) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as z:
            total = sum(info.file_size for info in z.infolist())
            if "word/document.xml" not in z.namelist():
                raise DocumentUnreadable(path, "zip file without word/document.xml (not a Word document)")
    except zipfile.BadZipFile as exc:
        raise DocumentUnreadable(path, f"not a readable .docx (bad zip: {exc})") from exc
    if total > settings.max_unzipped_bytes:
        raise LimitExceeded(path, f"unzipped size {total} bytes exceeds max_unzipped_bytes={settings.max_unzipped_bytes}")


def _text_of(el) -> str:
    """The visible text of `el`'s runs, paragraph by paragraph (paragraphs join with a space).
    Hidden runs (w:vanish) are dropped and superscript/subscript runs stand apart, so
    neither joins a number (`12` + hidden `9` is 12; `3` + superscript `1` is a footnote), nor
    do raised or lowered runs (`w:position`)."""
    parts = [_runs_text(p) for p in el.iter(W_P)]
    if not parts:  # el is itself a run container
        parts = [_runs_text(el)]
    return " ".join(s.strip() for s in parts if s.strip())


def _runs_text(el) -> str:
    if not _special(el):
        return "".join(t.text or "" for t in el.iter(W_T))  # the common case, at C speed
    out = []
    for run in el.iter(W_R):
        rpr = run.find(W_RPR)
        text = "".join(t.text or "" for t in run.iter(W_T))
        if rpr is not None and text:
            if _on(rpr.find(W_VANISH)) or _on(rpr.find(W_SPECVANISH)):
                continue
            va = rpr.find(W_VERTALIGN)
            pos = rpr.find(W_POSITION)
            if va is not None and va.get(W_VAL) in ("superscript", "subscript") or _raised(pos):
                text = " " + text
        out.append(text)
    return "".join(out)


def _special(el) -> bool:
    return next(el.iter(W_VANISH, W_SPECVANISH, W_VERTALIGN, W_POSITION), None) is not None


def _raised(pos) -> bool:
    """A run raised or lowered (`w:position`, half-points): how LibreOffice writes a
    superscript (a footnote mark `1` after 2629 is not 26291)."""
    try:
        return pos is not None and int(pos.get(W_VAL, "0")) != 0
    except ValueError:
        return False


def _on(flag) -> bool:
    """A WordprocessingML on/off property: present and not switched off."""
    return flag is not None and flag.get(W_VAL, "true") not in ("0", "false", "off")


_WRAPPERS = {W_SDT, W_CUSTOMXML, W_INS, W_SDTCONTENT}
"""Elements that wrap rows, cells or body blocks without being one: content controls,
custom XML, tracked insertions. Their content counts as if it stood in their place."""


def _children(el):
    """`el`'s children, with wrappers replaced by what they wrap (a row inside a content
    control is still a row: skipping it would shift every cell after it)."""
    for child in el.iterchildren():
        if child.tag in _WRAPPERS:
            yield from _children(child)
        elif child.tag not in (W_SDTPR, W_SDTENDPR, W_CUSTOMXMLPR):
            yield child


def _int_attr(el, tag: str, default: int = 1) -> int:
    if el is None:
        return default
    found = el.find(tag)
    if found is None:
        return default
    try:
        return max(1, int(found.get(W_VAL)))
    except (TypeError, ValueError):
        return default


def blocks(el, depth: int = 0):
    """`el`'s paragraphs (as text: ("p", text)) and tables (("tbl", element)) in document
    order, with the contents of text boxes after the paragraph anchoring them and the
    tables nested in a table's cells after that table. Nesting deeper than `MAX_NESTING`
    is read as text only (a hostile document cannot recurse without end)."""
    for child in _children(el):
        if child.tag == W_P:
            boxes = text_boxes(child) if depth < MAX_NESTING else []
            yield "p", (_text_of(child) if not boxes else _text_outside(child))
            for box in boxes:
                yield from blocks(box, depth + 1)
        elif child.tag == W_TBL:
            yield from _table_blocks(child, depth)


def _table_blocks(tbl, depth: int):
    yield "tbl", tbl
    if depth < MAX_NESTING:
        for inner in nested_tables(tbl):
            yield from _table_blocks(inner, depth + 1)


MAX_NESTING = 8
"""Text boxes and nested tables deeper than this are not looked into."""


def _outermost(el, tag: str, stop: tuple[str, ...]):
    """The descendants of `el` with `tag` that no other element with `tag` (nor one with a
    tag of `stop`) holds between them and `el`."""
    for found in el.iter(tag):
        if found is el:
            continue
        anc = found.getparent()
        while anc is not None and anc is not el and anc.tag != tag and anc.tag not in stop:
            anc = anc.getparent()
        if anc is el:
            yield found


def text_boxes(p) -> list:
    """The text boxes (`w:txbxContent`) anchored in paragraph `p`, each once: the VML
    fallback copy of a DrawingML box (`mc:Fallback`) is skipped."""
    return list(_outermost(p, W_TXBXCONTENT, (MC_FALLBACK,)))


def nested_tables(tbl) -> list:
    """Tables inside the cells of `tbl` (not those inside them: they are theirs)."""
    return list(_outermost(tbl, W_TBL, (W_TXBXCONTENT,)))


def _text_outside(p) -> str:
    """A paragraph's own text, without the text of the text boxes it anchors."""
    texts = [t.text or "" for t in p.iter(W_T) if not any(a.tag == W_TXBXCONTENT for a in t.iterancestors())]
    return "".join(texts).strip()


def _cell_text(tc) -> str:
    """A cell's text without the text of tables nested in it (they are read as tables)."""
    if next(tc.iter(W_TBL), None) is None:
        return _text_of(tc)
    parts = [_text_of(child) for child in _children(tc) if child.tag == W_P]
    return " ".join(s for s in parts if s)


def tbl_to_raw(tbl, index: int) -> RawTable:
    """A table's rows; a cell merged down (`w:vMerge`) appears once, in its first row, and
    the rows it covers hold an empty stand-in at its place (`RawCell.above`)."""
    rows: list[RawRow] = []
    merged: dict[int, RawCell] = {}
    """Grid column → the cell merged down from there, while its rows go on."""
    for r, tr in enumerate(c for c in _children(tbl) if c.tag == W_TR):
        trpr = tr.find(W_TRPR)
        col = _int_attr(trpr, W_GRIDBEFORE, 0) if trpr is not None else 0
        cells: list[RawCell] = []
        for tc in (c for c in _children(tr) if c.tag == W_TC):
            tcpr = tc.find(W_TCPR)
            span = _int_attr(tcpr, W_GRIDSPAN, 1)
            vmerge = tcpr.find(W_VMERGE) if tcpr is not None else None
            continued = vmerge is not None and vmerge.get(W_VAL, "continue") == "continue"
            if continued:
                top = merged.get(col)
                if top is not None:
                    top.rows += 1
                    cells.append(RawCell("", float(col), float(col + span), above=top))
            else:
                cells.append(RawCell(_cell_text(tc), float(col), float(col + span)))
                if vmerge is not None:
                    merged[col] = cells[-1]
                else:
                    merged.pop(col, None)
            col += span
        rows.append(RawRow(cells=without_bare_stand_ins(cells), index=r))
    if rows and not any(c.text for row in rows for c in row.cells) and nested_tables(tbl):
        rows = []  # a frame around nested tables, with no text of its own
    return RawTable(rows=rows, index=index, locator=f"table[{index}]")
