"""The PDF path's speed-ups keep its results: the bands found by bisection are the bands of
testing every vertical ruling against every band, and the cached label and number
cleaning give what the uncached functions give."""

from __future__ import annotations

import random

from extract.models import snap
from extract.pdf import DEFAULT_MIN_BAND, DEFAULT_SNAP, _bands
from transform.normalize import norm
from transform.numbers import _clean


def _bands_by_testing_every_ruling(hsegs, vsegs):
    """The rule as first written: every vertical ruling tested against every band."""
    ys = snap([s[0] for s in hsegs], DEFAULT_SNAP)
    bands = []
    for bottom, top in zip(ys, ys[1:]):
        if top - bottom < DEFAULT_MIN_BAND:
            continue
        lo, hi = bottom + 1.0, top - 1.0
        xs = snap([x for x, y0, y1 in vsegs if y0 <= lo + 0.5 and y1 >= hi - 0.5], DEFAULT_SNAP)
        if len(xs) >= 2:
            bands.append((bottom, top, xs))
    return bands


def test_bands_by_bisection_are_the_bands_of_testing_every_ruling_against_every_band():
    rnd = random.Random(7)
    for _ in range(300):
        ys = sorted(round(rnd.uniform(0, 800), rnd.choice((0, 1, 3))) for _ in range(rnd.randint(0, 25)))
        hsegs = [(y, 50.0, 500.0) for y in ys] + [(y + rnd.choice((0.0, 0.5, 1.5, 2.0)), 50.0, 500.0) for y in ys[:3]]
        vsegs = []
        for _ in range(rnd.randint(0, 60)):
            y0 = rnd.choice(ys) if ys and rnd.random() < 0.7 else rnd.uniform(0, 800)
            y1 = y0 + rnd.choice((0.0, 1.0, 2.5, 3.0, rnd.uniform(0, 300)))
            vsegs.append((round(rnd.uniform(40, 520), 3), y0 + rnd.choice((0.0, 0.5, 1.5, -1.5)), y1))
        assert _bands(hsegs, vsegs) == _bands_by_testing_every_ruling(hsegs, vsegs)


def test_a_ruling_ending_exactly_on_a_band_bound_crosses_it_in_both():
    hsegs = [(100.0, 0.0, 300.0), (120.0, 0.0, 300.0)]
    vsegs = [(10.0, 101.5, 118.5), (200.0, 101.5000001, 118.5), (290.0, 101.5, 118.4999), (300.0, 90.0, 130.0)]
    assert _bands(hsegs, vsegs) == _bands_by_testing_every_ruling(hsegs, vsegs) == [(100.0, 120.0, [10.0, 300.0])]


def test_cached_label_and_number_cleaning_give_what_the_functions_compute():
    for text in ("（一）⼯作 “主动” 公开", "１，２３４", "1 2", "—", "", "  3 件 "):
        assert norm(text) == norm.__wrapped__(text) == norm(text)
        for apart in (False, True):
            assert _clean(text, apart) == _clean.__wrapped__(text, apart)
