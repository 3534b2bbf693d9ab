"""Document → ExtractionResult: the whole transform as a chain of small steps

    read_document → locate (match rows to items) → slots (assign columns) →
    place (identities fill dropped cells) → facts → checks → status

`process_file` never raises for a bad document: failures are results with a reason."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

from extract import PARSER_VERSION, ExtractError, ExtractSettings, RawDocument, read_document, sniff_format
from extract.metadata import metadata_from_document

from .checks import facts_to_checks
from .match import iter_rows, locate
from .place import place_short_rows
from .records import Document, ExtractionResult, Fact, Report, report_id_for
from .region import Region, RegionDataMissing
from .region import resolve as resolve_region
from .templates import Templates, load_templates
from .tidy import Slot, slot_to_fact, slots_for_item, t4_slots

logger = logging.getLogger(__name__)

TABLE_NAMES = {"t2": "表二", "t3": "表三", "t4": "表四"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def build_facts(doc: RawDocument, templates: Templates, report_id: str, year: int | None):
    rows = list(iter_rows(doc))
    loc = locate(rows, templates, year)
    t2v = loc.t2_version or templates.version_for_year(year) or "2021"
    printed_t3 = [code for (t, code) in loc.items if t == "t3"]
    if any(c.startswith("other.") for c in printed_t3):
        t3v = "2021"
    elif "other" in printed_t3:
        t3v = "2019"
    else:
        t3v = t2v
    found = {t for (t, _) in loc.items} | ({"t4"} if loc.t4_cells or loc.t4_rows else set())
    facts: list[Fact] = []
    problems: list[str] = []
    for table in ("t2", "t3"):
        spec = templates.t2[t2v] if table == "t2" else templates.t3
        version = t2v if table == "t2" else t3v
        expected = [it.code for it in spec.items_for(version)]
        extra = [c for (t, c) in loc.items if t == table and c not in expected]
        grid: dict[tuple[str, str], Slot] = {}
        short: dict[str, list] = {}
        for code in expected + extra:
            ir = loc.items.get((table, code))
            if ir is None:
                for col in spec.item(code).columns:
                    grid[(code, col)] = Slot(table, code, col, flags=["not_found"])
                continue
            slots, state = slots_for_item(ir, spec)
            for s in slots:
                grid[(code, s.column)] = s
            if state == "short":
                short[code] = [(c, ir.row.value_offset + k) for k, c in enumerate(ir.row.values) if c.text]
        if short:
            if table == "t3":
                left = place_short_rows(spec, templates.identities, grid, short, expected + extra)
            else:
                left = list(short)
                for key, s in grid.items():
                    if s.item in short:
                        s.flags = [f for f in s.flags if f != "short"] + ["unreadable"]
            if left:
                problems.append(f"{TABLE_NAMES[table]} rows with missing cells could not be placed: {', '.join(left)}")
        facts += [slot_to_fact(s, spec, report_id, PARSER_VERSION) for s in grid.values()]
    if loc.t4_unplaced:
        problems.append(f"表四 rows with numbers could not be placed: {', '.join(loc.t4_unplaced)}")
    slots4, state4 = t4_slots(loc, templates)
    if slots4:
        if state4 == "short":
            # 表四 printed with fewer than 15 cells and no header geometry: flag, never guess
            _flag_unplaced(slots4)
            problems.append("表四 has missing cells that could not be placed")
        facts += [slot_to_fact(s, templates.t4, report_id, PARSER_VERSION) for s in slots4]
    else:
        for it in templates.t4.items:
            for col in templates.t4.column_order:
                facts.append(Fact(report_id, "t4", it.code, col, None, None, None, flags=["not_found"],
                                  parser_version=PARSER_VERSION))
    return facts, t2v, found, problems, loc


def _flag_unplaced(slots: list[Slot]) -> None:
    for s in slots:
        s.flags = [f for f in s.flags if f != "short"] + ["ambiguous", "unreadable"]


def build_result(doc: RawDocument, sha256: str, source: str, size: int, templates: Templates | None = None) -> ExtractionResult:
    templates = templates or load_templates()
    rid = report_id_for(sha256)
    meta = metadata_from_document(doc)
    try:
        region = resolve_region(meta.agency)
    except RegionDataMissing as exc:
        logger.warning("%s: region not resolved: %s", source, exc)
        region = Region(None, None, None, None)
    facts, t2v, found, problems, loc = build_facts(doc, templates, rid, meta.year)
    checks = facts_to_checks(facts, templates, rid)
    template = t2v if "t2" in found else (None if not found else t2v)
    status, reason = "ok", None
    if not found:
        if meta.year is not None and meta.year < 2019:
            status, reason = "unsupported", f"pre-2019 report ({meta.year}): provincial format with no common tables"
        else:
            status, reason = "failed", "no report tables found (表二/表三/表四 missing)"
        facts, checks = [], []
    else:
        missing_codes = [t for t in ("t2", "t3", "t4") if t not in found]
        missing = [TABLE_NAMES[t] for t in missing_codes]
        if missing:
            problems.append(f"not found: {', '.join(missing)}")
        lost = sorted({f"{f.table}.{f.item}" for f in facts if "not_found" in f.flags and f.table not in missing_codes})
        if lost:
            problems.append(f"rows not found: {', '.join(lost[:8])}" + (" …" if len(lost) > 8 else ""))
        if facts and all(f.value is None for f in facts if "not_found" not in f.flags):
            # blank usually means zero, but a report with no value at all is an empty form
            problems.append("every table cell is blank (an empty form: no values reported)")
        unreadable = [f for f in facts if {"unreadable", "ambiguous"} & set(f.flags)]
        if unreadable:
            problems.append(f"{len(unreadable)} cells unreadable")
        failed = [c for c in checks if c.passed is False]
        if failed:
            rules = sorted({c.rule for c in failed})
            problems.append(f"{len(failed)} identity checks failed ({', '.join(rules)})")
        if problems:
            status, reason = "partial", "; ".join(problems)
    report = Report(
        report_id=rid, doc_sha256=sha256, source=source, format=doc.format, status=status, reason=reason,
        template=template, year=meta.year, agency=meta.agency, published=meta.published,
        region_name=region.name, region_code=region.code, level=region.level, body_type=region.body_type,
        pages=doc.pages,
        n_facts=len(facts), n_checks_failed=sum(1 for c in checks if c.passed is False),
        parser_version=PARSER_VERSION, extracted_at=_now(),
    )
    document = Document(doc_sha256=sha256, source=source, format=doc.format, size=size, status=status,
                        reason=reason, parser_version=PARSER_VERSION, ingested_at=_now())
    return ExtractionResult(document, report, facts, checks)


def failed_result(path: Path, sha256: str, size: int, fmt: str, status: str, reason: str) -> ExtractionResult:
    rid = report_id_for(sha256)
    now = _now()
    report = Report(report_id=rid, doc_sha256=sha256, source=str(path), format=fmt, status=status, reason=reason,
                    template=None, year=None, agency=None, published=None, parser_version=PARSER_VERSION,
                    extracted_at=now)
    document = Document(sha256, str(path), fmt, size, status, reason, PARSER_VERSION, now)
    return ExtractionResult(document, report, [], [])


def _oversize(path: Path, size: int, settings: ExtractSettings) -> ExtractionResult:
    """A file over max_bytes, refused without reading it into memory (hashed as a stream)."""
    with open(path, "rb") as fh:
        sha = hashlib.file_digest(fh, "sha256").hexdigest()
        fh.seek(0)
        fmt = sniff_format(path, fh.read(8192))
    return failed_result(path, sha, size, fmt, "failed", f"{size} bytes exceeds max_bytes={settings.max_bytes}")


def process_file(path: Path | str, settings: ExtractSettings | dict | None = None, source: str | None = None,
                 data: bytes | None = None) -> ExtractionResult:
    """Extract, tidy and check one document. Never raises for a bad document."""
    path = Path(path)
    source = source or str(path)
    settings = ExtractSettings.resolve(settings)
    try:
        if data is None:
            size = path.stat().st_size
            if size > settings.max_bytes:
                return _oversize(path, size, settings)
            data = path.read_bytes()
    except OSError as exc:
        return failed_result(path, hashlib.sha256(str(path).encode()).hexdigest(), 0, "unknown", "failed",
                             f"cannot read file: {exc.strerror}")
    sha = hashlib.sha256(data).hexdigest()

    def failed(status: str, reason: str) -> ExtractionResult:
        fmt = sniff_format(path, data[:8192]) if data else path.suffix.lstrip(".") or "unknown"
        return failed_result(path, sha, len(data), fmt, status, reason)

    try:
        doc = read_document(path, settings, data=data)
        result = build_result(doc, sha, source, len(data))
    except ExtractError as exc:
        logger.info("%s: %s", path, exc.reason)
        return failed(exc.status, exc.reason)
    except RecursionError:
        return failed("failed", "document structure nested too deeply")
    except MemoryError:
        return failed("failed", "ran out of memory reading the document")
    except Exception as exc:  # a parser bug must not stop the batch; the reason names it
        logger.exception("%s: unexpected error", path)
        return failed("failed", f"internal error: {type(exc).__name__}: {exc}")
    result.report.source = source
    result.document.source = source
    return result
