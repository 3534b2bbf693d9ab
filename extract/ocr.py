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
Outside ruled tables the image is looked at too: a box read below the threshold (or as
nothing) whose ink is one low bar is a dash (`flat_dashes`); a lone low bar the detector
missed, in the middle of a table line, is a dash (`stray_dashes`); other missed ink of
character height is recognised on its own, and kept only as a sure number, else flagged
"?" (`stray_numbers`), so the row's cells can be given their columns. A number read below
the threshold is read again from an enlarged crop and taken only when both reads give the
same digits (`reread_doubtful`).
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
    confirmed: bool = False
    """Read below the threshold but read again alike from a larger crop (`reread_doubtful`)."""

    def doubtful(self, min_confidence: float) -> bool:
        return self.score < min_confidence and not self.confirmed

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
    for line in dash_lines_joined(_lines(free)):
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


def dash_lines_joined(lines: list[list[Box]]) -> list[list[Box]]:
    """Lines of nothing but dashes joined to the line above or below that they overlap most
    (by at least half the smaller height) and whose boxes they do not overlap across: a
    printed dash sits lower than digits, and a label centred on two rows pulls its line's
    middle up, so a row's dashes can make a line of their own."""
    out = [list(ln) for ln in lines]
    k = 0
    while k < len(out):
        line = out[k]
        if all(b.text == "—" for b in line):
            best = max((j for j in (k - 1, k + 1) if 0 <= j < len(out)),
                       key=lambda j: _overlap(out[j], line), default=None)
            if best is not None and _overlap(out[best], line) >= 0.5 * min(_height(out[best]), _height(line)) \
                    and not any(a.x0 < b.x1 and b.x0 < a.x1 for a in out[best] for b in line):
                out[best] = sorted(out[best] + line, key=lambda b: b.x0)
                del out[k]
                continue
        k += 1
    return out


def _height(line: list[Box]) -> float:
    return max(b.y1 for b in line) - min(b.y0 for b in line)


def _overlap(a: list[Box], b: list[Box]) -> float:
    return min(max(x.y1 for x in a), max(x.y1 for x in b)) - max(min(x.y0 for x in a), min(x.y0 for x in b))


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
    return RawCell(dash(out.strip()), x0, x1, confidence=round(score, 4),
                   doubtful=any(b.doubtful(min_confidence) for b in boxes))


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
                           confidence=round(score, 4), doubtful=any(b.doubtful(min_confidence) for b in g)))
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
    boxes = [_box(q, t, s, scale) for q, (t, s) in zip(keep, recognise_crops(gray, keep))]
    free = [b for b in boxes if not _in_bands_box(b, bands)]
    flat_dashes(gray, scale, free, min_confidence)
    boxes = [b for b in boxes if b.text]
    free = [b for b in free if b.text]
    reread_doubtful(gray, scale, boxes, min_confidence)
    boxes += stray_dashes(gray, scale, frames, free, bands) + stray_numbers(gray, scale, frames, free, bands,
                                                                             min_confidence)
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


def _in_bands_box(b: Box, bands) -> bool:
    return any(top <= b.cy < bottom for top, bottom, _ in bands)


def flat_dashes(gray, scale: float, boxes: list[Box], min_confidence: float) -> None:
    """Boxes outside ruled tables read as nothing, below the threshold or as a stroke (一, -,
    —) whose ink is one low bar (`is_dash`) are dashes: text "—", confidence 1. The recogniser names
    a lone printed dash at 0.4–0.7; a digit is never one low bar."""
    h, w = gray.shape
    for b in boxes:
        if b.text and b.score >= min_confidence and not _DASH.match(b.text) and b.text not in SLASH_LIKE:
            continue
        y0, y1 = max(int(b.y0 * scale) - 1, 0), min(int(b.y1 * scale) + 2, h)
        x0, x1 = max(int(b.x0 * scale) - 1, 0), min(int(b.x1 * scale) + 2, w)
        if y1 - y0 < 4 or x1 - x0 < 4:
            continue
        ink = gray[y0:y1, x0:x1] < 170
        if (not b.text or b.score < min_confidence or _DASH.match(b.text)) and is_dash(ink):
            b.text, b.score = "—", 1.0
        elif b.text in SLASH_LIKE and is_slash(ink):
            b.text, b.score = "/", 1.0


_NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?$")
REREAD_SCALE = 3.0
"""A doubtful number's crop is enlarged this much (with a margin) to be read again."""
REREAD_FLOOR = 0.5
"""The second read of a doubtful number must score at least this to confirm the first."""


def same_reading(first: str, second: str, second_score: float) -> bool:
    """A doubtful number read again confirms the first read only when both are numbers with
    the same digits (thousands separators aside) and the second scores at least
    REREAD_FLOOR: otherwise the cell stays flagged; a digit is never taken from one read."""
    if not (_NUMBER.match(first) and _NUMBER.match(second)) or second_score < REREAD_FLOOR:
        return False
    return first.replace(",", "") == second.replace(",", "")


def reread_doubtful(gray, scale: float, boxes: list[Box], min_confidence: float) -> None:
    """Numbers read below the threshold, read again from their own crop (a margin of a third
    of their height) enlarged REREAD_SCALE times; `confirmed` when `same_reading`."""
    import cv2

    h, w = gray.shape
    todo, crops = [], []
    for b in boxes:
        if b.score >= min_confidence or not _NUMBER.match(b.text):
            continue
        m = (b.y1 - b.y0) * scale / 3
        y0, y1 = max(int(b.y0 * scale - m), 0), min(int(b.y1 * scale + m) + 1, h)
        x0, x1 = max(int(b.x0 * scale - m), 0), min(int(b.x1 * scale + m) + 1, w)
        if y1 - y0 < 4 or x1 - x0 < 4:
            continue
        crops.append(cv2.resize(gray[y0:y1, x0:x1], None, fx=REREAD_SCALE, fy=REREAD_SCALE,
                                interpolation=cv2.INTER_CUBIC))
        todo.append(b)
    for b, crop in zip(todo, crops):
        ch, cw = crop.shape
        (text, score), = recognise_crops(crop, [[[0, 0], [cw, 0], [cw, ch], [0, ch]]])
        if same_reading(b.text, text.strip(), score):
            b.confirmed = True
            b.score = max(b.score, score)


DASH_LENGTH = (0.25, 1.5)
"""A dash the detector missed is a low bar this long, in character heights: a hyphen is a
third of one, an em dash one; a ruling is longer."""


def stray_dashes(gray, scale: float, frames: list[Box], free: list[Box], bands) -> list[Box]:
    """Dashes printed for blank cells of an unruled table that the detector dropped: a low bar
    of ink (`DASH_LENGTH`, at most 4 pixels and a fifth of a character tall) outside every
    detected box and ruled band, alone (no other ink within a character height across or
    half of one up or down), at
    the middle height of a text line in a table's place (`_table_place`). Each becomes a box
    "—" with the line's height, so the row's cells are placed by the header columns."""

    lines = _lines(free)
    if not lines:
        return []
    blobs, char = _stray_blobs(gray, scale, frames)
    out = []
    for x, y, bw, bh, _area in blobs:
        if not (bh <= min(4, 0.2 * char) + 0.01 and DASH_LENGTH[0] * char <= bw <= DASH_LENGTH[1] * char and bw >= 2 * bh):
            continue
        if any(o[0] != x or o[1] != y for o in blobs if _near(o, (x, y, bw, bh), char)):
            continue
        cy, cx = (y + bh / 2) / scale, (x + bw / 2) / scale
        if any(top <= cy < bottom for top, bottom, _ in bands):
            continue
        line = next((ln for ln in lines if _middle_of(ln, cy) and _table_place(ln, cx)), None)
        if line is not None:
            y0, y1 = min(b.y0 for b in line), max(b.y1 for b in line)
            out.append(Box(x / scale, y0, (x + bw) / scale, y1, "—", 1.0))
    return out


def _stray_blobs(gray, scale: float, frames: list[Box]):
    """(connected components of ink outside every detected box: (x, y, w, h, area) in
    pixels, more than 2 pixels each; the median box height in pixels)."""
    import cv2
    import numpy as np

    heights = sorted(f.y1 - f.y0 for f in frames)
    char = heights[len(heights) // 2] * scale
    ink = (gray < 170).astype(np.uint8)
    for f in frames:
        ink[max(int(f.y0 * scale) - 2, 0):int(f.y1 * scale) + 3, max(int(f.x0 * scale) - 2, 0):int(f.x1 * scale) + 3] = 0
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return [tuple(int(v) for v in st) for st in stats[1:n] if st[4] > 2], char


DIGIT_HEIGHT = (0.35, 1.2)
"""Ink the detector missed in a table line is a character when this tall (character
heights): smaller is noise."""


def stray_numbers(gray, scale: float, frames: list[Box], free: list[Box], bands, min_confidence: float) -> list[Box]:
    """Characters the detector missed in an unruled table line (a lone faint '1' above
    all): ink of character height outside every box and ruled band, centred in a line
    holding a number or a dash (`_table_place`, `_has_cells`), neighbours closer than half
    a character joined, is recognised on its own. A number read above the threshold
    becomes a box; anything else a box "?" scored 0, so its cell is flagged (never left
    out: the row's other numbers would slide into its column)."""
    lines = _lines(free)
    if not lines:
        return []
    blobs, char = _stray_blobs(gray, scale, frames)
    found: list[tuple[list[int], list[Box]]] = []
    for x, y, bw, bh, _area in sorted(blobs):
        cy, cx = (y + bh / 2) / scale, (x + bw / 2) / scale
        if not DIGIT_HEIGHT[0] * char <= bh <= DIGIT_HEIGHT[1] * char or bw > 2 * char:
            continue
        if any(top <= cy < bottom for top, bottom, _ in bands):
            continue
        line = next((ln for ln in lines if _middle_of(ln, cy) and _table_place(ln, cx) and _has_cells(ln)), None)
        if line is None:
            continue
        if found and found[-1][1] is line and x - found[-1][0][2] <= char / 2:
            r = found[-1][0]
            r[1], r[2], r[3] = min(r[1], y), x + bw, max(r[3], y + bh)
        else:
            found.append(([x, y, x + bw, y + bh], line))
    pad = int(char / 4)
    quads = [[[r[0] - pad, r[1] - pad], [r[2] + pad, r[1] - pad], [r[2] + pad, r[3] + pad], [r[0] - pad, r[3] + pad]]
             for r, _ in found]
    out = []
    for (r, line), (text, score) in zip(found, recognise_crops(gray, quads)):
        text = text.strip()
        y0, y1 = min(b.y0 for b in line), max(b.y1 for b in line)
        sure = bool(_NUMBER.match(text)) and score >= min_confidence
        out.append(Box(r[0] / scale, y0, r[2] / scale, y1, text if sure else "?", score if sure else 0.0))
    return out


def _near(a, b, gap: float) -> bool:
    """Two blobs (x, y, w, h, …) within `gap` pixels of each other across, half that up or
    down (the next line's characters are a line's height away)."""
    return (a[0] - gap < b[0] + b[2] and b[0] - gap < a[0] + a[2]
            and a[1] - gap / 2 < b[1] + b[3] and b[1] - gap / 2 < a[1] + a[3])


def _has_cells(line: list[Box]) -> bool:
    """The line holds a number or a dash of its own: a table's row, not a header or prose."""
    return any(_NUMBER.match(b.text) or _DASH.match(b.text) for b in line)


def _table_place(line: list[Box], cx: float) -> bool:
    """A missed cell at `cx` can belong to this line: right of its first box (the label), or
    anywhere in a line of numbers and dashes only (表四's rows print no label)."""
    return line[0].x1 < cx or all(_NUMBER.match(b.text) or _DASH.match(b.text) for b in line)


def _middle_of(line: list[Box], cy: float) -> bool:
    """`cy` (points) lies in the middle of the line's height (within 0.35 of it of the
    centre), the line's dashes aside (their boxes hang lower than characters)."""
    line = [b for b in line if not _DASH.match(b.text)] or line
    y0, y1 = sorted(b.y0 for b in line)[len(line) // 2], sorted(b.y1 for b in line)[len(line) // 2]
    return abs(cy - (y0 + y1) / 2) <= 0.35 * (y1 - y0)


def _in_bands(q, bands, scale: float) -> bool:
    cy = sum(p[1] for p in q) / 4 / scale
    return any(top <= cy < bottom for top, bottom, _ in bands)
