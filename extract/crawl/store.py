"""The content-addressed raw store: every fetched (or ingested) file once, by SHA-256.

    raw/<sha256[:2]>/<sha256>.<ext>       the bytes, as fetched
    raw/http-cache/<source slug>.json      URL → ETag, Last-Modified, sha256, fetch time
    raw/page-images/<page sha256>.json     a crawled page's picture `src` → the picture's sha256

Files are written under a temporary name and renamed, so a crash never leaves half a
file under a content address. The same bytes from two URLs are stored once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from common import atomic_write

from ..detect import sniff_format

EXTENSIONS = {"pdf": ".pdf", "html": ".html", "docx": ".docx", "doc": ".doc", "wps": ".wps", "text": ".txt"}


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{ext}"

    def find(self, sha256: str) -> Path | None:
        d = self.root / sha256[:2]
        hits = sorted(d.glob(f"{sha256}.*")) if d.exists() else []
        return hits[0] if hits else None

    def put(self, data: bytes, name_hint: str = "", mode: int | None = None) -> tuple[str, Path, bool]:
        """Store `data`; returns (sha256, path, newly stored). The stored copy is read back
        and must hash the same (else `OSError`, nothing stored); `mode`: the permission bits
        of the file the bytes came from (the copy is never more readable)."""
        sha = hashlib.sha256(data).hexdigest()

        def fill(tmp: Path) -> None:
            tmp.write_bytes(data)
            if mode is not None:
                os.chmod(tmp, stat.S_IMODE(os.stat(tmp).st_mode) & stat.S_IMODE(mode))
            with open(tmp, "rb") as fh:
                if hashlib.file_digest(fh, "sha256").hexdigest() != sha:
                    raise OSError(f"the stored copy of {sha[:12]} does not hash to its name")

        return self._store(sha, lambda: _extension(name_hint, data[:8192]), fill)

    def put_file(self, path: Path, sha256: str | None = None) -> tuple[str, Path, bool]:
        """Store a local file without reading it into memory (it may be huge); `sha256`, when
        the caller has hashed it already, saves hashing it again. The copy must hash to its
        name (a file changing meanwhile: `OSError`, nothing stored) and is never more readable
        than the file."""
        with open(path, "rb") as fh:
            sha = sha256 or hashlib.file_digest(fh, "sha256").hexdigest()
            fh.seek(0)
            head = fh.read(8192)
            mode = os.fstat(fh.fileno()).st_mode

        def fill(tmp: Path) -> None:
            shutil.copyfile(path, tmp)
            os.chmod(tmp, stat.S_IMODE(os.stat(tmp).st_mode) & stat.S_IMODE(mode))
            with open(tmp, "rb") as fh:
                if hashlib.file_digest(fh, "sha256").hexdigest() != sha:
                    raise OSError(f"{path} changed while it was stored: not stored")

        return self._store(sha, lambda: _extension(path.name, head), fill)

    def _store(self, sha: str, extension, fill) -> tuple[str, Path, bool]:
        """Write a new content address: `fill(tmp)` writes a temporary file, which is synced
        and renamed into place (a crash never leaves half a file under the address)."""
        existing = self.find(sha)
        if existing is not None:
            return sha, existing, False
        path = atomic_write(self.path_for(sha, extension()), fill)
        return sha, path, True

    # -- pictures of crawled pages ---------------------------------------------------------

    def put_page_images(self, page_sha: str, images: dict[str, str], refused: dict[str, str] | None = None) -> None:
        """Record which stored file each picture `src` of the page `page_sha` is (`src` as
        written in the page → the picture's sha256), and for a local page the pictures not
        read beside it → why (`refused`): `extract/htmlimg.py` reads them from here. The
        page's own bytes are never changed."""
        from ..htmlimg import PAGE_IMAGES_DIR

        got = {"images": images, **({"refused": refused} if refused else {})}
        text = json.dumps(got, ensure_ascii=False, indent=0, sort_keys=True)
        atomic_write(self.root / PAGE_IMAGES_DIR / f"{page_sha}.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))

    # -- conditional-GET validators per source ---------------------------------------------

    def _cache_path(self, slug: str) -> Path:
        return self.root / "http-cache" / f"{slug}.json"

    def load_cache(self, slug: str) -> dict[str, dict]:
        p = self._cache_path(slug)
        if not p.exists():
            return {}
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}  # a damaged cache only costs full downloads

    def save_cache(self, slug: str, cache: dict[str, dict]) -> None:
        text = json.dumps(cache, ensure_ascii=False, indent=0, sort_keys=True)
        atomic_write(self._cache_path(slug), lambda tmp: tmp.write_text(text, encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Input:
    """A local file read once: its bytes and their hash, or why it was not read."""

    data: bytes | None
    sha256: str | None
    mode: int | None = None
    refused: str | None = None
    """Set when nothing usable was read (not a regular file, changed while read, …)."""


def read_once(path: Path, max_bytes: int) -> Input | None:
    """Read `path` once and hash exactly the bytes read. Only a regular file is read (it is
    opened non-blocking, so a FIFO never hangs; a device never fills memory); one that
    changes while it is read is refused, never stored under a hash of other bytes. None when
    the file is larger than `max_bytes` (the reader reports it as oversize without reading)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return Input(None, None, refused=f"cannot read file: {exc.strerror}")
    with os.fdopen(fd, "rb") as fh:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return Input(None, None, refused="not a regular file (FIFO, device or socket): not read")
        if before.st_size > max_bytes:
            return None
        data = fh.read(max_bytes + 1)
        after = os.fstat(fd)
    if len(data) != after.st_size or (after.st_mtime_ns, after.st_size) != (before.st_mtime_ns, before.st_size):
        return Input(None, None, refused="the file changed while it was read: not stored, read it again later")
    return Input(data, hashlib.sha256(data).hexdigest(), before.st_mode)


def _extension(name_hint: str, head: bytes) -> str:
    """The stored file's extension: from its sniffed format, else the name's (letters and
    digits only: a name from a URL or header never shapes a path), else `.bin`."""
    fmt = sniff_format(Path(name_hint or "x"), head)
    if fmt in EXTENSIONS:
        return EXTENSIONS[fmt]
    suffix = Path(name_hint.split("?")[0].replace("\\", "/").split("/")[-1] or "x").suffix.lower()[1:9]
    return f".{suffix}" if re.fullmatch(r"[a-z0-9]+", suffix) else ".bin"
