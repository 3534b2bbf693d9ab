"""Which files a run ingests, and what it skips in the given folders and why (no Prefect
here, so the CLI can use it cheaply)."""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SKIP_SUFFIXES = (".truth.json", ".md", ".tmp", ".parquet", ".duckdb", ".toml", ".py")
log = logging.getLogger("xxgk.discover")

KINDS = {  # kind → (one, several), as the run's summary counts them
    "unreadable folder": ("unreadable folder", "unreadable folders"),
    "unreadable file": ("unreadable file", "unreadable files"),
    "broken link": ("broken symbolic link", "broken symbolic links"),
    "not a regular file": ("not a regular file", "not regular files"),
    "link outside": ("symbolic link outside the given folders", "symbolic links outside the given folders"),
    "page files": ("folder of a saved page's pictures", "folders of saved pages' pictures"),
}
PAGE_SUFFIXES = (".html", ".htm")
"""A folder `X_files` beside `X.html` or `X.htm` holds that page's pictures (a browser's
"save page complete"): they are read with the page, not as documents of their own."""


@dataclass(frozen=True, slots=True)
class Skip:
    """Something in a given folder that was not read, and why. `kind` is one of KINDS."""

    path: Path
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def describe(skips: list[Skip]) -> str:
    """`skipped 3: 1 unreadable folder, 2 not regular files` ("" if nothing was skipped)."""
    if not skips:
        return ""
    counts = Counter(s.kind for s in skips)
    parts = [f"{n} {KINDS[k][n != 1]}" for k, n in sorted(counts.items(), key=lambda kv: list(KINDS).index(kv[0]))]
    return f"skipped {len(skips)}: " + ", ".join(parts)


def discover_files(paths: list[str | Path], follow_symlinks: bool = False) -> list[Path]:
    """The files of `discover` (what it skips is logged, with the reasons)."""
    files, skipped = discover(paths, follow_symlinks)
    for s in skipped:
        log.info("skipped %s", s)
    return files


def discover(paths: list[str | Path], follow_symlinks: bool = False) -> tuple[list[Path], list[Skip]]:
    """(files to read, what was skipped). Inside a given directory only regular files are
    read (a FIFO, device or socket would block or never end); a symbolic link only when it
    points inside that directory, or with `follow_symlinks` wherever it points; an
    unreadable subfolder is a skip with its reason. A path given explicitly is taken as it
    is (the reader refuses what is not a regular file). Hidden files and the project's own
    files (truth files, notes, Parquet, …) are not documents: left out without a skip. A
    folder `X_files` beside a page `X.html`/`X.htm` is a skip of its own kind: its pictures
    are read with the page (PAGE_SUFFIXES)."""
    out: list[Path] = []
    skipped: list[Skip] = []
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
    return uniq, sorted(skipped, key=lambda s: str(s.path))


def _walk(top: Path, follow_symlinks: bool, out: list[Path], skipped: list[Skip]) -> None:
    inside = top.resolve()

    def unreadable(exc: OSError) -> None:
        skipped.append(Skip(Path(exc.filename or top), "unreadable folder", f"cannot list folder: {exc.strerror}"))

    found = []
    visited: set[tuple[int, int]] = set()
    for folder, dirs, names in os.walk(top, onerror=unreadable, followlinks=follow_symlinks):
        rel = Path(folder).relative_to(top)
        if follow_symlinks and _seen_before(folder, visited):
            dirs[:] = []  # a link back up the tree: walked once, not forever
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d, page in _page_folders(dirs, names):
            skipped.append(Skip(Path(folder, d), "page files",
                                f"files of the saved page {page} beside it: its pictures are read with that page"))
            dirs.remove(d)
        if not follow_symlinks:
            for d in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                target = Path(folder, d).resolve()
                if not target.is_relative_to(inside):
                    skipped.append(Skip(Path(folder, d), "link outside",
                                        f"symbolic link to {target}, outside {top}: not followed "
                                        "(--follow-symlinks follows it)"))
                dirs.remove(d)  # inside: reached through the tree itself
        for name in names:
            f = Path(folder, name)
            if name.startswith(".") or any(part.startswith(".") for part in rel.parts) or name.endswith(SKIP_SUFFIXES):
                continue
            skip = _refusal(f, inside, follow_symlinks)
            if skip:
                skipped.append(skip)
            else:
                found.append(f)
    out.extend(sorted(found))


def _page_folders(dirs: list[str], names: list[str]) -> list[tuple[str, str]]:
    """(subfolder, page) for each subfolder `X_files` beside a page `X.html` or `X.htm`."""
    pages = {n[: -len(sfx)]: n for n in sorted(names, reverse=True) for sfx in PAGE_SUFFIXES if n.lower().endswith(sfx)}
    return [(d, pages[d[: -len("_files")]]) for d in dirs if d.endswith("_files") and d[: -len("_files")] in pages]


def _seen_before(folder: str, visited: set[tuple[int, int]]) -> bool:
    """Whether this folder (device, inode) was walked already (links followed make cycles)."""
    try:
        st = os.stat(folder)
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    if key in visited:
        return True
    visited.add(key)
    return False


def _refusal(f: Path, inside: Path, follow_symlinks: bool) -> Skip | None:
    """Why `f` (found in a walked folder) is not read, or None."""
    try:
        st = f.stat()  # never opens it: a FIFO does not block here
    except OSError as exc:
        broken = broken_link(f)
        if broken:
            return Skip(f, "broken link", broken)
        return Skip(f, "unreadable file", f"cannot read: {exc.strerror}")
    if f.is_symlink() and not follow_symlinks and not f.resolve().is_relative_to(inside):
        return Skip(f, "link outside", f"symbolic link to {f.resolve()}, outside {inside}: not followed "
                                       "(--follow-symlinks follows it)")
    if not stat.S_ISREG(st.st_mode):
        return Skip(f, "not a regular file", f"not a regular file ({_kind(st.st_mode)}): not read")
    return None


def broken_link(p: Path) -> str | None:
    """Why `p` is a symbolic link that leads nowhere (its target missing, or links in a
    loop), or None if it is not one."""
    if not p.is_symlink():
        return None
    try:
        p.stat()
    except FileNotFoundError:
        return f"broken symbolic link: its target {os.readlink(p)} is missing"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"broken symbolic link: it leads back to itself ({os.readlink(p)})"
        return None
    return None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "directory")):
        if test(mode):
            return name
    return "special file"
