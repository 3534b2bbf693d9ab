"""Issue 14: what a run reads from local folders, through the CLI. In a given folder a
symbolic link pointing outside it is skipped unless `--follow-symlinks`; everything skipped
(an unreadable subfolder, a FIFO, a link outside) is counted with its reason in the run's
summary and kept in the `runs` view for the operator afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REAL, SEED
from flows.discover import describe, discover

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_REPORT = REAL[1]  # pingtan-2023.html: loaded only when the link to it is followed


def _unreadable_prefix() -> list[str] | None:
    """How to run a command for which a mode-000 folder is unreadable: as it is for a normal
    user; for root, without the capabilities that bypass file permissions (setpriv)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if shutil.which("setpriv") else None


@pytest.fixture
def drop(tmp_path):
    """A drop folder: a report, a FIFO, a link to a folder outside holding another report,
    a link inside, an unreadable subfolder, and a link cycle."""
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(OUTSIDE_REPORT, outside / OUTSIDE_REPORT.name)
    d = tmp_path / "drop"
    (d / "sub").mkdir(parents=True)
    shutil.copy(SEED, d / "report.txt")
    os.mkfifo(d / "pipe.txt")
    (d / "escape").symlink_to(outside, target_is_directory=True)
    (d / "sub" / "again.txt").symlink_to(d / "report.txt")
    (d / "sub" / "loop").symlink_to(d, target_is_directory=True)
    (d / "locked").mkdir()
    shutil.copy(SEED, d / "locked" / "hidden-from-me.txt")
    (d / "locked").chmod(0)
    yield d
    (d / "locked").chmod(0o755)


def env_without_prefect(tmp_path) -> dict:
    home = tmp_path / "prefect-home"
    home.mkdir(exist_ok=True)
    return {**{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}, "PREFECT_HOME": str(home)}


def xxgk(*args, env: dict, prefix: list[str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "flows.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def runs_row(wh: Path, env: dict) -> dict:
    r = xxgk("query", "SELECT paths_skipped, skipped FROM runs ORDER BY started_at DESC LIMIT 1", "-w", wh,
             "-f", "json", env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def sources(wh: Path, env: dict) -> set[str]:
    r = xxgk("query", "SELECT source FROM documents", "-w", wh, "-f", "csv", env=env)
    return set(r.stdout.splitlines()[1:])


def test_describe_counts_skips_by_kind_in_a_fixed_order(drop):
    _, skipped = discover([drop])
    kinds = {s.path.name: s.kind for s in skipped}
    assert kinds["pipe.txt"] == "not a regular file" and kinds["escape"] == "link outside"
    assert describe([]) == ""
    assert describe(skipped).startswith(f"skipped {len(skipped)}: ")


def test_a_link_cycle_followed_is_walked_once(drop):
    files, _ = discover([drop], follow_symlinks=True)
    names = sorted(f.name for f in files)
    assert names.count("report.txt") == 1 and OUTSIDE_REPORT.name in names


def test_run_reports_every_skip_in_its_summary_and_the_runs_view(drop, tmp_path):
    prefix = _unreadable_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: a mode-000 folder stays readable")
    env, wh = env_without_prefect(tmp_path), tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--no-prefect", env=env, prefix=prefix)
    assert r.returncode == 0, r.stderr
    assert ("skipped 3: 1 unreadable folder, 1 not a regular file, 1 symbolic link outside the given folders"
            in r.stdout), r.stdout
    assert f"skipped {drop / 'locked'}: cannot list folder: Permission denied" in r.stdout
    assert f"skipped {drop / 'pipe.txt'}: not a regular file (FIFO)" in r.stdout
    assert f"skipped {drop / 'escape'}: symbolic link to" in r.stdout and "--follow-symlinks" in r.stdout
    assert sources(wh, env) == {str(drop / "report.txt")}  # the link inside: the same file, once
    row = runs_row(wh, env)
    assert row["paths_skipped"] == 3
    assert [s.split(": ")[0] for s in row["skipped"]] == [str(drop / n) for n in ("escape", "locked", "pipe.txt")]
    raw = b"".join(p.read_bytes() for p in (wh / "raw").rglob("*") if p.is_file()) if (wh / "raw").exists() else b""
    assert OUTSIDE_REPORT.read_bytes()[:200] not in raw


def test_follow_symlinks_reads_the_links_pointing_outside(drop, tmp_path):
    env, wh = env_without_prefect(tmp_path), tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--no-prefect", "--follow-symlinks", env=env)
    assert r.returncode == 0, r.stderr
    assert sources(wh, env) >= {str(drop / "report.txt"), str(drop / "escape" / OUTSIDE_REPORT.name)}
    assert "symbolic link" not in r.stdout and "not a regular file (FIFO)" in r.stdout
    assert runs_row(wh, env)["paths_skipped"] == len([s for s in runs_row(wh, env)["skipped"]])


def test_extract_says_what_it_skipped_and_follows_links_when_asked(drop, tmp_path):
    env = env_without_prefect(tmp_path)
    r = xxgk("extract", drop, "-f", "csv", env=env)
    assert r.returncode == 0 and "skipped" in r.stderr and "symbolic link outside" in r.stderr
    assert OUTSIDE_REPORT.name not in r.stdout
    r = xxgk("extract", drop, "-f", "csv", "--follow-symlinks", env=env)
    assert r.returncode == 0 and OUTSIDE_REPORT.name in r.stdout


def test_follow_symlinks_is_documented_in_help_and_readme(tmp_path):
    env = env_without_prefect(tmp_path)
    for cmd in ("run", "extract"):
        r = xxgk(cmd, "--help", env={**env, "COLUMNS": "200"})
        assert "--follow-symlinks" in r.stdout and "outside" in r.stdout, r.stdout
    assert "--follow-symlinks" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_prefect_run_reports_its_skips_too(drop, tmp_path, prefect_env):
    wh = tmp_path / "wh"
    r = xxgk("run", drop, "-w", wh, "--prefect", env=prefect_env)
    assert r.returncode == 0, r.stderr
    assert "not a regular file (FIFO)" in r.stdout and "symbolic link outside the given folders" in r.stdout
    row = runs_row(wh, prefect_env)
    assert row["paths_skipped"] >= 2 and any("pipe.txt" in s for s in row["skipped"])


def test_a_saved_pages_files_folder_is_skipped_as_its_pictures_and_a_loose_one_is_read(tmp_path):
    pictures = ROOT / "tests" / "fixtures" / "pictures"
    d = tmp_path / "drop"
    shutil.copytree(pictures / "gen-11-00002-2024_files", d / "gen-11-00002-2024_files")
    shutil.copy(pictures / "gen-11-00002-2024.html", d / "gen-11-00002-2024.html")
    (d / "notes.htm").write_text("<html><body>notes</body></html>", encoding="utf-8")
    (d / "notes_files").mkdir()
    shutil.copy(SEED, d / "notes_files" / "inside.txt")
    (d / "loose_files").mkdir()  # no loose.html beside it: an ordinary folder
    shutil.copy(SEED, d / "loose_files" / "report.txt")
    files, skipped = discover([d])
    assert [(s.path.name, s.kind) for s in skipped] == [("gen-11-00002-2024_files", "page files"),
                                                        ("notes_files", "page files")]
    assert sorted(f.name for f in files) == ["gen-11-00002-2024.html", "notes.htm", "report.txt"]
    env, wh = env_without_prefect(tmp_path), tmp_path / "wh"
    r = xxgk("run", d, "-w", wh, "--no-prefect", "--no-ocr", env=env)
    assert r.returncode == 0, r.stderr
    assert "skipped 2: 2 folders of saved pages' pictures" in r.stdout, r.stdout
    assert (f"skipped {d / 'notes_files'}: files of the saved page notes.htm beside it: its pictures are read "
            "with that page") in r.stdout
    assert sources(wh, env) == {str(d / n) for n in ("gen-11-00002-2024.html", "notes.htm", "loose_files/report.txt")}
    assert runs_row(wh, env)["paths_skipped"] == 2


def test_a_broken_link_in_a_folder_is_skipped_as_a_broken_link_naming_its_missing_target(tmp_path):
    d = tmp_path / "drop"
    d.mkdir()
    shutil.copy(SEED, d / "report.txt")
    (d / "gone.html").symlink_to(tmp_path / "deleted.html")
    (d / "loop.html").symlink_to(d / "loop.html")
    env, wh = env_without_prefect(tmp_path), tmp_path / "wh"
    r = xxgk("run", d, "-w", wh, "--no-prefect", env=env)
    assert r.returncode == 0, r.stderr
    assert "skipped 2: 2 broken symbolic links" in r.stdout and "unreadable" not in r.stdout, r.stdout
    assert f"skipped {d / 'gone.html'}: broken symbolic link: its target {tmp_path / 'deleted.html'} is missing" \
        in r.stdout, r.stdout
    assert f"skipped {d / 'loop.html'}: broken symbolic link: it leads back to itself" in r.stdout, r.stdout
    assert sources(wh, env) == {str(d / "report.txt")}
    assert runs_row(wh, env)["paths_skipped"] == 2


def test_a_broken_link_given_to_run_or_extract_is_a_one_line_error_saying_its_target_is_missing(tmp_path):
    link = tmp_path / "report.pdf"
    link.symlink_to(tmp_path / "moved-away.pdf")
    env, wh = env_without_prefect(tmp_path), tmp_path / "wh"
    for args in (["run", link, "-w", wh, "--no-prefect"], ["extract", link]):
        r = xxgk(*args, env=env)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (r.returncode, r.stderr)
        assert f"{link}: broken symbolic link: its target {tmp_path / 'moved-away.pdf'} is missing" in r.stderr
        assert "no such file" not in r.stderr
    assert not wh.exists()
