"""Which files a run ingests (no Prefect here, so the CLI can use it cheaply)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

SKIP_SUFFIXES = (".truth.json", ".md", ".tmp", ".parquet", ".duckdb", ".toml", ".py")
log = logging.getLogger("xxgk.discover")


def discover_files(paths: list[str | Path], follow_symlinks: bool = False) -> list[Path]:
    """Expand directories (recursively, sorted); skip hidden files, truth files and notes.
    What a directory holds but is not read (see `discover`) is logged with its reason."""
    files, skipped = discover(paths, follow_symlinks)
    for path, reason in skipped:
        log.warning("skipped %s: %s", path, reason)
    return files


def discover(paths: list[str | Path], follow_symlinks: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files to read, [(path, reason)] skipped). Inside a given directory only regular files
    are read (a FIFO, device or socket would block or never end); a symbolic link only when
    it points inside that directory (or with `follow_symlinks`); an unreadable subfolder is
    a skip with its reason. A path given explicitly is taken as it is (the reader refuses
    what is not a regular file)."""
    out: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            _walk(p, follow_symlinks, out, skipped)
        else:
            out.append(p)
    seen = set()
    uniq = []
    for f in out:
        key = f.resolve() if f.exists() else f
        if key not in seen:
            seen.add(key)
            uniq.append(f)
    return uniq, skipped


def _walk(top: Path, follow_symlinks: bool, out: list[Path], skipped: list[tuple[Path, str]]) -> None:
    inside = top.resolve()

    def unreadable(exc: OSError) -> None:
        skipped.append((Path(exc.filename or top), f"cannot list folder: {exc.strerror}"))

    found = []
    for folder, dirs, names in os.walk(top, onerror=unreadable, followlinks=follow_symlinks):
        rel = Path(folder).relative_to(top)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if not follow_symlinks:
            for d in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                target = Path(folder, d).resolve()
                if not target.is_relative_to(inside):
                    skipped.append((Path(folder, d), f"symbolic link to {target}, outside {top}: not followed"))
                dirs.remove(d)  # inside: reached through the tree itself
        for name in names:
            f = Path(folder, name)
            if name.startswith(".") or any(part.startswith(".") for part in rel.parts) or name.endswith(SKIP_SUFFIXES):
                continue
            reason = _refusal(f, inside, follow_symlinks)
            if reason:
                skipped.append((f, reason))
            else:
                found.append(f)
    out.extend(sorted(found))


def _refusal(f: Path, inside: Path, follow_symlinks: bool) -> str | None:
    """Why `f` (found in a walked folder) is not read, or None."""
    try:
        st = f.stat()  # never opens it: a FIFO does not block here
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if f.is_symlink() and not follow_symlinks and not f.resolve().is_relative_to(inside):
        return f"symbolic link to {f.resolve()}, outside {inside}: not followed"
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file ({_kind(st.st_mode)}): not read"
    return None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "directory")):
        if test(mode):
            return name
    return "special file"
