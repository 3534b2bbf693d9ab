"""Issue 14: the query path cannot read or write outside the warehouse, and a warehouse
copied or moved elsewhere (even to a path with `[` or `'`) reads itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import SEED
from flows.cli import app
from load import connect_readonly, load_results
from transform.pipeline import process_file


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sandbox") / "warehouse"
    load_results(root, [process_file(SEED)])
    return root


def query(wh: Path, sql: str, *extra: str):
    return CliRunner().invoke(app, ["query", sql, "-w", str(wh), *extra])


def facts(wh: Path) -> int:
    con = connect_readonly(wh)
    try:
        return con.execute("SELECT count(*) FROM facts").fetchone()[0]
    finally:
        con.close()


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_explain_analyze_of_a_copy_is_refused_and_writes_nothing(wh):
    before = files_under(wh.parent)
    for target in (wh / "documents" / "fake.parquet", wh.parent / "out.csv"):
        res = query(wh, f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{target}'")
        assert res.exit_code == 2 and "refused" in res.output
        res = query(wh, f"/* c */ explain (format json) copy (select 1) to '{target}'")
        assert res.exit_code == 2
    assert files_under(wh.parent) == before
    assert query(wh, "EXPLAIN ANALYZE SELECT count(*) FROM facts").exit_code == 0


def test_files_outside_the_warehouse_cannot_be_read_listed_or_fetched(wh, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t")
    for sql in (f"SELECT * FROM read_text('{secret}')", "SELECT * FROM read_text('/etc/passwd')",
                "SELECT count(*) FROM glob('/**')", f"SELECT * FROM read_csv('{wh}/../../{tmp_path.name}/secret.txt')",
                "SELECT * FROM read_json('http://127.0.0.1:9/x.json')"):
        res = query(wh, sql)
        assert res.exit_code == 2, sql  # refused by the sandbox: an SQL error, exit 2 (README exit codes)
        assert "s3cr3t" not in res.output and "root:" not in res.output


def test_no_statement_can_lift_the_sandbox_even_past_the_statement_check(wh, tmp_path):
    con = connect_readonly(wh)
    try:
        for sql in ("SET enable_external_access = true", "SET allowed_directories = ['/']",
                    "RESET lock_configuration", "INSTALL spatial", f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
                    f"ATTACH '{tmp_path / 'x.db'}'"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()[0] is False
    finally:
        con.close()
    assert not list(tmp_path.iterdir())
    assert query(wh, "INSTALL spatial").exit_code == 2


def test_output_names_with_quotes_are_written_as_named(wh, tmp_path):
    crafted = tmp_path / "x.csv' (FORMAT csv); COPY (SELECT 1) TO 'evil.csv"
    res = query(wh, "SELECT count(*) AS n FROM facts", "-o", str(crafted), "-f", "csv")
    assert res.exit_code == 0, res.output
    assert crafted.read_text(encoding="utf-8-sig").splitlines() == ["n", str(facts(wh))]  # csv has a BOM
    assert [p.name for p in tmp_path.iterdir()] == [crafted.name]
    out = tmp_path / "it's [1].parquet"
    res = CliRunner().invoke(app, ["export", "reports", "--to", "parquet", "-o", str(out), "-w", str(wh)])
    assert res.exit_code == 0 and out.stat().st_size > 0


def test_a_copied_then_moved_warehouse_reads_itself(wh, tmp_path):
    n = facts(wh)
    copy = tmp_path / "a[1]'b" / "warehouse"
    shutil.copytree(wh, copy)
    assert str(wh).encode() not in (copy / "xxgk.duckdb").read_bytes()  # nothing absolute inside
    moved = tmp_path / "moved [x]"
    copy.rename(moved)
    assert facts(moved) == n
    res = CliRunner().invoke(app, ["query", "SELECT count(*) AS n FROM facts", "-f", "csv"],
                             env={"XXGK_WAREHOUSE": str(moved)})
    assert res.exit_code == 0 and res.output.splitlines()[-1] == str(n)
    # a load into the moved copy touches only the copy
    load_results(moved, [process_file(SEED)])
    assert facts(moved) == n and facts(wh) == n
    shutil.rmtree(moved / "facts")
    assert facts(wh) == n


def test_a_load_into_a_path_with_quote_and_bracket_is_readable(tmp_path):
    root = tmp_path / "it's [2026]"
    load_results(root, [process_file(SEED)])
    assert facts(root) > 0
    analyst = duckdb.connect(str(root / "xxgk.duckdb"), read_only=True)  # relative views
    try:
        analyst.execute(f"SET file_search_path = '{str(root).replace(chr(39), chr(39) * 2)}'")
        assert analyst.execute("SELECT count(*) FROM facts").fetchone()[0] == facts(root)
    finally:
        analyst.close()


def test_a_notebook_holding_the_views_file_read_write_blocks_neither_loads_nor_queries(tmp_path):
    load_results(tmp_path, [process_file(SEED)])
    notebook = duckdb.connect(str(tmp_path / "xxgk.duckdb"))  # the default: read-write, a file lock
    try:
        load_results(tmp_path, [process_file(SEED)])
        assert facts(tmp_path) > 0
        assert query(tmp_path, "SELECT count(*) FROM reports").exit_code == 0
    finally:
        notebook.close()
