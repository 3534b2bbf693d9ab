"""Which radicals a Chromium-printed PDF spells ideographs with, and whether data/radicals.toml
folds each back to the ideograph that was printed.

    uv run python bench/chromium_radicals.py ["Noto Sans CJK SC" "WenQuanYi Micro Hei" ...]

Prints every CJK unified ideograph U+4E00–U+9FFF in each font with headless Chromium, reads
the PDF back through its ToUnicode map (pdfminer, no folding), and lists the radicals found
in place of ideographs (Skia gives a glyph the lowest code point the font maps to it) and
every one `fold_radicals` does not turn back into the printed ideograph. The exceptions to
Unicode's EquivalentUnifiedIdeograph.txt in radicals.toml (⼾ → 户, ⺕ → 彐, ⺫ → 罒) were
found this way (Chromium 156, fonts-noto-cjk, fonts-wqy-microhei): none folded wrong in the
SC fonts and WenQuanYi (which prints no radicals at all); in Noto Sans CJK TC ⼾ stands for
戶, the one miss, by choice (the reports are in simplified characters). Exit 1 on a miss."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from pdfminer.high_level import extract_text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.text import fold_radicals  # noqa: E402

FIRST, LAST = 0x4E00, 0x9FFF
FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Noto Sans CJK TC", "WenQuanYi Micro Hei")


def printed(font: str, exe: str, tmp: Path) -> str:
    """The ideographs as the PDF's ToUnicode map reads them, in order (one per ideograph)."""
    lines = [f"<p>L{s:04X} " + "".join(map(chr, range(s, min(s + 64, LAST + 1)))) + "</p>"
             for s in range(FIRST, LAST + 1, 64)]
    page = tmp / "all.html"
    page.write_text(f'<html><head><meta charset="utf-8"><style>body{{font-family:"{font}";font-size:8pt}}'
                    f'p{{margin:0;word-break:break-all}}</style></head><body>{"".join(lines)}</body></html>',
                    encoding="utf-8")
    pdf = tmp / "all.pdf"
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp}/profile", f"--print-to-pdf={pdf}", page.as_uri()],
                   check=True, capture_output=True, timeout=600)
    text = re.sub(r"L[0-9A-F]{4}", "", extract_text(str(pdf))).replace("(cid:0)", "\ufffd")
    return "".join(text.split())


def main(argv: list[str]) -> int:
    logging.disable(logging.WARNING)  # pdfminer on Type 3 fonts: "Could not get FontBBox"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "data"))
    from generate import chromium

    exe = chromium()
    if exe is None:
        print("needs Chromium (chromium or google-chrome) on the PATH", file=sys.stderr)
        return 2
    wrong = 0
    for font in argv or FONTS:
        with tempfile.TemporaryDirectory() as tmp:
            got = printed(font, exe, Path(tmp))
        want = "".join(map(chr, range(FIRST, LAST + 1)))
        if len(got) != len(want):
            print(f"{font}: read {len(got)} characters for {len(want)}; not compared")
            continue
        radicals = {(g, w) for g, w in zip(got, want) if 0x2E80 <= ord(g) <= 0x2FDF}
        bad = sorted((g, w) for g, w in radicals if fold_radicals(g) != w)
        wrong += len(bad)
        print(f"{font}: {len(radicals)} ideographs printed as radicals; folded wrong: "
              + (" ".join(f"{g}U+{ord(g):04X}→{fold_radicals(g)} (printed {w})" for g, w in bad) or "none"))
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
