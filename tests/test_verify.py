"""Issue 14: `xxgk verify` finds a damaged warehouse or raw file; `xxgk repair` sets it
aside and reloads what it held, so the tables equal those of an undamaged warehouse."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REAL, SEED
from flows.cli import app
from load import connect_readonly, load_results
from load.verify import set_aside, verify
from transform.pipeline import process_file

ROOT = Path(__file__).resolve().parent.parent


def snapshot(wh: Path) -> dict:
    con = connect_readonly(wh)
    try:
        def rows(sql):
            return sorted(con.execute(sql).fetchall(), key=repr)

        return {"facts": rows('SELECT report_id, "table", item, "column", value, blank FROM facts'),
                "reports": rows("SELECT * EXCLUDE (batch_id, extracted_at) FROM reports"),
                "checks": rows("SELECT * EXCLUDE (batch_id) FROM checks"),
                "documents": rows("SELECT source, doc_sha256, status, reason FROM documents")}
    finally:
        con.close()


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    wh = tmp_path_factory.mktemp("verify") / "good"
    load_results(wh, [process_file(p) for p in [SEED, *REAL]])
    return wh


def damaged_copy(good: Path, tmp_path: Path, table: str) -> tuple[Path, Path]:
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    victim = sorted((bad / table).rglob("*.parquet"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # a truncated write, a bad disk block
    return bad, victim


def reload(wh: Path, docs) -> None:
    load_results(wh, [process_file(d.bytes_at(wh), source=d.source) for d in docs])


def test_an_undamaged_warehouse_verifies(good):
    res = CliRunner().invoke(app, ["verify", "-w", str(good)])
    assert res.exit_code == 0 and "all intact" in res.output


@pytest.mark.parametrize("table", ["facts", "documents"])
def test_a_truncated_file_is_named_by_verify_and_repair_restores_equal_tables(good, tmp_path, table):
    bad, victim = damaged_copy(good, tmp_path, table)
    res = CliRunner().invoke(app, ["verify", "-w", str(bad)])
    assert res.exit_code == 1 and str(victim.relative_to(bad)) in res.output and "xxgk repair" in res.output
    res = CliRunner().invoke(app, ["query", "SELECT count(*) FROM reports", "-w", str(bad)])
    if res.exit_code:  # a damaged file the views must read at open: named, with the way out
        said = res.output.replace("\n", " ")
        assert "xxgk repair" in said and victim.name in said.replace(" ", "") and "Traceback" not in said
    docs = set_aside(bad, verify(bad))
    assert (bad / "damaged" / victim.relative_to(bad)).exists() and not victim.exists()
    reload(bad, docs)
    assert snapshot(bad) == snapshot(good)
    assert verify(bad).damage == []


def test_a_raw_file_that_no_longer_hashes_to_its_name_is_found(tmp_path):
    from extract.crawl import RawStore

    _, path, _ = RawStore(tmp_path / "raw").put(b"<html>report</html>", "x.html")
    path.write_bytes(b"<html>tampered</html>")
    assert [d.path for d in verify(tmp_path).damage] == [path.relative_to(tmp_path)]


@pytest.mark.slow
def test_repair_through_the_cli_restores_equal_tables(good, tmp_path, prefect_env):
    bad, victim = damaged_copy(good, tmp_path, "facts")
    r = subprocess.run([sys.executable, "-m", "flows.cli", "repair", "-w", str(bad)], capture_output=True, text=True,
                       cwd=ROOT, env=prefect_env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "set aside: " + str(victim.relative_to(bad)) in r.stdout
    assert snapshot(bad) == snapshot(good)
