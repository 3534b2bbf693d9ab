"""The content-addressed raw store: every fetched (or ingested) file once, by SHA-256.

    raw/<sha256[:2]>/<sha256>.<ext>       the bytes, as fetched
    raw/http-cache/<source slug>.json      URL → ETag, Last-Modified, sha256, fetch time

Files are written under a temporary name and renamed, so a crash never leaves half a
file under a content address. The same bytes from two URLs are stored once.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
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

    def put(self, data: bytes, name_hint: str = "") -> tuple[str, Path, bool]:
        """Store `data`; returns (sha256, path, newly stored)."""
        sha = hashlib.sha256(data).hexdigest()
        return self._store(sha, lambda: _extension(name_hint, data[:8192]), lambda tmp: tmp.write_bytes(data))

    def put_file(self, path: Path, sha256: str | None = None) -> tuple[str, Path, bool]:
        """Store a local file without reading it into memory (it may be huge); `sha256`, when
        the caller has hashed it already, saves hashing it again."""
        with open(path, "rb") as fh:
            sha = sha256 or hashlib.file_digest(fh, "sha256").hexdigest()
            fh.seek(0)
            head = fh.read(8192)
        return self._store(sha, lambda: _extension(path.name, head), lambda tmp: shutil.copyfile(path, tmp))

    def _store(self, sha: str, extension, fill) -> tuple[str, Path, bool]:
        """Write a new content address: `fill(tmp)` writes a temporary file, which is synced
        and renamed into place (a crash never leaves half a file under the address)."""
        existing = self.find(sha)
        if existing is not None:
            return sha, existing, False
        path = atomic_write(self.path_for(sha, extension()), fill)
        return sha, path, True

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


def _extension(name_hint: str, head: bytes) -> str:
    """The stored file's extension: from its sniffed format, else the name's (letters and
    digits only: a name from a URL or header never shapes a path), else `.bin`."""
    fmt = sniff_format(Path(name_hint or "x"), head)
    if fmt in EXTENSIONS:
        return EXTENSIONS[fmt]
    suffix = Path(name_hint.split("?")[0].replace("\\", "/").split("/")[-1] or "x").suffix.lower()[1:9]
    return f".{suffix}" if re.fullmatch(r"[a-z0-9]+", suffix) else ".bin"
