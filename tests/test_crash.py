"""Crash safety: `xxgk nightly` killed with a real SIGKILL while fetching, extracting,
writing a Parquet file or committing a load leaves a consistent warehouse, and the next
run yields exactly the tables of an uninterrupted run (tests/killer.py names the points and
kills the real `xxgk nightly`; production code has no crash hooks)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from govsite import Site
from load import connect_readonly
from transform.records import report_id_for

ROOT = Path(__file__).resolve().parent.parent
POINTS = ["fetch:3", "extract:2", "write:2", "commit"]
KILLED_WHERE_SAID = {  # what the warehouse shows right after the kill: it happened at that point
    "fetch:3": lambda wh: any(p.parent.name != "http-cache" for p in (wh / "raw").rglob("*.*"))
    and not (wh / "documents").exists(),
    "extract:2": lambda wh: not (wh / "documents").exists() and not any(wh.rglob("*.parquet")),
    "write:2": lambda wh: any(".parquet." in p.name for p in wh.rglob(".*.tmp")),
    "commit": lambda wh: any((wh / "documents").glob("*.parquet")),
}

pytestmark = pytest.mark.slow


def _nightly(reg: Path, wh: Path, env: dict, kill_at: str | None = None) -> subprocess.CompletedProcess:
    cli = [sys.executable, str(ROOT / "tests" / "killer.py"), kill_at, "--"] if kill_at else \
        [sys.executable, "-m", "flows.cli"]
    return subprocess.run([*cli, "nightly", "-s", str(reg), "-w", str(wh)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def snapshot(wh: Path) -> dict:
    """Every table as analysts see it, without what differs between runs by nature (batch
    ids, timestamps)."""
    con = connect_readonly(wh)
    try:
        def rows(sql):
            return sorted(con.execute(sql).fetchall(), key=repr)

        return {
            "documents": rows("SELECT source, doc_sha256, format, size, status, reason, origin, raw_path, parser_version "
                              "FROM documents"),
            "reports": rows("SELECT * EXCLUDE (batch_id, extracted_at) FROM reports"),
            "facts": rows("SELECT * EXCLUDE (batch_id) FROM facts"),
            "checks": rows("SELECT * EXCLUDE (batch_id) FROM checks"),
            "raw": sorted(p.name for p in (wh / "raw").rglob("*") if p.is_file() and p.parent.name != "http-cache"),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def site():
    s = Site().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def registry(site, tmp_path_factory):
    reg = tmp_path_factory.mktemp("registry") / "sources.toml"
    reg.write_text(site.sources_toml(), encoding="utf-8")
    return reg


@pytest.fixture(scope="module")
def uninterrupted(registry, tmp_path_factory, prefect_env):
    wh = tmp_path_factory.mktemp("uninterrupted") / "wh"
    r = _nightly(registry, wh, prefect_env)
    assert r.returncode == 0, r.stderr[-3000:]
    snap = snapshot(wh)
    assert len(snap["facts"]) > 900 and len(snap["documents"]) >= 5
    return snap


@pytest.mark.parametrize("kill_at", POINTS)
def test_a_nightly_killed_at_any_point_is_completed_by_the_next_run_exactly(kill_at, registry, uninterrupted,
                                                                          tmp_path, prefect_env):
    wh = tmp_path / "wh"
    killed = _nightly(registry, wh, prefect_env, kill_at)
    assert killed.returncode == -signal.SIGKILL, (kill_at, killed.returncode, killed.stderr[-2000:])
    assert KILLED_WHERE_SAID[kill_at](wh), kill_at
    # what a killed run leaves is consistent: nothing half-visible (and no leftovers once a run cleans up)
    if (wh / "xxgk.duckdb").exists():
        partial = snapshot(wh)
        loaded = {report_id_for(r[1]) for r in partial["documents"] if r[4] in ("ok", "partial")}
        assert {f[0] for f in partial["facts"]} <= loaded
    again = _nightly(registry, wh, prefect_env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert snapshot(wh) == uninterrupted
    assert not [p for p in wh.rglob("*.tmp") if "raw" not in p.parts]  # temporaries of the killed run are gone
