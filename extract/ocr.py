"""OCR: page images → the same `RawRow`s the PDF reader produces, so matching, placement
and checks are shared.

RapidOCR (PP-OCR detection and recognition models shipped in its wheel, run by
onnxruntime on one thread: offline) finds text boxes with a score each. Ruling lines are
then found in the image (long thin runs of dark pixels, by morphology) and a page is cut
as the PDF reader cuts one:

    boxes + rulings → bands (between horizontal rulings) → cells (between the vertical
    rulings that cross a band) → rows; boxes outside every ruled band → text lines →
    fragments (a box each, neighbours close together joined)

Coordinates are converted to points (1/72 in) so header geometry works as for PDFs. Every
cell keeps the lowest score of its boxes as `confidence`; below the threshold it is
`doubtful` and its value is not taken. Digits of two boxes one above the other are joined
only when the first line fills its cell (a number wrapped in a narrow column); otherwise
they keep a space and the number parser flags the cell: a digit is never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from .models import RawCell, RawRow

SNAP = 2.0
"""Rulings closer than this (points) are one line (a scanned line is 1–3 pixels thick)."""
MIN_BAND = 6.0
"""Bands thinner than this (points) hold no row (double borders)."""
CROSS = 3.0
"""A vertical ruling separates a band's cells when it reaches within this (points) of the
band's top and bottom."""
WRAP_FILL = 0.7
"""Share of a cell's width the first line of a number must fill for the next line's digits
to continue it (as in `pdf._join`)."""


def available() -> bool:
    """RapidOCR and onnxruntime can be imported (the OCR extra is installed)."""
    try:
        import onnxruntime  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def engine():
    """One RapidOCR engine per process (models loaded once, ~0.3 s), on one thread: the
    reader process is one of several on the machine. No angle classifier (pages are
    upright; small skew is corrected before) and no visualisation (it may fetch a font)."""
    from rapidocr import RapidOCR

    return RapidOCR(params={
        "Global.log_level": "error", "Global.use_cls": False,
        "EngineConfig.onnxruntime.intra_op_num_threads": 1, "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    })


@dataclass(slots=True)
class Box:
    """One recognised text box in points, y growing downwards."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


def recognise(gray, scale: float) -> list[Box]:
    """Text boxes of a grayscale page image (numpy uint8) rendered at `scale` pixels/point."""
    result = engine()(gray)
    if result is None or result.boxes is None:
        return []
    boxes = []
    for quad, text, score in zip(result.boxes, result.txts, result.scores):
        text = text.strip()
        if not text:
            continue
        xs = [p[0] for p in quad]
        ys = [p[1] for p in quad]
        boxes.append(Box(min(xs) / scale, min(ys) / scale, max(xs) / scale, max(ys) / scale, text, float(score)))
    return boxes


def deskew(gray):
    """The page turned upright when its long horizontal lines (rulings, or text baselines
    smeared together) lean by 0.1–5 degrees; else unchanged."""
    import cv2
    import numpy as np

    h, w = gray.shape
    ink = (gray < 140).astype(np.uint8) * 255
    lines = cv2.HoughLinesP(ink, 1, math.pi / 1800, threshold=w // 4, minLineLength=w // 3, maxLineGap=8)
    if lines is None:
        return gray
    angles = [math.degrees(math.atan2(y2 - y1, x2 - x1)) for x1, y1, x2, y2 in lines.reshape(-1, 4).tolist()]
    angles = [a for a in angles if abs(a) < 5]
    if not angles:
        return gray
    angle = float(np.median(angles))
    if abs(angle) < 0.1:
        return gray
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def find_rulings(gray, scale: float, char_height: float):
    """Ruling segments of a page image, in points: ([(y, x0, x1)], [(x, y0, y1)]). A
    segment is a run of dark pixels longer than 1.6 character heights (a character's own
    strokes are shorter) and thin."""
    import cv2
    import numpy as np

    ink = (gray < 160).astype(np.uint8) * 255
    run = max(int(1.6 * char_height * scale), 12)
    hsegs, vsegs = [], []
    for kernel, out in (((run, 1), hsegs), ((1, run), vsegs)):
        mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for x, y, ww, hh, _area in stats[1:n]:
            if out is hsegs and ww >= 4 * hh:
                out.append(((y + hh / 2) / scale, x / scale, (x + ww) / scale))
            elif out is vsegs and hh >= 4 * ww:
                out.append(((x + ww / 2) / scale, y / scale, (y + hh) / scale))
    return hsegs, vsegs


def _snap(values: list[float], tol: float = SNAP) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= tol:
            continue
        out.append(v)
    return out


def bands_of(hsegs, vsegs) -> list[tuple[float, float, list[float]]]:
    """(top, bottom, cell edges) of every ruled band, top to bottom (y grows downwards)."""
    ys = _snap([s[0] for s in hsegs])
    bands = []
    for top, bottom in zip(ys, ys[1:]):
        if bottom - top < MIN_BAND:
            continue
        xs = _snap([x for x, y0, y1 in vsegs if y0 <= top + CROSS and y1 >= bottom - CROSS])
        if len(xs) >= 2:
            bands.append((top, bottom, xs))
    return bands


def boxes_to_rows(boxes: list[Box], hsegs, vsegs, pageno: int, min_confidence: float) -> list[RawRow]:
    """Rows of one page, top to bottom: ruled table rows, then free text lines, by position."""
    bands = bands_of(hsegs, vsegs)
    cells: dict[tuple[int, int], list[Box]] = {}
    free: list[Box] = []
    for b in boxes:
        for i, (top, bottom, xs) in enumerate(bands):
            if top <= b.cy < bottom:
                j = next((k for k in range(len(xs) - 1) if xs[k] <= b.cx < xs[k + 1]), None)
                if j is not None:
                    cells.setdefault((i, j), []).append(b)
                    break
        else:
            free.append(b)
    placed: list[tuple[float, RawRow]] = []
    for i, (top, _bottom, xs) in enumerate(bands):
        row = [_cell(cells.get((i, j), []), xs[j], xs[j + 1], min_confidence) for j in range(len(xs) - 1)]
        placed.append((top, RawRow(cells=row, page=pageno)))
    for line in _lines(free):
        placed.append((min(b.y0 for b in line), RawRow(cells=_fragments(line, min_confidence), page=pageno)))
    placed.sort(key=lambda t: t[0])
    rows = [r for _, r in placed]
    for k, r in enumerate(rows):
        r.index = k
    return rows


def _lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into lines by vertical overlap, each left to right."""
    lines: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        if lines:
            last = lines[-1]
            ly = sum(x.cy for x in last) / len(last)
            height = max(b.y1 - b.y0, 1.0)
            if abs(b.cy - ly) <= 0.4 * height:
                last.append(b)
                continue
        lines.append([b])
    for line in lines:
        line.sort(key=lambda b: b.x0)
    return lines


def _cell(boxes: list[Box], x0: float, x1: float, min_confidence: float) -> RawCell:
    if not boxes:
        return RawCell("", x0, x1)
    lines = _lines(boxes)
    out = " ".join(b.text for b in lines[0])
    for prev, line in zip(lines, lines[1:]):
        text = " ".join(b.text for b in line)
        if out[-1:].isdigit() and text[:1].isdigit():
            wrapped = (prev[-1].x1 - prev[0].x0) > WRAP_FILL * (x1 - x0)
            out += text if wrapped else " " + text
        else:
            out += text
    score = min(b.score for b in boxes)
    return RawCell(out.strip(), x0, x1, confidence=round(score, 4), doubtful=score < min_confidence)


def _fragments(line: list[Box], min_confidence: float) -> list[RawCell]:
    """An unruled line's cells: boxes closer than one character height joined."""
    groups: list[list[Box]] = [[line[0]]]
    for b in line[1:]:
        prev = groups[-1][-1]
        if b.x0 - prev.x1 <= 0.5 * max(b.y1 - b.y0, 1.0):
            groups[-1].append(b)
        else:
            groups.append([b])
    out = []
    for g in groups:
        score = min(b.score for b in g)
        out.append(RawCell("".join(b.text for b in g), g[0].x0, g[-1].x1,
                           confidence=round(score, 4), doubtful=score < min_confidence))
    return out


def image_rows(gray, scale: float, pageno: int, min_confidence: float) -> list[RawRow]:
    """One page image (grayscale numpy array, `scale` pixels per point) → its rows."""
    gray = deskew(gray)
    boxes = recognise(gray, scale)
    if not boxes:
        return []
    heights = sorted(b.y1 - b.y0 for b in boxes)
    hsegs, vsegs = find_rulings(gray, scale, heights[len(heights) // 2])
    return boxes_to_rows(boxes, hsegs, vsegs, pageno, min_confidence)
