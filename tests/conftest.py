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


@pytest.fixture(scope="session")
def prefect_env(tmp_path_factory):
    """Environment for CLI subprocesses that run flows: one Prefect API server for the whole
    test session (starting Prefect's ephemeral API costs about 10 s per process)."""
    import os

    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=120)
    yield {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": server.api_url,
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    server.stop()


AGGREGATE_VIEWS = ("report_metrics", "t3_wide", "failed_checks", "late_reports")


def assert_one_report_per_body_year(warehouse) -> None:
    """The issue's query returns nothing: every aggregate view counts one report per
    (body_id, year), and `reports` marks exactly one canonical among them."""
    from load import connect_readonly

    con = connect_readonly(warehouse)
    try:
        assert con.execute("select body_id, year, count(*) from report_metrics group by all "
                           "having count(*) > 1").fetchall() == []
        for view in AGGREGATE_VIEWS:
            assert con.execute(f"select body_id, year, count(distinct report_id) from {view} group by all "
                               "having count(distinct report_id) > 1").fetchall() == [], view
        assert con.execute("select count(*) from cross_year_checks c join reports r using (report_id) "
                           "where not r.canonical").fetchall() == [(0,)]
        assert con.execute("select body_id, year from reports where canonical group by all "
                           "having count(*) > 1").fetchall() == []
    finally:
        con.close()
