"""The CLI end to end: `extract --json` (no Prefect), and `run` + `query` through the real flow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REAL, SEED
from flows.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_limits_are_validated_and_a_tripped_limit_is_named_in_the_reason(tmp_path):
    res = CliRunner().invoke(app, ["extract", str(SEED), "--limit", "max_cats=3"])
    assert res.exit_code == 2 and "max_cats=3" in res.stderr and "max_pages" in res.stderr
    res = CliRunner().invoke(app, ["extract", str(SEED), "--limit", "max_bytes=lots"])
    assert res.exit_code == 2 and "not a number" in res.stderr
    res = CliRunner().invoke(app, ["extract", str(SEED), "--json", "--limit", "max_bytes=1000"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["status"] == "failed" and "exceeds max_bytes=1000" in doc["reason"]


def test_extract_json_prints_one_line_per_document_and_exits_0_on_bad_input(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    res = CliRunner().invoke(app, ["extract", str(SEED), str(empty), "--json"])
    assert res.exit_code == 0
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["status"] for d in lines] == ["ok", "failed"]
    assert set(lines[0]) >= {"source", "sha256", "status", "reason", "template", "year", "agency", "published", "facts", "checks"}
    assert set(lines[0]["facts"][0]) >= {"table", "item", "column", "value", "unit", "raw"}


def test_extract_does_not_import_prefect():
    code = ("import sys; from flows.cli import app; from typer.testing import CliRunner; "
            f"CliRunner().invoke(app, ['extract', {str(SEED)!r}, '--json']); print('prefect' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_run_flow_loads_good_documents_records_bad_ones_and_is_idempotent(tmp_path, prefect_env):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for p in [SEED, *REAL]:
        (inbox / p.name).write_bytes(p.read_bytes())
    (inbox / "zero.pdf").write_bytes(b"")
    wh = tmp_path / "wh"
    env = prefect_env
    cmd = [sys.executable, "-m", "flows.cli"]
    outputs = []
    for _ in range(2):
        r = subprocess.run(cmd + ["run", str(inbox), "-w", str(wh)], capture_output=True, text=True, cwd=ROOT, env=env)
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout)
        q = subprocess.run(cmd + ["query", "select year, count(*) as n from facts "
                                  "group by 1 order by 1", "-w", str(wh), "--format", "json"],
                           capture_output=True, text=True, cwd=ROOT, env=env)
        assert q.returncode == 0, q.stderr
        rows = [json.loads(line) for line in q.stdout.splitlines()]
        assert rows == [{"year": 2019, "n": 198}, {"year": 2020, "n": 198}, {"year": 2023, "n": 200}, {"year": 2024, "n": 186}]
    assert "zero.pdf: empty file" in outputs[0]
    # the second run skips all 5 documents: same sources, same bytes, same parser version
    runs = subprocess.run(cmd + ["query", "select documents, unchanged, facts_loaded from runs order by started_at",
                                 "-w", str(wh), "--format", "csv"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert runs.stdout.splitlines()[1:] == [f"5,0,{198 + 200 + 186 + 198}", "5,5,0"]
    st = subprocess.run(cmd + ["query", "select status, count(*) from documents group by 1 order by 1", "-w", str(wh),
                               "--format", "csv"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert st.stdout.splitlines()[1:] == ["failed,1", "ok,3", "partial,1"]
    dup = subprocess.run(cmd + ["query", "select body_id, year, count(*) from report_metrics group by all "
                                "having count(*) > 1", "-w", str(wh), "--format", "csv"],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert dup.returncode == 0 and dup.stdout.splitlines()[1:] == []


def test_serve_print_shows_the_nightly_deployment_on_a_shanghai_cron(tmp_path):
    reg = ROOT / "data" / "sources.example.toml"
    res = CliRunner().invoke(app, ["serve", "-s", str(reg), "-w", str(tmp_path), "--cron", "0 3 * * *", "--print"])
    assert res.exit_code == 0, res.output
    assert "xxgk-nightly" in res.output and "'0 3 * * *' in Asia/Shanghai" in res.output


def test_example_source_registry_is_valid():
    from extract.crawl import load_sources

    assert [s.slug for s in load_sources(ROOT / "data" / "sources.example.toml")] == ["hongze", "pingtan"]


@pytest.mark.slow
def test_run_on_a_local_dask_cluster_of_two_workers_loads_the_same_facts(tmp_path, prefect_env):
    sample = ROOT / "data" / "sample"
    cmd = [sys.executable, "-m", "flows.cli"]
    facts = {}
    for name, extra in (("one", []), ("dask", ["--workers", "2", "--batch-size", "10"])):
        wh = tmp_path / name
        r = subprocess.run(cmd + ["run", str(sample), "-w", str(wh), *extra], capture_output=True, text=True,
                           cwd=ROOT, env=prefect_env)
        assert r.returncode == 0, r.stderr[-2000:]
        q = subprocess.run(cmd + ["query", "select report_id, \"table\", item, \"column\", value from facts order by all",
                                  "-w", str(wh), "--format", "csv"], capture_output=True, text=True, cwd=ROOT,
                           env=prefect_env)
        facts[name] = q.stdout
    assert facts["one"] == facts["dask"] and len(facts["one"].splitlines()) > 7000
    assert len(list((tmp_path / "dask" / "facts").rglob("*-p0003.parquet"))) >= 1  # parts written by the workers


def test_extract_reads_a_path_relative_to_the_callers_folder_not_the_projects(tmp_path):
    # the reader process runs in the project folder; `xxgk extract report.txt` from elsewhere
    (tmp_path / "report.txt").write_bytes(SEED.read_bytes())
    out = subprocess.run([sys.executable, "-m", "flows.cli", "extract", "report.txt", "--json"],
                         capture_output=True, text=True, cwd=tmp_path, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    doc = json.loads(out.stdout)
    assert doc["status"] == "ok" and doc["source"] == "report.txt" and len(doc["facts"]) > 100
