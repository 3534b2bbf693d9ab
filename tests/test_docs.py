"""README.md documents every CLI command and every warehouse view."""

from __future__ import annotations

from pathlib import Path

from flows.cli import app
from load.duckdb import BASE_VIEWS, DERIVED_VIEWS, OTHER_VIEWS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_documented_and_has_help():
    import typer.main

    cmd = typer.main.get_command(app)
    for name, sub in cmd.commands.items():
        assert f"xxgk {name}" in README, name
        assert sub.help, name


def test_every_view_is_documented():
    for view in (*BASE_VIEWS, *OTHER_VIEWS, *DERIVED_VIEWS):
        assert f"`{view}`" in README, view


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "uv run pytest" in ci and "uv run pytest" in README
