"""Pictures in an HTML report page: which `<img>` the reader OCRs, and where their bytes
come from. Tables pasted into a CMS page as pictures are read like image files (`image.py`,
`ocr.py`): the same raw rows, flagged `ocr`, with the image's number in page order as the
rows' `page` and its `src` in the table's locator.

Sources of an image's bytes, tried in this order:

- `data:` URIs (base64), inside the page itself;
- a page in the raw store (`raw/<sha[:2]>/<sha>.html`, bytes hashing to that name): the
  crawler fetched the body's images when it fetched the page and stored each by its own
  hash, like any file, and recorded the page's `src` → image hash map in
  `raw/page-images/<page sha>.json` (`RawStore.put_page_images`). The reader finds the map
  from the page's own content address, and reads an image only if its bytes still hash to
  the name the map gives. A local page kept in the raw store (a quarantined one) has its
  map too: the pictures its first read took from beside it, stored when the page was
  (`beside_page`), and the ones it could not read there with their reasons;
- a local file: `src` relative to the page's directory, confined to it: no absolute path,
  no URL scheme, no `..` out of it, no symlink leading out (the resolved path must stay
  inside), a regular file. Anything else is refused with a reason, never read.

Why a map beside the store rather than a rewritten page: the page's stored bytes stay
exactly what was fetched (its hash is its name, `xxgk verify` checks it), every image is
a stored file with its own honest hash, and the reader keeps its one signature
`(path, settings, data)`: a page re-read from the raw store (reparse, repair, --stale)
finds its images the same way, with no per-document settings travelling through the
flows. An image that could not be fetched is simply absent from the map: a reason.

A remote `src` of a local file is never fetched by the reader (it reads, it does not crawl).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

MAX_IMAGES = 16
"""Pictures of one page read at most (a report has three tables, some split in parts)."""
MAX_IMAGE_BYTES = 10 * 2**20
"""One picture's bytes at most (crawled, local or inline)."""
MAX_TOTAL_BYTES = 40 * 2**20
"""All pictures of one page together."""
MIN_SIDE = 120
"""Pictures narrower or lower than this (pixels, from their header) are icons, not tables."""
PAGE_IMAGES_DIR = "page-images"
"""Under the raw store's root: one `<page sha>.json` map per stored page with pictures."""

_REPORT_FORM = {
    "t2": re.compile("规章|规范性文件|行政许可|行政处罚"),
    "t3": re.compile("自然人|申请人情况|本年新收"),
    "t4": re.compile("行政复议"),
}
"""Words a table of each national-form table holds (only to tell whether one is missing)."""


@dataclass(slots=True)
class PageImage:
    """One `<img>` of the report body: its number in page order (1-based), its `src` as
    written, and its bytes or why there are none."""

    number: int
    src: str
    data: bytes | None = None
    refused: str | None = None

    @property
    def label(self) -> str:
        src = self.src if not self.src.startswith("data:") else self.src[:30] + "…"
        return f"img {self.number} ({src})"


def missing_form_tables(table_texts: list[str]) -> list[str]:
    """The national-form tables (t2, t3, t4) none of the page's HTML tables holds."""
    return [t for t, pat in _REPORT_FORM.items() if not any(pat.search(text) for text in table_texts)]


def sources(bodies: list) -> list[str]:
    """The `src` of every `<img>` in the report bodies, in page order."""
    return [(img.get("src") or img.get("data-src") or "").strip() for body in bodies for img in body.iter("img")]


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG or GIF header without decoding pixels."""
    from .image import _image_size

    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return _image_size(data)


def load_images(path: Path, page: bytes, srcs: list[str],
                source: Callable[[str], tuple[bytes | None, str | None]] | None = None) -> list[PageImage]:
    """The pictures `srcs` of the page `path` (bytes `page`), each with its bytes or the
    reason it has none (see the module docstring for where they come from). `source(src)`:
    where a picture not inline comes from, instead (`beside_page` records them)."""
    stored = stored_map(path, page)
    out: list[PageImage] = []
    total = read = 0
    for k, src in enumerate(srcs, 1):
        img = PageImage(k, src)
        if read >= MAX_IMAGES:  # only pictures read count: refused ones before do not crowd out good ones
            img.refused = f"more than {MAX_IMAGES} pictures in the page: not read"
        elif not src:
            img.refused = "no src"
        elif src.startswith("data:"):
            img.data, img.refused = data_uri(src)
        elif source is not None:
            img.data, img.refused = source(src)
        elif stored is not None:
            img.data, img.refused = from_store(path, stored, src)
        else:
            img.data, img.refused = local_file(path, src)
        if img.data is not None:
            total += len(img.data)
            if len(img.data) > MAX_IMAGE_BYTES:
                img.data, img.refused = None, f"{len(img.data)} bytes exceeds {MAX_IMAGE_BYTES} per picture"
            elif total > MAX_TOTAL_BYTES:
                img.data, img.refused = None, f"pictures exceed {MAX_TOTAL_BYTES} bytes in all"
            else:
                read += 1
        out.append(img)
    return out


_DATA_URI = re.compile(r"data:(?P<type>[\w/+.-]*)(?P<params>(?:;[^,;]*)*),(?P<body>.*)", re.S)


def pictures_digest(images: list[PageImage]) -> str | None:
    """SHA-256 over the `src` and bytes of the pictures read from outside the page's own
    bytes (files beside it, the raw store): they hold its tables, so they are part of what
    the page is. None when there are none (a `data:` URI is in the page's bytes)."""
    parts = [f"{img.src}\t{hashlib.sha256(img.data).hexdigest()}" for img in images
             if img.data is not None and not img.src.startswith("data:")]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest() if parts else None


def with_pictures(sha256: str, digest: str | None) -> str:
    """A page's identity: its bytes' SHA-256, combined with its pictures' digest when it
    has pictures outside its bytes (a picture replaced beside an unchanged page is a
    changed document; two equal pages with different pictures are two documents)."""
    return sha256 if digest is None else hashlib.sha256(f"{sha256}+{digest}".encode()).hexdigest()


def data_uri(src: str) -> tuple[bytes | None, str | None]:
    """The bytes of a base64 `data:` URI, or why not."""
    m = _DATA_URI.fullmatch(src.strip())
    if m is None:
        return None, "malformed data: URI"
    if ";base64" not in m.group("params").lower():
        return None, "data: URI not in base64"
    body = re.sub(r"\s+", "", unquote(m.group("body")))
    if len(body) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return None, f"data: URI exceeds {MAX_IMAGE_BYTES} bytes"
    try:
        return base64.b64decode(body, validate=True), None
    except (binascii.Error, ValueError):
        return None, "data: URI is not valid base64"


def local_file(path: Path, src: str) -> tuple[bytes | None, str | None]:
    """A picture beside a local page: `src` relative to the page's directory, confined to it."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc:
        return None, "remote picture (the reader fetches nothing; the crawler fetches a page's pictures)"
    rel = unquote(parts.path).replace("\\", "/")
    if not rel or rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
        return None, "absolute path refused (only paths relative to the page's directory are read)"
    base = path.resolve().parent
    target = (base / rel).resolve()
    if not target.is_relative_to(base):
        return None, "path leads outside the page's directory: refused"
    try:
        # opened without blocking (a FIFO would wait for a writer forever), then checked:
        # what is read is the regular file that was checked, never a path swapped after
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        if os.path.lexists(base / rel):
            return None, "broken symbolic link beside the page: its target is missing"
        return None, "no such file beside the page"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, f"not a regular file ({_kind(st.st_mode)}) beside the page: not read"
        if st.st_size > MAX_IMAGE_BYTES:
            return None, f"{st.st_size} bytes exceeds {MAX_IMAGE_BYTES} per picture"
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror}"
    finally:
        os.close(fd)
    if len(data) > MAX_IMAGE_BYTES:
        return None, f"more than {MAX_IMAGE_BYTES} bytes per picture"
    return data, None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "a special file"


def raw_root_of(path: Path, page: bytes) -> Path | None:
    """The raw store's root when `path` is a page stored in it under its own hash."""
    sha = hashlib.sha256(page).hexdigest()
    if path.stem != sha or path.parent.name != sha[:2]:
        return None
    return path.parent.parent


@dataclass(frozen=True, slots=True)
class StoredMap:
    """A page's `raw/page-images/<page sha>.json`: each picture `src` → the sha256 of its
    stored bytes, and (a local page's) the pictures its first read could not read beside it
    → why, so that a re-read from the raw store gives the same reasons."""

    images: dict[str, str]
    refused: dict[str, str]


def stored_map(path: Path, page: bytes) -> StoredMap | None:
    """The `src` → image sha256 map of a page in the raw store, else None."""
    root = raw_root_of(path, page)
    if root is None:
        return None
    mp = root / PAGE_IMAGES_DIR / f"{path.stem}.json"
    try:
        got = json.loads(mp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    images = got.get("images") if isinstance(got, dict) else None
    if not isinstance(images, dict):
        return None
    refused = got.get("refused")
    return StoredMap({str(k): str(v) for k, v in images.items()},
                     {str(k): str(v) for k, v in refused.items()} if isinstance(refused, dict) else {})


def beside_page(path: Path, page: bytes, srcs: list[str],
                keep: Callable[[bytes], str]) -> tuple[StoredMap, list[PageImage]]:
    """The pictures of a local page exactly as its reader reads them (`load_images`), each
    picture it takes from beside the page handed to `keep` (which stores it and returns its
    sha256) as soon as it is read: the page's map for the raw store, so that its stored copy
    is re-read with the same pictures (the same identity, `with_pictures`) once the folder
    it came from is gone. Also the pictures as read (their digest is the identity's)."""
    images: dict[str, str] = {}
    refused: dict[str, str] = {}

    def source(src: str) -> tuple[bytes | None, str | None]:
        data, why = local_file(path, src)
        if data is not None:
            images[src] = keep(data)
        elif why is not None:
            refused[src] = why
        return data, why

    read = load_images(path, page, srcs, source)
    return StoredMap(images, refused), read


def from_store(path: Path, stored: StoredMap, src: str) -> tuple[bytes | None, str | None]:
    """A stored page's picture from the raw store, only if it still hashes to its name."""
    sha = stored.images.get(src)
    if sha is None:
        if src in stored.refused:
            return None, stored.refused[src]
        return None, "not fetched with the page (see the crawl's items)"
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        return None, "damaged page-images map"
    root = path.parent.parent
    hits = sorted((root / sha[:2]).glob(f"{sha}.*"))
    if not hits:
        return None, "its stored copy is missing from the raw store"
    data = hits[0].read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        return None, "its stored copy does not hash to its name (damaged)"
    return data, None
