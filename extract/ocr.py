"""OCR: page images → the same `RawRow`s the PDF reader produces, so matching, placement
and checks are shared.

RapidOCR (PP-OCR detection and recognition models shipped in its wheel, run by
onnxruntime on one thread: offline) detects text lines; the page's skew is measured on its
long horizontal rulings and undone; ruling lines are found in the image (long thin runs of
ink, by morphology; broken ones joined; those running through text lines, or vertical ones
ending far from any horizontal ruling, dropped); the lines are recognised (all of them on
the first page and in images, only those in tables or short ones after it); and the page
is cut as the PDF reader cuts one:

    boxes + rulings → bands (between horizontal rulings) → cells (between the vertical
    rulings that cross a band) → rows; boxes outside every ruled band → text lines →
    fragments (a box each, neighbours close together joined)

Coordinates are converted to points (1/72 in) so header geometry works as for PDFs. Every
cell keeps the lowest score of its boxes as `confidence`; below the threshold it is
`doubtful` and its value is not taken. Digits of two boxes one above the other are joined
only when the first line fills its cell (a number wrapped in a narrow column); otherwise
they keep a space and the number parser flags the cell: a digit is never guessed. Empty or
doubtful ruled cells are looked at again (`recheck`): one low bar of ink is a dash; other
ink is recognised on its own, and if it reads nothing the cell is flagged, never blank.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from .models import RawCell, RawRow, snap

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


NARRATIVE = 0.45
"""A detected text line wider than this share of the page, outside every ruled table, on a
page after the first, is narrative prose: not recognised (it holds no cell, title or date,
and recognising long lines is most of OCR's time)."""


def detect(gray) -> list:
    """Text line quadrilaterals (4 points, pixels) of a grayscale page image."""
    det = engine()(gray, use_det=True, use_cls=False, use_rec=False)
    return [] if det.boxes is None else [q.tolist() for q in det.boxes]


def recognise_crops(gray, quads: list) -> list[tuple[str, float]]:
    """(text, score) of each quadrilateral's crop: no score filter (a faint digit must be
    flagged, not dropped as if the cell were blank)."""
    import cv2
    import numpy as np

    if not quads:
        return []
    eng = engine()
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    crops = eng.crop_text_regions(bgr, [np.array(q, dtype=np.float32) for q in quads])
    rec = eng.recognize_txt(crops)
    return [(t, float(s)) for t, s in zip(rec.txts, rec.scores)]


def skew_of(gray) -> float:
    """The page's skew in degrees, from its long horizontal rulings: runs of ink at least
    40 pixels long (a line turned by a degree still has them), joined into components as
    wide as a quarter of the page, each fitted with a straight line; the median slope.
    0 when the page has no such line."""
    import cv2
    import numpy as np

    h, w = gray.shape
    ink = (gray < 160).astype(np.uint8)
    mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (40, 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    slopes = []
    for k in range(1, n):
        x, y, ww, hh, _ = stats[k]
        if ww >= w // 4 and hh < ww * 0.1:
            ys, xs = np.nonzero(labels[y:y + hh, x:x + ww] == k)
            slopes.append(np.polyfit(xs, ys, 1)[0])
    return math.degrees(math.atan(sorted(slopes)[len(slopes) // 2])) if slopes else 0.0


def straighten(gray, quads: list, angle: float):
    """The page image and the quads turned by -`angle` degrees (about the centre), so that
    rulings run straight for `find_rulings`; unchanged below 0.05 degrees."""
    import cv2
    import numpy as np

    if abs(angle) < 0.05:
        return gray, quads
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    gray = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    pts = np.array(quads, dtype=np.float64).reshape(-1, 2)
    turned = (np.hstack([pts, np.ones((len(pts), 1))]) @ m.T).reshape(-1, 4, 2)
    return gray, turned.tolist()


def find_rulings(gray, scale: float, char_height: float):
    """Ruling segments of a page image, in points: ([(y, x0, x1)], [(x, y0, y1)]). A
    segment is a run of dark pixels longer than 1.6 character heights (3.2 across: strokes
    of neighbouring characters line up) and thin."""
    import cv2
    import numpy as np

    # faint: a thin ruling turned and turned back (skew, straighten) is light gray and broken
    ink = (gray < 200).astype(np.uint8) * 255
    run = max(int(1.6 * char_height * scale), 12)
    hsegs, vsegs = [], []
    for kernel, out in (((2 * run, 1), hsegs), ((1, run), vsegs)):
        gap = (3, 1) if kernel[1] == 1 else (1, 3)
        joined = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, gap))
        mask = cv2.morphologyEx(joined, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for x, y, ww, hh, _area in stats[1:n]:
            if out is hsegs and ww >= 4 * hh:
                out.append(((y + hh / 2) / scale, x / scale, (x + ww) / scale))
            elif out is vsegs and hh >= 4 * ww:
                out.append(((x + ww / 2) / scale, y / scale, (y + hh) / scale))
    return hsegs, vsegs


GAP = 8.0
"""Pieces of one vertical ruling (same x within SNAP) at most this far apart (points) are
one ruling: noise and JPEG break faint lines."""


def join_collinear(vsegs):
    """Vertical segments with pieces of one broken ruling joined: [(x, y0, y1)]."""
    groups: list[list[tuple[float, float, float]]] = []
    for v in sorted(vsegs):
        if groups and v[0] - groups[-1][-1][0] <= SNAP:
            groups[-1].append(v)
        else:
            groups.append([v])
    out = []
    for group in groups:
        x = sum(v[0] for v in group) / len(group)
        pieces: list[list[float]] = []
        for _, y0, y1 in sorted(group, key=lambda v: v[1]):
            if pieces and y0 - pieces[-1][1] <= GAP:
                pieces[-1][1] = max(pieces[-1][1], y1)
            else:
                pieces.append([y0, y1])
        out += [(x, y0, y1) for y0, y1 in pieces]
    return out


ENDS = 4.0
"""A vertical segment is a ruling only when one of its ends lies within this (points) of a
horizontal ruling: a column of stacked characters (vertical text) ends anywhere."""


def bands_of(hsegs, vsegs) -> list[tuple[float, float, list[float]]]:
    """(top, bottom, cell edges) of every ruled band, top to bottom (y grows downwards)."""
    ys = snap([s[0] for s in hsegs], SNAP)
    vsegs = [v for v in join_collinear(vsegs) if any(abs(v[1] - y) <= ENDS or abs(v[2] - y) <= ENDS for y in ys)]
    bands = []
    for top, bottom in zip(ys, ys[1:]):
        if bottom - top < MIN_BAND:
            continue
        xs = snap([x for x, y0, y1 in vsegs if y0 <= top + CROSS and y1 >= bottom - CROSS], SNAP)
        if len(xs) >= 2:
            bands.append((top, bottom, xs))
    return bands


def boxes_to_rows(boxes: list[Box], bands, pageno: int, min_confidence: float):
    """Rows of one page, top to bottom: ruled table rows, then free text lines, by position.
    Also returns the ruled cells to look at again (empty or doubtful) with their band's
    (top, bottom), for `recheck`."""
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
    empty: list[tuple[RawCell, float, float]] = []
    for i, (top, bottom, xs) in enumerate(bands):
        row = [_cell(cells.get((i, j), []), xs[j], xs[j + 1], min_confidence) for j in range(len(xs) - 1)]
        empty += [(c, top, bottom) for c in row if not c.text or c.doubtful or c.text in SLASH_LIKE]
        placed.append((top, RawRow(cells=row, page=pageno)))
    for line in _lines(free):
        placed.append((min(b.y0 for b in line), RawRow(cells=_fragments(line, min_confidence), page=pageno)))
    placed.sort(key=lambda t: t[0])
    rows = [r for _, r in placed]
    for k, r in enumerate(rows):
        r.index = k
    return rows, empty


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


_DASH = re.compile(r"^[一—–－-]+$")


def dash(text: str) -> str:
    """A cell that is only a horizontal stroke is a dash (blank), whatever the recogniser
    named it: 一 (one) is never printed as a count in these tables, a dash often is."""
    return "—" if _DASH.match(text) else text


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
    return RawCell(dash(out.strip()), x0, x1, confidence=round(score, 4), doubtful=score < min_confidence)


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


INK_PIXELS = 10
"""An empty ruled cell with more dark pixels than this (inside its rulings) holds something
the detector missed: it is recognised on its own, and flagged if that reads nothing."""
INSET = 4
"""Pixels kept clear of a cell's rulings when looking for ink in it."""


def is_dash(ink) -> bool:
    """The ink of a cell (boolean array) is one low bar, at most 4 pixels tall and no taller
    than wide: a dash, whatever the recogniser says (a small '-' reads as '1' at a low
    score). No digit is that low at the resolutions OCR reads."""
    import cv2
    import numpy as np

    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    blobs = [st for st in stats[1:n] if st[4] > 2]
    return len(blobs) == 1 and blobs[0][2] >= blobs[0][3] and blobs[0][3] <= 4  # digits are 15+ pixels tall


SLASH_LIKE = frozenset("1lI|/\\丨")
"""What a recogniser makes of a lone '/' (the blank mark of many reports): mostly '1'."""


def is_slash(ink) -> bool:
    """The ink of a cell is one leaning stroke: '/' or '\\' (blank), not the upright '1'
    (its serifs spread both ways and do not tilt it)."""
    import cv2
    import numpy as np

    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    blobs = [k for k in range(1, n) if stats[k][4] > 2]
    if len(blobs) != 1 or stats[blobs[0]][3] < 8:
        return False
    ys, xs = np.nonzero(labels == blobs[0])
    return abs(float(np.polyfit(ys, xs, 1)[0])) >= 0.2


def recheck(gray, scale: float, cells: list[tuple[RawCell, float, float]], min_confidence: float) -> None:
    """Ruled cells that are empty, doubtful or a lone 1-like stroke, looked at again: a flat
    bar of ink is a dash, a leaning stroke a slash (both blank); an empty cell that holds ink is recognised on its own, and if that reads
    nothing (or below the threshold) it is `doubtful` with text "?", never blank."""
    quads, targets = [], []
    for cell, top, bottom in cells:
        y0, y1 = int(top * scale) + INSET, int(bottom * scale) - INSET
        x0, x1 = int(cell.x0 * scale) + INSET, int(cell.x1 * scale) - INSET
        if y1 - y0 < 4 or x1 - x0 < 4:
            continue
        ink = gray[y0:y1, x0:x1] < 170
        if is_dash(ink):
            cell.text, cell.confidence, cell.doubtful = "—", 1.0, False
        elif cell.text in SLASH_LIKE and is_slash(ink):
            cell.text, cell.confidence, cell.doubtful = "/", 1.0, False
        elif not cell.text and int(ink.sum()) > INK_PIXELS:
            quads.append([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
            targets.append(cell)
    for cell, (text, score) in zip(targets, recognise_crops(gray, quads)):
        text = dash(text.strip())
        cell.text = text or "?"
        cell.confidence = round(score, 4) if text else 0.0
        cell.doubtful = not text or score < min_confidence


def _box(q, text: str, score: float, scale: float) -> Box:
    xs, ys = [p[0] for p in q], [p[1] for p in q]
    return Box(min(xs) / scale, min(ys) / scale, max(xs) / scale, max(ys) / scale, text.strip(), score)


def image_rows(gray, scale: float, pageno: int, min_confidence: float, all_text: bool = True) -> list[RawRow]:
    """One page image (grayscale numpy array, `scale` pixels per point) → its rows. With
    `all_text` false, narrative lines outside tables are not recognised (see NARRATIVE)."""
    quads = detect(gray)
    if not quads:
        return []
    gray, quads = straighten(gray, quads, skew_of(gray))
    heights = sorted(abs(q[3][1] - q[0][1]) for q in quads)
    hsegs, vsegs = find_rulings(gray, scale, heights[len(heights) // 2] / scale)
    frames = [_box(q, "", 1.0, scale) for q in quads]
    bands = bands_of(through_text(hsegs, frames, horizontal=True), through_text(vsegs, frames, horizontal=False))
    width = gray.shape[1] / scale
    keep = [q for q in quads if all_text or _in_bands(q, bands, scale)
            or (max(p[0] for p in q) - min(p[0] for p in q)) / scale < NARRATIVE * width]
    boxes = [_box(q, t, s, scale) for q, (t, s) in zip(keep, recognise_crops(gray, keep)) if t.strip()]
    rows, empty = boxes_to_rows(boxes, bands, pageno, min_confidence)
    recheck(gray, scale, empty, min_confidence)
    return rows


def through_text(segs, boxes: list[Box], horizontal: bool):
    """Segments that are not mostly inside the middle half of text lines: strokes of
    neighbouring characters (二上申 share a middle stroke) line up into a 'ruling' that
    would split a row; a real ruling runs between lines (a box it crosses here and
    there, e.g. one spanning two rows, does not count against it)."""
    out = []
    for pos, a, b in segs:
        covered = 0.0
        for box in boxes:
            lo, hi = (box.y0, box.y1) if horizontal else (box.x0, box.x1)
            s0, s1 = (box.x0, box.x1) if horizontal else (box.y0, box.y1)
            quarter = (hi - lo) / 4
            if lo + quarter < pos < hi - quarter:
                covered += max(0.0, min(b, s1) - max(a, s0))
        if covered <= 0.5 * (b - a):
            out.append((pos, a, b))
    return out


def _in_bands(q, bands, scale: float) -> bool:
    cy = sum(p[1] for p in q) / 4 / scale
    return any(top <= cy < bottom for top, bottom, _ in bands)
