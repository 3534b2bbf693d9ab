from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed" / "000_88a088b4017afa2e.txt"
REAL = sorted(p for p in (FIXTURES / "real").iterdir() if not p.name.endswith((".truth.json", ".md")))


def truth_for(doc: Path) -> dict:
    return json.loads((doc.parent / (doc.name.rsplit(".", 1)[0] + ".truth.json")).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_result():
    from transform.pipeline import process_file
    from transform.serialize import result_to_json

    return result_to_json(process_file(SEED))
