"""A generated corpus whose PDFs PDFium reads itself: the generator's reportlab layouts with
WenQuanYi Micro Hei embedded (integer metrics) in place of STSong-Light, which the generator
does not embed (such PDFs go to pdfminer: see `extract/pdfium.py`). For `bench/throughput.py`'s
PDF engine comparison; the documents and truth files are the generator's.

    uv run python bench/ttf_corpus.py OUT [-n 100] [--seed 73]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CJK_TTF = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("-n", "--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=73)
    args = ap.parse_args(argv)
    if not CJK_TTF.exists():
        raise SystemExit(f"{CJK_TTF} is missing (fonts-wqy-microhei)")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from data import generate

    # registered under the generator's font name, so its layouts print in it; integer
    # ascent and descent (a fractional /Descent sends the document to pdfminer)
    font = TTFont("STSong-Light", str(CJK_TTF), subfontIndex=1)
    font.face.descent, font.face.ascent = int(font.face.descent), int(font.face.ascent)
    pdfmetrics.registerFont(font)
    generate.generate(Path(args.out), args.count, seed=args.seed, formats=("pdf",))
    print(f"wrote {args.count} PDFs with truth files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
