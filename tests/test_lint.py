"""Habits the code keeps: ruff finds nothing (rules in pyproject.toml), dependencies point
one way (load imports nothing from extract), and no production module has a test hook."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "extract", "transform", "load", "flows")


def _ruff() -> list[str] | None:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if exe:
        return [exe]
    try:
        import ruff  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "ruff"]


def test_ruff_finds_nothing_in_the_repository():
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (uv sync installs it with the dev group)")
    proc = subprocess.run([*ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_load_imports_nothing_from_extract():
    code = ("import sys, load, load.reads; "
            "print(sorted(m for m in sys.modules if m == 'extract' or m.startswith('extract.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_production_module_reads_a_test_hook():
    offenders = [str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                 if "XXGK_KILL_AT" in p.read_text(encoding="utf-8") or "kill_point" in p.read_text(encoding="utf-8")]
    assert offenders == []
