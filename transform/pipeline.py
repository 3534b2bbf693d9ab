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
from extract.errors import one_line
from extract.htmlimg import with_pictures
from extract.metadata import metadata_from_document
from extract.models import RawCell

from .bodies import BodyRef, load_registry, normalise_name, other_body, plausible_name, resolve_body
from .checks import facts_to_checks
from .match import Located, iter_rows, locate
from .missing import REASON as MISSING_REASON
from .missing import flag_missing, unknown_checks
from .numbers import declared_units
from .place import join_apart_digits, place_short_rows
from .pre2019 import pre_2019_reason
from .records import CheckResult, Document, ExtractionResult, Fact, Report, SourceContext, report_id_for
from .region import Region, RegionDataMissing
from .script import document_to_simplified, traditional_table
from .t4 import t4_slots
from .templates import Identity, TableSpec, Templates, load_templates
from .tidy import Slot, doubt_assumed_units, merged_number, slot_to_fact, slots_for_item

logger = logging.getLogger(__name__)

TABLE_NAMES = {"t2": "表二", "t3": "表三", "t4": "表四"}
PICTURE_TABLES = "no report tables as text (表二/表三/表四 may be pictures)"
"""The reason of a page without report tables whose pictures OCR did not read (off or not
installed): `unsupported`, as a scan is then, and read again by a run with OCR on; the
pictures' note follows it (`pictures not read: 3 (OCR is off)`)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def build_facts(doc: RawDocument, templates: Templates, report_id: str, year: int | None):
    """Rows → located items → slots → facts. Returns (facts, 表二 version, tables found,
    problems for the reason, the located rows)."""
    loc = locate(list(iter_rows(doc)), templates, year)
    wraps = doc.format == "pdf"  # only a text layer turns a cell's line breaks into spaces
    t2v = loc.t2_version or templates.version_for_year(year) or "2021"
    found = {t for (t, _) in loc.items} | ({"t4"} if loc.t4.printed else set())
    problems = duplicate_problems(loc)
    facts: list[Fact] = []
    for table, spec, version in (("t2", templates.t2[t2v], t2v), ("t3", templates.t3, t3_version(loc, t2v))):
        grid, left = table_slots(loc, spec, version, templates.identities, wraps)
        if left:
            problems.append(f"{TABLE_NAMES[table]} rows with missing cells could not be placed: {', '.join(left)}")
        problems += merged_problems(grid.values())
        facts += [slot_to_fact(s, spec, report_id, PARSER_VERSION) for s in grid.values()]
    assumed = any("unit_assumed" in f.flags for f in facts)  # the document's units read only then
    facts, doubted = doubt_assumed_units(facts, declared_units(doc.text) if assumed else frozenset())
    problems += doubted
    t4, t4_problems = t4_facts(loc, templates, report_id, wraps)
    return facts + t4, t2v, found, problems + t4_problems, loc


def t3_version(loc: Located, t2_version: str) -> str:
    """表三's version by the rows printed (a 2021 report may print the single 2019 （六）
    row); the 表二 version when neither kind of （六） row was found."""
    printed = [code for (t, code) in loc.items if t == "t3"]
    if any(c.startswith("other.") for c in printed):
        return "2021"
    if "other" in printed:
        return "2019"
    return t2_version


def table_slots(loc: Located, spec: TableSpec, version: str, identities: tuple[Identity, ...],
                wraps: bool = False) -> tuple[dict[tuple[str, str], Slot], list[str]]:
    """The slots of 表二 or 表三, every expected row (`not_found` when missing) and any
    other row printed, with the short rows placed; and the items left unplaced. `wraps`:
    digits apart in a cell may be a number wrapped over lines (a PDF's text layer), read
    as one where the identities confirm it (`place.join_apart_digits`)."""
    table = spec.code
    expected = [it.code for it in spec.items_for(version)]
    printed = expected + [c for (t, c) in loc.items if t == table and c not in expected]
    grid: dict[tuple[str, str], Slot] = {}
    short: dict[str, list[tuple[RawCell, int]]] = {}
    for code in printed:
        ir = loc.items.get((table, code))
        if ir is None:
            grid.update({(code, col): Slot(table, code, col, flags=["not_found"]) for col in spec.item(code).columns})
            continue
        slots, state = slots_for_item(ir, spec)
        grid.update({(code, s.column): s for s in slots})
        if state == "short":
            short[code] = [(c, ir.row.value_offset + k) for k, c in enumerate(ir.row.values) if c.text]
    _flag_duplicates(grid.values(), {code for (t, code) in loc.duplicates if t == table})
    if table == "t3" and wraps:
        join_apart_digits(spec, identities, grid, printed)  # numbers wrapped in narrow cells
    if not short:
        return grid, []
    if table == "t3":
        return grid, place_short_rows(spec, identities, grid, short, printed)
    _flag_unplaced([s for s in grid.values() if s.item in short], ["unreadable"])  # 表二: no identities
    return grid, list(short)


def t4_facts(loc: Located, templates: Templates, report_id: str, wraps: bool = False) -> tuple[list[Fact], list[str]]:
    """表四's 15 facts (`not_found` when it was not printed) and the problems met."""
    problems = []
    if loc.t4.unplaced:
        problems.append(f"表四 rows with numbers could not be placed: {', '.join(loc.t4.unplaced)}")
    slots, state = t4_slots(loc.t4, templates)
    if not slots:
        return [Fact(report_id, "t4", it.code, col, None, None, None, flags=["not_found"], parser_version=PARSER_VERSION)
                for it in templates.t4.items for col in templates.t4.column_order], problems
    if state != "ok":
        # 表四 printed with fewer (or more) than 15 cells and no header geometry: flag, never guess
        _flag_unplaced(slots, ["ambiguous", "unreadable"])
        problems.append("表四 has missing cells that could not be placed")
    _flag_duplicates(slots, set(loc.t4.repeated))
    problems += merged_problems(slots)
    if wraps:
        join_apart_digits(templates.t4, templates.identities, {(s.item, s.column): s for s in slots},
                          [it.code for it in templates.t4.items])
    return [slot_to_fact(s, templates.t4, report_id, PARSER_VERSION) for s in slots], problems


def merged_problems(slots) -> list[str]:
    """The cells holding a number merged over several rows (`tidy.merged_number`), named in
    the reason (as many as 8)."""
    names = [f"{TABLE_NAMES[s.table]} {s.item}.{s.column}" for s in slots if merged_number(s.cell)]
    if not names:
        return []
    more = " …" if len(names) > 8 else ""
    return [f"a number merged over several rows is no one row's: {', '.join(names[:8])}{more}"]


def duplicate_problems(loc: Located) -> list[str]:
    """A row matching an item already seen (its second row is not read): the reason names
    the rows, as many as 8."""
    rows = [(t, item) for t, item in loc.duplicates] + [("t4", item) for item in loc.t4.repeated]
    names = list(dict.fromkeys(f"{TABLE_NAMES[t]} {item}" for t, item in rows))
    if not names:
        return []
    more = " …" if len(names) > 8 else ""
    return [f"several reports in one document? rows repeated: {', '.join(names[:8])}{more}"]


def _flag_duplicates(slots, items: set[str]) -> None:
    for s in slots:
        if s.item in items:
            s.flags.append("duplicate_row")


def _flag_unplaced(slots: list[Slot], flags: list[str]) -> None:
    for s in slots:
        s.flags = [f for f in s.flags if f != "short"] + flags


def _body(agency: str | None, source: str) -> BodyRef:
    try:
        return resolve_body(agency)
    except RegionDataMissing as exc:
        logger.warning("%s: region not resolved: %s", source, exc)
        return BodyRef(None, agency, Region(None, None, None, None))


def load_reference_data() -> None:
    """Load and validate the template specs, the body registry and the traditional
    character table (data/), raising `TemplateSpecError` / `BodyRegistryError` naming the
    file and the entry: a mistake in
    them stops a run before it reads any document, never fails every document one by one."""
    load_templates()
    load_registry()
    traditional_table()


def report_year(stated: int | None, context: SourceContext | None) -> int | None:
    """The year the document states, else the one the crawl saw in its link text or URL."""
    if stated is not None:
        return stated
    return context.link_year if context is not None else None


def table_problems(facts: list[Fact], checks: list[CheckResult], found: set[str],
                   missing_tables: list[str]) -> list[str]:
    """What keeps a report whose tables were found from `ok` (each one reason)."""
    problems = []
    missing_codes = [t for t in ("t2", "t3", "t4") if t not in found]
    if missing_codes:
        problems.append(f"not found: {', '.join(TABLE_NAMES[t] for t in missing_codes)}")
    lost = sorted({f"{f.table}.{f.item}" for f in facts if "not_found" in f.flags and f.table not in missing_codes})
    if lost:
        problems.append(f"rows not found: {', '.join(lost[:8])}" + (" …" if len(lost) > 8 else ""))
    if facts and all(f.value is None for f in facts if "not_found" not in f.flags):
        # blank usually means zero, but a report with no value at all is an empty form
        problems.append("every table cell is blank (an empty form: no values reported)")
    if missing_tables:
        problems.append(f"{MISSING_REASON} ({', '.join(TABLE_NAMES[t] for t in missing_tables)})")
    unreadable = [f for f in facts if {"unreadable", "ambiguous"} & set(f.flags)]
    if unreadable:
        problems.append(f"{len(unreadable)} cells unreadable")
    if any("ocr" in f.flags for f in facts):
        unseen = sum(1 for f in facts if f.derived)
        if unseen:  # solved from the identities, so they no longer check it: a dash or a 0 OCR missed reads as blank
            problems.append(f"{unseen} cells not seen in the scan (solved from the identities, flagged derived)")
    failed = [c for c in checks if c.passed is False]
    if failed:
        problems.append(f"{len(failed)} identity checks failed ({', '.join(sorted({c.rule for c in failed}))})")
    return problems


def identity_problems(agency: str | None, year: int | None, template: str | None,
                      body_id: str | None) -> list[str]:
    """`ok` needs to know who reported, on which year, in which format. A printed name that
    names no one body (`body_id` None: 朝阳区人民政府 without its city, a fragment) is not
    enough: two bodies would pass as one report."""
    problems = []
    if not agency:
        problems.append("issuing body not found")
    elif body_id is None and not plausible_name(normalise_name(agency)):
        problems.append(f"issuing body name not readable: {agency!r}")
    elif body_id is None:
        problems.append(f"issuing body not placed: {agency!r} names no one body without its parent division "
                        "(a body the division table cannot place goes into data/bodies.toml)")
    if year is None:
        problems.append("report year not found (not in the document, nor in the crawl's link)")
    if not template:
        problems.append("template not recognised")
    return problems


def build_result(doc: RawDocument, sha256: str, source: str, size: int, templates: Templates | None = None,
                 context: SourceContext | None = None) -> ExtractionResult:
    templates = templates or load_templates()
    sha256 = with_pictures(sha256, doc.hints.get("pictures_sha256"))  # a page's pictures are part of it
    rid = report_id_for(sha256)
    doc = document_to_simplified(doc)  # a report in traditional characters reads as its simplified original
    meta = metadata_from_document(doc)
    year = report_year(meta.year, context)
    body = _body(meta.agency, source)
    facts: list[Fact] = []
    checks: list[CheckResult] = []
    template = None
    legacy = pre_2019_reason(year, doc)
    if legacy:  # decided before matching: fuzzy matching finds rows in any statistics table
        status, reason = "unsupported", legacy
    else:
        facts, t2v, found, problems, _ = build_facts(doc, templates, rid, year)
        if not found and doc.ocr_skipped:  # its tables are pictures, left unread: as a scan is with OCR off
            status, reason, facts = "unsupported", PICTURE_TABLES, []
        elif not found:
            status, reason, facts = "failed", "no report tables found (表二/表三/表四 missing)", []
        else:
            facts, gone = flag_missing(facts)
            checks = unknown_checks(facts_to_checks(facts, templates, rid), gone)
            template = t2v
            problems += identity_problems(meta.agency, year, template, body.body_id) + table_problems(facts, checks, found, gone)
            if meta.year_doubt:
                problems.append(meta.year_doubt)
            if meta.page_agency and other_body(_body(meta.page_agency, source), body):
                problems.append(f"issuing body unclear: the page's title names {meta.page_agency}, "
                                f"the report's own title {meta.agency}")
            status, reason = ("partial", "; ".join(problems)) if problems else ("ok", None)
        if status != "ok" and doc.hints.get("pictures"):  # a page's pictures not read say why
            reason = f"{reason}; pictures not read: {doc.hints['pictures']}"[:2000]
    region = body.region
    report = Report(
        report_id=rid, doc_sha256=sha256, source=source, format=doc.format, status=status, reason=reason,
        template=template, year=year, agency=meta.agency, published=meta.published,
        region_name=region.name, region_code=region.code, level=region.level, body_type=region.body_type,
        pages=doc.pages,
        n_facts=len(facts), n_checks_failed=sum(1 for c in checks if c.passed is False),
        parser_version=PARSER_VERSION, extracted_at=_now(), body_id=body.body_id,
        cells_read=sum(1 for f in facts if f.value is not None or f.blank),
    )
    document = Document(doc_sha256=sha256, source=source, format=doc.format, size=size, status=status,
                        reason=reason, parser_version=PARSER_VERSION, ingested_at=_now(),
                        ocr_skipped=doc.ocr_skipped)
    return ExtractionResult(document, report, facts, checks, doc.ocr_pages, round(doc.ocr_seconds, 3))


def failed_result(path: Path, sha256: str, size: int, fmt: str, status: str, reason: str,
                  source: str | None = None, ocr_skipped: bool = False) -> ExtractionResult:
    """The result of a document that could not be read: recorded under its `source` (the
    URL of a crawled document; the path when none is given). `ocr_skipped`: it was not read
    because OCR is off or not installed (`ExtractError.ocr_skipped`)."""
    rid = report_id_for(sha256)
    now = _now()
    source = source or str(path)
    report = Report(report_id=rid, doc_sha256=sha256, source=source, format=fmt, status=status, reason=reason,
                    template=None, year=None, agency=None, published=None, parser_version=PARSER_VERSION,
                    extracted_at=now)
    document = Document(sha256, source, fmt, size, status, reason, PARSER_VERSION, now, ocr_skipped=ocr_skipped)
    return ExtractionResult(document, report, [], [])


def _oversize(path: Path, size: int, settings: ExtractSettings, source: str) -> ExtractionResult:
    """A file over max_bytes, refused without reading it into memory (hashed as a stream)."""
    with open(path, "rb") as fh:
        sha = hashlib.file_digest(fh, "sha256").hexdigest()
        fh.seek(0)
        fmt = sniff_format(path, fh.read(8192))
    return failed_result(path, sha, size, fmt, "failed", f"{size} bytes exceeds max_bytes={settings.max_bytes}",
                         source)


def process_file(path: Path | str, settings: ExtractSettings | dict | None = None, source: str | None = None,
                 data: bytes | None = None, context: SourceContext | None = None) -> ExtractionResult:
    """Extract, tidy and check one document. Never raises for a bad document. `source` is
    what the document is recorded under (its URL when crawled; `path` by default)."""
    path = Path(path)
    source = source or str(path)
    settings = ExtractSettings.resolve(settings)
    try:
        if data is None:
            size = path.stat().st_size
            if size > settings.max_bytes:
                return _oversize(path, size, settings, source)
            data = path.read_bytes()
    except OSError as exc:
        return failed_result(path, hashlib.sha256(str(path).encode()).hexdigest(), 0, "unknown", "failed",
                             f"cannot read file: {exc.strerror}", source)
    sha = hashlib.sha256(data).hexdigest()

    def failed(status: str, reason: str, ocr_skipped: bool = False) -> ExtractionResult:
        fmt = sniff_format(path, data[:8192]) if data else path.suffix.lstrip(".") or "unknown"
        return failed_result(path, sha, len(data), fmt, status, reason, source, ocr_skipped)

    try:
        doc = read_document(path, settings, data=data)
        result = build_result(doc, sha, source, len(data), context=context)
    except ExtractError as exc:
        logger.info("%s: %s", path, exc.reason)
        return failed(exc.status, exc.reason, exc.ocr_skipped)
    except RecursionError:
        return failed("failed", "document structure nested too deeply")
    except MemoryError:
        return failed("failed", "ran out of memory reading the document")
    except Exception as exc:  # a parser bug must not stop the batch; the reason names it
        logger.exception("%s: unexpected error", path)
        return failed("failed", f"internal error: {type(exc).__name__}: {one_line(str(exc), 300)}")
    result.report.source = source
    result.document.source = source
    return result
