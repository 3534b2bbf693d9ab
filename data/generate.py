"""Sample corpus generator: realistic annual reports with ground truth.

    uv run xxgk sample OUT_DIR [--count 40] [--seed 7] [--broken 0.1] [--formats html,docx,pdf,text]
                               [--pdf-engine reportlab|libreoffice|chromium] [--jobs N] [--scan]
    uv run python data/generate.py OUT_DIR ...            (the same, without the CLI)

Every document `<name>.<ext>` gets `<name>.truth.json` beside it: the metadata and the
facts that `xxgk extract --json` must yield (the shape `bench/accuracy.py` reads).
The generator is deterministic: document i of seed s depends only on (s, i), so a corpus
can be written in parallel and a single document regenerated.

It is an independent "publisher": it knows the official form (国办公开办函〔2019〕60号 and
〔2021〕30号) as printed, not the extractor's template files, so its truth checks the
extractor rather than echoing it. Variation knobs, each drawn per document from the seed:
blank-as-zero cells (blank, —, /, 无), full-width digits, thousands separators, amounts in
元 / 万 / 万元 (in the cell or in the header), spaces inside labels, label variants and
typos, `<br>` in labels, GBK pages with and without a declared charset, several CMS body
containers, 表二 as one table or as five, 表三 split over two pages (PDF, with or without a
repeated header) or into two tables (DOCX), unruled PDFs, missing cells in text layers,
the mixed 2021 layout that prints the single 2019 （六）其他处理 row, and (with --broken)
hand-made sums that break an identity (listed in the truth file under `broken`).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import html as htmlmod
import importlib.util
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("html", "docx", "pdf", "text")
APPLICANTS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org")
T3_COLUMNS = APPLICANTS + ("total",)
T4_ITEMS = ("admin_review", "litigation_direct", "litigation_after_review")
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")

# ---------------------------------------------------------------- the printed form

T3_RESULT_ROWS_2019 = (
    ("granted", "（一）予以公开", None),
    ("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None),
    ("denied.state_secret", "（三）不予公开", "1.属于国家秘密"),
    ("denied.law_prohibited", None, "2.其他法律行政法规禁止公开"),
    ("denied.security_stability", None, "3.危及“三安全一稳定”"),
    ("denied.third_party", None, "4.保护第三方合法权益"),
    ("denied.internal_affairs", None, "5.属于三类内部事务信息"),
    ("denied.process_info", None, "6.属于四类过程性信息"),
    ("denied.enforcement_file", None, "7.属于行政执法案卷"),
    ("denied.admin_query", None, "8.属于行政查询事项"),
    ("unable.not_held", "（四）无法提供", "1.本机关不掌握相关政府信息"),
    ("unable.needs_creation", None, "2.没有现成信息需要另行制作"),
    ("unable.unclear", None, "3.补正后申请内容仍不明确"),
    ("not_processed.petition", "（五）不予处理", "1.信访举报投诉类申请"),
    ("not_processed.duplicate", None, "2.重复申请"),
    ("not_processed.publication", None, "3.要求提供公开出版物"),
    ("not_processed.excessive", None, "4.无正当理由大量反复申请"),
    ("not_processed.confirmation", None, "5.要求行政机关确认或重新出具已获取信息"),
)
T3_OTHER_2019 = (("other", "（六）其他处理", None),)
T3_OTHER_2021 = (
    ("other.no_correction", "（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other.fee_unpaid", None, "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other.other", None, "3.其他"),
)
T3_HEAD = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
T4_HEAD = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")

T2_2019 = (  # (section, header labels, [(item, label, columns)])
    ("第二十条第（一）项", ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
     [("rules", "规章", ("made", "published", "total_public")),
      ("normative_docs", "规范性文件", ("made", "published", "total_public"))]),
    ("第二十条第（五）项", ("上一年项目数量", "本年增/减", "处理决定数量"),
     [("admin_license", "行政许可", ("prev_count", "change", "decisions")),
      ("other_admin_services", "其他对外管理服务事项", ("prev_count", "change", "decisions"))]),
    ("第二十条第（六）项", ("上一年项目数量", "本年增/减", "处理决定数量"),
     [("admin_penalty", "行政处罚", ("prev_count", "change", "decisions")),
      ("admin_coercion", "行政强制", ("prev_count", "change", "decisions"))]),
    ("第二十条第（八）项", ("上一年项目数量", "本年增/减"),
     [("admin_fees", "行政事业性收费", ("prev_count", "change"))]),
    ("第二十条第（九）项", ("采购项目数量", "采购总金额"),
     [("central_procurement", "政府集中采购", ("projects", "amount"))]),
)
T2_2021 = (
    ("第二十条第（一）项", ("本年制发件数", "本年废止件数", "现行有效件数"),
     [("rules", "规章", ("issued", "repealed", "in_force")),
      ("normative_docs", "行政规范性文件", ("issued", "repealed", "in_force"))]),
    ("第二十条第（五）项", ("本年处理决定数量",), [("admin_license", "行政许可", ("decisions",))]),
    ("第二十条第（六）项", ("本年处理决定数量",),
     [("admin_penalty", "行政处罚", ("decisions",)), ("admin_coercion", "行政强制", ("decisions",))]),
    ("第二十条第（八）项", ("本年收费金额（单位：万元）",), [("admin_fees", "行政事业性收费", ("amount",))]),
)

DEPARTMENTS = {
    "省级": ("教育厅", "财政厅", "自然资源厅", "生态环境厅", "交通运输厅", "卫生健康委员会", "市场监督管理局", "统计局", "人民政府办公厅"),
    "市级": ("教育局", "财政局", "生态环境局", "住房和城乡建设局", "卫生健康委员会", "市场监督管理局", "应急管理局",
             "机关事务服务中心", "人力资源和社会保障局", "人民政府办公室"),
    "县级": ("教育局", "财政局", "农业农村局", "民政局", "卫生健康局", "自然资源局", "市场监督管理局", "人民政府办公室"),
}
TOWNS = ("城关镇", "新华镇", "和平镇", "东风乡", "城南街道", "城北街道", "红星乡", "太平镇", "长安镇", "文昌街道")
SKIP_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


# ---------------------------------------------------------------- bodies and regions

def _adcodes() -> list[tuple[str, str]]:
    """(6-digit code, name) from the division table that the `cpca` package ships."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the generator needs the `cpca` package (its GB/T 2260 division table)")
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"
    with path.open(encoding="utf-8") as fh:
        return sorted((row["adcode"][:6], row["name"]) for row in csv.DictReader(fh))


@dataclass
class Body:
    name: str
    region_code: str | None
    level: str
    body_type: str


class Bodies:
    def __init__(self) -> None:
        # 台湾, 香港 and 澳门 publish no such reports
        self.names = {c: n for c, n in _adcodes() if c[:2] not in ("71", "81", "82")}
        self.provinces = [c for c in self.names if c.endswith("0000")]
        self.cities = [c for c in self.names if c.endswith("00") and not c.endswith("0000")
                       and self.names[c] not in SKIP_NAMES]
        self.counties = [c for c in self.names if not c.endswith("00") and self.names[c] not in SKIP_NAMES]

    def _prefix(self, code: str) -> str:
        """The printed region part of a name: 北京市朝阳区, 洪泽区 or 淮安市洪泽区."""
        name = self.names[code]
        parent = code[:4] + "00"
        if code[:2] in ("11", "12", "31", "50"):
            return self.names[code[:2] + "0000"] + name
        if parent in self.names and self.names[parent] not in SKIP_NAMES and parent != code:
            return self.names[parent] + name
        return name

    def pick(self, rng: random.Random) -> Body:
        roll = rng.random()
        if roll < 0.12:
            code = rng.choice(self.provinces)
            dept = rng.choice(DEPARTMENTS["省级"] + ("人民政府",))
            return Body(self.names[code] + dept, code, "省级", "government" if dept == "人民政府" else "department")
        if roll < 0.40:
            code = rng.choice(self.cities)
            dept = rng.choice(DEPARTMENTS["市级"] + ("人民政府",))
            return Body(self.names[code] + dept, code, "市级", "government" if dept == "人民政府" else "department")
        code = rng.choice(self.counties)
        prefix = self._prefix(code) if rng.random() < 0.5 else self.names[code]
        if prefix == self.names[code] and sum(1 for c in self.counties if self.names[c] == prefix) > 1:
            prefix = self._prefix(code)  # a county name shared by several divisions needs its city
        if roll < 0.52:
            town = rng.choice(TOWNS)
            suffix = "办事处" if town.endswith("街道") else "人民政府"
            return Body(prefix + town + suffix, code, "乡镇", "government")
        dept = rng.choice(DEPARTMENTS["县级"] + ("人民政府",))
        return Body(prefix + dept, code, "县级", "government" if dept == "人民政府" else "department")


# ---------------------------------------------------------------- true values

def _sparse(rng: random.Random, hi: int, p: float) -> int:
    return rng.randint(1, hi) if rng.random() < p else 0


def t3_values(rng: random.Random, rows: list[str]) -> dict[str, dict[str, int]]:
    """Counts that satisfy identities 1–3 (balance, results total, row total)."""
    result_rows = [r for r in rows if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
    quiet = rng.random() < 0.3
    weights = {r: (8 if r == "granted" else 3 if r in ("partially_granted", "unable.not_held") else
                   1.5 if r.startswith("not_processed") or r.startswith("unable") else 0.6) for r in result_rows}
    vals: dict[str, dict[str, int]] = {r: {} for r in rows}
    for i, col in enumerate(APPLICANTS):
        hi = (3 if quiet else 400) if i == 0 else (1 if quiet else 40) if i == 1 else 4
        p = 0.9 if i == 0 else 0.5 if i == 1 else 0.2
        n = _sparse(rng, hi, p)
        for r in result_rows:
            vals[r][col] = 0
        for _ in range(n):
            r = rng.choices(result_rows, weights=[weights[x] for x in result_rows])[0]
            vals[r][col] += 1
        fwd = _sparse(rng, max(1, n // 6), 0.4)
        over = _sparse(rng, 3, 0.3)
        over = min(over, n + fwd)
        vals["total_processed"][col] = n
        vals["carried_forward"][col] = fwd
        vals["carried_over"][col] = over
        vals["new_received"][col] = n + fwd - over
    for r in rows:
        vals[r]["total"] = sum(vals[r][c] for c in APPLICANTS)
    return vals


def t4_values(rng: random.Random) -> dict[str, dict[str, int]]:
    out = {}
    busy = rng.random() < 0.4
    for item in T4_ITEMS:
        v = {c: _sparse(rng, 6 if busy else 2, 0.35 if busy else 0.1) for c in T4_COLUMNS[:4]}
        v["total"] = sum(v.values())
        out[item] = v
    return out


def _amount(rng: random.Random, hi: float, decimals: int) -> float:
    if rng.random() < 0.3:
        return 0
    return round(rng.uniform(0.01, hi), rng.choice(range(decimals + 1)))


def t2_values(rng: random.Random, version: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    big = rng.random() < 0.35
    for _, _, items in (T2_2019 if version == "2019" else T2_2021):
        for item, _, cols in items:
            v: dict[str, float] = {}
            for c in cols:
                if c in ("made", "published", "issued", "repealed"):
                    v[c] = _sparse(rng, 40 if item == "normative_docs" else 3, 0.6)
                elif c in ("total_public", "in_force"):
                    v[c] = v.get("published", v.get("issued", 0)) + _sparse(rng, 600 if item == "normative_docs" else 20, 0.7)
                elif c == "prev_count":
                    v[c] = _sparse(rng, 900, 0.6)
                elif c == "change":
                    v[c] = rng.randint(-30, 30) if rng.random() < 0.5 else 0
                elif c == "decisions":
                    v[c] = _sparse(rng, 60000 if big else 900, 0.7)
                elif c == "projects":
                    v[c] = _sparse(rng, 150, 0.7)
                elif c == "amount":
                    v[c] = _amount(rng, 90000 if item == "central_procurement" else 3000, 2 if item == "central_procurement" else 4)
            out[item] = v
    return out


# ---------------------------------------------------------------- printing numbers

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass
class Style:
    fmt: str
    zero: str = "0"               # how a zero count is printed: "0", "", "—", "/", "无"
    blank_share: float = 0.0      # share of zero cells printed with `zero` (the rest print 0)
    fullwidth: bool = False
    thousands: bool = False
    amount_unit: str = "header"   # "header" (plain number, unit in header) | "万" | "万元" | "元"
    spaces_in_labels: bool = False
    typo: bool = False
    br_in_labels: bool = False
    variant_quotes: str = "“”"
    t2_split: bool = False
    encoding: str = "utf-8"
    declare_charset: bool = True
    container: str = "zoom"
    ruled: bool = True
    repeat_header: bool = False
    split_t3: bool = False
    missing_rows: int = 0
    mixed_other: bool = False
    alt_labels: bool = False
    t4_rows: bool = False         # 表四 printed one row per item (3 × 5) instead of one row of 15


def print_count(v: int, st: Style, rng: random.Random) -> tuple[str, int | None]:
    """(printed text, value the extractor must report). Printed blanks are null."""
    if v == 0 and st.zero != "0" and rng.random() < st.blank_share:
        return st.zero, None
    text = f"{v:,}" if st.thousands and abs(v) >= 1000 else str(v)
    if st.fullwidth:
        text = text.translate(FULLWIDTH)
    return text, v


def print_amount(v: float, st: Style, rng: random.Random, header_unit: bool) -> tuple[str, float | None]:
    if v == 0 and st.zero not in ("0", "无") and rng.random() < st.blank_share:
        return st.zero, None
    unit = "" if header_unit else st.amount_unit
    if header_unit and st.amount_unit == "header-yuan":
        yuan = round(v * 10000, 2)
        text = f"{yuan:,.2f}" if st.thousands and yuan >= 1000 else f"{yuan:.2f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return text, (float(int(yuan)) / 10000 if yuan == int(yuan) else yuan / 10000)
    if unit == "元":
        yuan = round(v * 10000, 2)
        num = f"{yuan:.2f}".rstrip("0").rstrip(".") if yuan != int(yuan) else str(int(yuan))
        text = num + "元"
        value = float(int(yuan)) / 10000 if yuan == int(yuan) else yuan / 10000
        return text, value
    num = repr(float(v)).rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    if st.thousands and abs(v) >= 1000:
        whole, _, frac = num.partition(".")
        num = f"{int(whole):,}" + ("." + frac if frac else "")
    sep = rng.choice(("", " ")) if unit else ""
    return num + sep + unit, float(v) if v != int(v) else int(v)


# ---------------------------------------------------------------- the table grids

@dataclass
class Cell:
    text: str
    rs: int = 1
    cs: int = 1
    kind: str = "label"  # label | head | num


@dataclass
class Grid:
    name: str
    ncols: int
    rows: list[list[Cell]]
    header_rows: int = 0
    col_weights: list[float] = field(default_factory=list)
    caption: str | None = None
    """A 表二 sub-table printed on its own: its section heading, printed above it."""


def _spaced(label: str, st: Style, rng: random.Random) -> str:
    if not st.spaces_in_labels or len(label) < 3 or rng.random() < 0.5:
        return label
    k = rng.randint(1, len(label) - 1)
    return label[:k] + " " + label[k:]


def _quoted(label: str, st: Style) -> str:
    return label.replace("“", st.variant_quotes[0]).replace("”", st.variant_quotes[1])


class Printer:
    """Turns true values into printed grids and records the truth of every printed cell."""

    def __init__(self, st: Style, rng: random.Random) -> None:
        self.st, self.rng = st, rng
        self.facts: list[dict] = []

    def count(self, table: str, item: str, column: str, v: int) -> Cell:
        text, value = print_count(v, self.st, self.rng)
        self.facts.append({"table": table, "item": item, "column": column, "value": value})
        return Cell(text, kind="num")

    def amount(self, table: str, item: str, column: str, v: float, header_unit: bool, cs: int = 1) -> Cell:
        text, value = print_amount(v, self.st, self.rng, header_unit)
        self.facts.append({"table": table, "item": item, "column": column, "value": value})
        return Cell(text, cs=cs, kind="num")

    def fee(self, item: str, column: str, v: float, cs: int) -> Cell:
        """2021 表二 fees: the header fixes the unit (万元), the cell is a plain number."""
        saved, self.st.amount_unit = self.st.amount_unit, "header"
        try:
            return self.amount("t2", item, column, v, True, cs)
        finally:
            self.st.amount_unit = saved

    def label(self, text: str, rs: int = 1, cs: int = 1) -> Cell:
        t = _spaced(_quoted(text, self.st), self.st, self.rng)
        return Cell(t, rs=rs, cs=cs)

    def t2(self, version: str, vals: dict) -> list[Grid]:
        grids: list[Grid] = []
        rows: list[list[Cell]] = []
        for section, heads, items in (T2_2019 if version == "2019" else T2_2021):
            block = [[Cell(section, cs=4, kind="head")]]
            hdr = [Cell("信息内容", kind="head")]
            header_unit = self.st.amount_unit in ("header", "header-yuan")
            if len(heads) == 1:
                hdr.append(Cell(heads[0], cs=3, kind="head"))
            else:
                for k, h in enumerate(heads):
                    if h == "采购总金额" and header_unit:
                        h = "采购总金额（单位：元）" if self.st.amount_unit == "header-yuan" else "采购总金额（万元）"
                    hdr.append(Cell(h, cs=2 if k == len(heads) - 1 and len(heads) == 2 else 1, kind="head"))
            block.append(hdr)
            for item, label, cols in items:
                if label == "规范性文件" and self.st.alt_labels:
                    label = "行政规范性文件"
                row = [self.label(label)]
                for k, c in enumerate(cols):
                    cs = 3 if len(cols) == 1 else 2 if (len(cols) == 2 and k == 1) else 1
                    if c == "amount":
                        row.append(self.amount("t2", item, c, vals[item][c], header_unit or version == "2021", cs)
                                   if version == "2019" else self.fee(item, c, vals[item][c], cs))
                    else:
                        cell = self.count("t2", item, c, int(vals[item][c]))
                        cell.cs = cs
                        row.append(cell)
                block.append(row)
            if self.st.t2_split:
                grids.append(Grid("t2", 4, block[1:], header_rows=1, col_weights=[2, 1, 1, 1], caption=section))
            else:
                rows.extend(block)
        if not self.st.t2_split:
            grids.append(Grid("t2", 4, rows, header_rows=0, col_weights=[2, 1, 1, 1]))
        return grids

    def t3(self, version: str, vals: dict, result_rows: tuple) -> Grid:
        lead = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
        rows = [
            [Cell(lead, rs=3, cs=3, kind="head"), Cell("申请人情况", cs=7, kind="head")],
            [Cell(T3_HEAD[0], rs=2, kind="head"), Cell("法人或其他组织", cs=5, kind="head"), Cell(T3_HEAD[6], rs=2, kind="head")],
            [Cell(h, kind="head") for h in T3_HEAD[1:6]],
        ]

        def nums(item: str) -> list[Cell]:
            return [self.count("t3", item, c, vals[item][c]) for c in T3_COLUMNS]

        rows.append([self.label("一、本年新收政府信息公开申请数量", cs=3)] + nums("new_received"))
        rows.append([self.label("二、上年结转政府信息公开申请数量", cs=3)] + nums("carried_over"))
        span = len(result_rows) + 1
        first = True
        groups = {}
        for i, (_, group, _) in enumerate(result_rows):
            if group:
                n = 1
                while i + n < len(result_rows) and result_rows[i + n][1] is None:
                    n += 1
                groups[i] = n
        for i, (item, group, sub) in enumerate(result_rows):
            row = []
            if first:
                row.append(self.label("三、本年度办理结果", rs=span))
                first = False
            if sub is None:
                row.append(self.label(group, cs=2))
            else:
                if group:
                    row.append(self.label(group, rs=groups[i]))
                s = sub
                if self.st.typo and item == "denied.law_prohibited":
                    s = "2.其他法律行政止公开"
                row.append(self.label(s))
            rows.append(row + nums(item))
        rows.append([self.label("（七）总计", cs=2)] + nums("total_processed"))
        rows.append([self.label("四、结转下年度继续办理", cs=3)] + nums("carried_forward"))
        return Grid("t3", 10, rows, header_rows=3, col_weights=[0.9, 1.1, 2.6] + [1] * 7)

    def t4(self, vals: dict) -> Grid:
        if self.st.t4_rows:
            labels = {"admin_review": "行政复议", "litigation_direct": "行政诉讼（未经复议直接起诉）",
                      "litigation_after_review": "行政诉讼（复议后起诉）"}
            rows = [[Cell("", kind="head")] + [Cell(h, kind="head") for h in T4_HEAD]]
            rows += [[self.label(labels[item])] + [self.count("t4", item, c, vals[item][c]) for c in T4_COLUMNS]
                     for item in T4_ITEMS]
            return Grid("t4", 6, rows, header_rows=1, col_weights=[3] + [1] * 5)
        rows = [
            [Cell("行政复议", cs=5, kind="head"), Cell("行政诉讼", cs=10, kind="head")],
            [Cell(h, rs=2, kind="head") for h in T4_HEAD] + [Cell("未经复议直接起诉", cs=5, kind="head"),
                                                             Cell("复议后起诉", cs=5, kind="head")],
            [Cell(h, kind="head") for h in T4_HEAD * 2],
            [self.count("t4", item, c, vals[item][c]) for item in T4_ITEMS for c in T4_COLUMNS],
        ]
        return Grid("t4", 15, rows, header_rows=3, col_weights=[1] * 15)


# ---------------------------------------------------------------- the report

@dataclass
class Spec:
    name: str
    fmt: str
    year: int
    template: str
    body: Body
    published: dt.date
    style: Style
    grids: dict[str, list[Grid]]
    facts: list[dict]
    broken: list[str]
    missing: list[tuple[str, str]]
    paragraphs: dict[str, list[str]]

    @property
    def title(self) -> str:
        return f"{self.body.name}{self.year}年政府信息公开工作年度报告"


def _style(rng: random.Random, fmt: str, template: str) -> Style:
    st = Style(fmt)
    if rng.random() < 0.45:
        st.zero = rng.choice(("", "", "—", "/", "无", "-")) if fmt != "text" else rng.choice(("—", "/", "无", "-"))
        st.blank_share = rng.choice((1.0, 0.6))
    st.fullwidth = rng.random() < 0.15
    st.thousands = rng.random() < 0.5
    st.amount_unit = rng.choice(("header", "header", "万", "万元", "元", "header-yuan"))
    st.spaces_in_labels = fmt in ("pdf", "text") and rng.random() < 0.5
    st.typo = rng.random() < 0.12
    st.br_in_labels = fmt == "html" and rng.random() < 0.4
    st.variant_quotes = rng.choice(("“”", "“”", '""', "「」", "‘’"))
    st.t2_split = fmt in ("html", "docx") and rng.random() < 0.3
    st.encoding = rng.choice(("utf-8", "gbk", "gb2312", "gb18030")) if fmt == "html" else "utf-8"
    st.declare_charset = rng.random() < 0.7
    st.container = rng.choice(("zoom", "article-content", "TRS_Editor", "news_content"))
    st.ruled = fmt != "pdf" or rng.random() < 0.8
    if not st.ruled and st.zero == "":
        st.zero = "—"  # unruled tables with empty blank cells lose their columns (known limit)
    st.split_t3 = fmt in ("pdf", "docx") and rng.random() < 0.5
    st.repeat_header = rng.random() < 0.5
    st.missing_rows = rng.choice((0, 0, 1, 2)) if fmt == "text" else 0
    st.mixed_other = template == "2021" and rng.random() < 0.15
    st.alt_labels = template == "2019" and rng.random() < 0.3
    # drawn from a generator of its own (seeded by the main one's state, which it leaves
    # alone), so documents generated before this knob existed are unchanged; seeded by the
    # state's integers only: the whole state holds None, whose hash differs per process
    # before Python 3.12 (the same --seed gave other documents on every run)
    st.t4_rows = random.Random(hash(rng.getstate()[1])).random() < 0.2
    return st


NARRATIVE = {
    "一、总体情况": [
        "{y}年，{b}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
        "围绕中心工作，持续深化政务公开，全年主动公开政府信息{n1}条，其中通过政府网站发布{n2}条。",
        "（一）主动公开。严格落实“五公开”要求，做好重点领域信息公开，及时更新政府信息公开目录。",
        "（二）依申请公开。{y}年共收到政府信息公开申请{n3}件，均在法定期限内答复。",
        "（三）政府信息管理。健全信息发布审核机制，落实“三审三校”制度，动态调整主动公开基本目录。",
        "（四）平台建设。依托政府门户网站政府信息公开专栏，做好政务新媒体管理。",
        "（五）监督保障。将政务公开工作纳入年度绩效考核，开展业务培训{n4}次。",
    ],
    "二、主动公开政府信息情况": [],
    "三、收到和处理政府信息公开申请情况": [],
    "四、政府信息公开行政复议、行政诉讼情况": [],
    "五、存在的主要问题及改进情况": [
        "{y}年政务公开工作虽取得一定成效，但仍存在公开内容不够全面、解读形式较为单一等问题。"
        "下一步，将进一步完善工作机制，加强业务培训，提升公开质量。",
    ],
    "六、其他需要报告的事项": [
        "{fee}",
    ],
}


@dataclass
class Series:
    """One year of a body's consecutive reports: `build` takes its body, year and
    publication date, and chains its values to the previous year's (`carry`: 表三
    carried_forward per applicant; `in_force`: 表二 现行有效件数 per item), so cross-year
    checks have something to compare. `carry_shift` misreports 自然人's carry-over by that
    much (the report stays internally consistent; only the cross-year check fails)."""

    body: Body
    year: int
    published: dt.date
    carry: dict[str, int] | None = None
    in_force: dict[str, int] | None = None
    carry_shift: int = 0


def chain(v2: dict, v3: dict, s: Series) -> None:
    """Values of a series year made to follow the previous year's (identities 1–3 kept)."""
    if s.carry is not None:
        for col in APPLICANTS:
            over = max(0, s.carry[col] + (s.carry_shift if col == "natural_person" else 0))
            new = v3["total_processed"][col] + v3["carried_forward"][col] - over
            if new < 0:
                v3["carried_forward"][col] -= new
                new = 0
            v3["carried_over"][col], v3["new_received"][col] = over, new
        for r in ("carried_over", "new_received", "carried_forward"):
            v3[r]["total"] = sum(v3[r][c] for c in APPLICANTS)
    for item, prev in (s.in_force or {}).items():
        v = v2.get(item, {})
        if "in_force" in v:
            v["repealed"] = min(v["repealed"], prev + v["issued"])
            v["in_force"] = prev + v["issued"] - v["repealed"]


def build(seed: int, index: int, fmt: str | None = None, broken_share: float = 0.0,
          bodies: Bodies | None = None, series: Series | None = None) -> Spec:
    rng = random.Random(f"xxgk-sample:{seed}:{index}")
    fmt = fmt or rng.choice(FORMATS)
    year = rng.randint(2019, 2025)
    body = (bodies or Bodies()).pick(rng)
    published = dt.date(year + 1, 1, 5) + dt.timedelta(days=rng.randint(0, 25) if rng.random() < 0.85 else rng.randint(27, 85))
    if series:  # (after the draws above: documents without a series are unchanged)
        body, year, published = series.body, series.year, series.published
    template = "2019" if year <= 2020 else "2021"
    st = _style(rng, fmt, template)
    printer = Printer(st, rng)

    result_rows = T3_RESULT_ROWS_2019 + (T3_OTHER_2019 if template == "2019" or st.mixed_other else T3_OTHER_2021)
    rows = ["new_received", "carried_over"] + [r[0] for r in result_rows] + ["total_processed", "carried_forward"]
    v2 = t2_values(rng, template)
    v3 = t3_values(rng, rows)
    v4 = t4_values(rng)
    if series:
        chain(v2, v3, series)

    broken: list[str] = []
    if broken_share and rng.random() < broken_share:
        kind = rng.choice(("t3_row_total", "t3_results_total", "t3_balance", "t4_row_total"))
        delta = rng.choice((1, 2, 10, -1))
        if kind == "t3_row_total":
            item = rng.choice(rows)
            v3[item]["total"] = max(0, v3[item]["total"] + delta) if v3[item]["total"] + delta >= 0 else v3[item]["total"] + 1
            broken.append(f"t3_row_total:{item}")
        elif kind == "t3_results_total":
            col = rng.choice(APPLICANTS)
            v3["total_processed"][col] += abs(delta)
            v3["total_processed"]["total"] += abs(delta)
            v3["new_received"][col] += abs(delta)
            v3["new_received"]["total"] += abs(delta)
            broken.append(f"t3_results_total:{col}")
        elif kind == "t3_balance":
            col = rng.choice(APPLICANTS)
            v3["new_received"][col] += abs(delta)
            v3["new_received"]["total"] += abs(delta)
            broken.append(f"t3_balance:{col}")
        else:
            item = rng.choice(T4_ITEMS)
            v4[item]["total"] += abs(delta)
            broken.append(f"t4_row_total:{item}")

    grids = {"t2": printer.t2(template, v2), "t3": [printer.t3(template, v3, result_rows)], "t4": [printer.t4(v4)]}

    missing: list[tuple[str, str]] = []
    if st.missing_rows and not broken:
        # a text layer drops a printed-blank cell: the row shows 6 numbers for 7 columns
        cands = [r for r in rows if sum(1 for c in APPLICANTS if v3[r][c] == 0) >= 1 and v3[r]["total"] > 0]
        printed = {(f["item"], f["column"]): f["value"] for f in printer.facts if f["table"] == "t3"}
        for item in rng.sample(cands, min(st.missing_rows, len(cands))):
            # only a gap whose neighbours print differently can be placed at all
            ok = [c for k, c in enumerate(APPLICANTS) if v3[item][c] == 0
                  and all((printed[(item, n)] or 0) != 0
                          for n in (T3_COLUMNS[k - 1] if k else None, T3_COLUMNS[k + 1]) if n)]
            ok = [c for c in ok if c not in {m[1] for m in missing}]  # two gaps in one column: unplaceable
            if not ok:
                continue
            col = rng.choice(ok)
            missing.append((item, col))
            for f in printer.facts:
                if f["table"] == "t3" and f["item"] == item and f["column"] == col:
                    f["value"] = 0
    fee = ("本年度未收取信息处理费。" if rng.random() < 0.7 else
           f"本年度发出收费通知{rng.randint(1, 3)}件，收取信息处理费{rng.randint(1, 9) * 100}元。")
    n3 = v3["new_received"]["total"]
    fill = {"y": year, "b": body.name, "n1": rng.randint(50, 8000), "n2": rng.randint(10, 5000), "n3": n3,
            "n4": rng.randint(1, 6), "fee": fee}
    paragraphs = {h: [p.format(**fill) for p in ps] for h, ps in NARRATIVE.items()}
    name = f"gen-{seed}-{index:05d}-{year}"
    return Spec(name, fmt, year, template, body, published, st, grids, printer.facts, broken, missing, paragraphs)


def truth(spec: Spec) -> dict:
    return {
        "source": "generated by data/generate.py (seed and index in the name)",
        "template": spec.template,
        "year": spec.year,
        "agency": spec.body.name,
        "published": spec.published.isoformat(),
        "region_code": spec.body.region_code,
        "level": spec.body.level,
        "body_type": spec.body.body_type,
        "status": "partial" if spec.broken else "ok",
        "broken": spec.broken,
        "style": {k: v for k, v in spec.style.__dict__.items() if k != "fmt"},
        "facts": spec.facts,
    }


# ---------------------------------------------------------------- renderers

def _grid_positions(grid: Grid) -> list[list[tuple[int, Cell]]]:
    """Each row's origin cells with their column index (rowspans occupy later rows)."""
    taken: dict[tuple[int, int], bool] = {}
    out = []
    for r, row in enumerate(grid.rows):
        c = 0
        placed = []
        for cell in row:
            while taken.get((r, c)):
                c += 1
            placed.append((c, cell))
            for dr in range(cell.rs):
                for dc in range(cell.cs):
                    taken[(r + dr, c + dc)] = True
            c += cell.cs
        out.append(placed)
    return out


def render_text(spec: Spec) -> bytes:
    """Like the seed: the text layer of a PDF, tab-separated cells, spanned cells empty."""
    lines = [spec.title, ""]
    missing = set(spec.missing)
    for heading, paras in spec.paragraphs.items():
        lines += [heading, ""]
        for p in paras:
            lines += [p, ""]
        table = {"二": "t2", "三": "t3", "四": "t4"}.get(heading[0])
        if not table:
            continue
        for grid in spec.grids[table]:
            pos = _grid_positions(grid)
            items = _row_items(grid, spec)
            for r, placed in enumerate(pos):
                cells = [""] * grid.ncols
                for c, cell in placed:
                    cells[c] = cell.text if cell.text else ""
                item = items.get(r)
                if item and any((item, col) in missing for col in T3_COLUMNS):
                    col = next(col for col in T3_COLUMNS if (item, col) in missing)
                    k = 3 + T3_COLUMNS.index(col)
                    del cells[k]
                lines.append("\t".join(cells).rstrip("\t") if grid.name != "t4" else "\t".join(cells))
            lines.append("")
    lines += [spec.body.name, "", f"{spec.published.year}年{spec.published.month}月{spec.published.day}日"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _row_items(grid: Grid, spec: Spec) -> dict[int, str]:
    if grid.name != "t3":
        return {}
    items = [f["item"] for f in spec.facts if f["table"] == "t3" and f["column"] == "natural_person"]
    return {grid.header_rows + k: item for k, item in enumerate(items)}


_CMS_HEAD = """<!DOCTYPE html>
<html><head>{charset}<title>{title}_政府信息公开年报_{site}</title>
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{pub} 09:30">
<meta name="ContentSource" content="{body}">
<style>table{{border-collapse:collapse}} td{{border:1px solid #000;padding:2px}}</style>
</head><body>
<div class="header"><div class="logo">{site}</div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/hdjl/">互动交流</a></li>
<li><a href="/bsfw/">办事服务</a></li></ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 政府信息公开年报</div>
<div class="sidebar"><h3>热点信息</h3><ul><li>2023年1-12月全市主要经济指标 12,345</li><li>关于做好2024年春节期间安全生产工作的通知</li></ul></div>
<div class="article"><h1 class="title">{title}</h1>
<div class="info">发布时间：{pub} 来源：{body} 浏览次数：{views}</div>
"""
_CMS_TAIL = """</div>
<div class="footer">主办单位：{site} 网站标识码：{code} ICP备案号：ICP备05001234号</div>
</body></html>
"""


def _html_table(grid: Grid, st: Style, rng: random.Random) -> str:
    out = ['<table border="1" cellspacing="0" cellpadding="0" width="600">']
    for row in grid.rows:
        out.append("<tr>")
        for cell in row:
            attrs = (f' rowspan="{cell.rs}"' if cell.rs > 1 else "") + (f' colspan="{cell.cs}"' if cell.cs > 1 else "")
            text = htmlmod.escape(cell.text) if cell.text else "&nbsp;"
            if st.br_in_labels and cell.kind != "num" and len(cell.text) > 6 and rng.random() < 0.3:
                k = len(cell.text) // 2
                text = htmlmod.escape(cell.text[:k]) + "<br>" + htmlmod.escape(cell.text[k:])
            if cell.kind == "num":
                text = f'<p style="text-align:center"><span style="font-family:宋体">{text}</span></p>'
            out.append(f'<td valign="middle"{attrs}>{text}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "\n".join(out)


def render_html(spec: Spec) -> bytes:
    st = spec.style
    rng = random.Random(spec.name + ":html")
    site = "中国" + (spec.body.name[:3]) + "门户网站"
    enc = {"utf-8": "utf-8", "gbk": "gbk", "gb2312": "gb2312", "gb18030": "gb18030"}[st.encoding]
    charset = f'<meta http-equiv="Content-Type" content="text/html; charset={enc}">' if st.declare_charset else ""
    head = _CMS_HEAD.format(charset=charset, title=htmlmod.escape(spec.title), site=site, pub=spec.published.isoformat(),
                            body=htmlmod.escape(spec.body.name), views=rng.randint(10, 9999))
    container = ({"zoom": '<div id="zoom">', "article-content": '<div class="article-content">',
                  "TRS_Editor": '<div class="TRS_Editor">', "news_content": '<div class="news_content" id="UCAP-CONTENT">'}
                 [st.container])
    body = [container]
    for heading, paras in spec.paragraphs.items():
        body.append(f'<p style="text-indent:2em"><strong>{heading}</strong></p>')
        for p in paras:
            body.append(f'<p style="text-indent:2em">{htmlmod.escape(p)}</p>')
        table = {"二": "t2", "三": "t3", "四": "t4"}.get(heading[0])
        if table:
            for grid in spec.grids[table]:
                cap = grid.caption
                if cap:
                    body.append(f"<p>{cap}</p>")
                body.append(_html_table(grid, st, rng))
    body.append(f'<p style="text-align:right">{htmlmod.escape(spec.body.name)}</p>')
    body.append(f'<p style="text-align:right">{spec.published.year}年{spec.published.month}月{spec.published.day}日</p>')
    body.append("</div>")
    page = head + "\n".join(body) + _CMS_TAIL.format(site=site, code=rng.randint(1000000000, 9999999999))
    return page.encode("gb18030" if enc != "utf-8" else "utf-8")


def render_docx(spec: Spec) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    st = spec.style
    rng = random.Random(spec.name + ":docx")
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(10.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    t = doc.add_paragraph()
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    t.add_run(spec.title).bold = True

    def add_grid(grid: Grid, rows: list[int]) -> None:
        sub = Grid(grid.name, grid.ncols, [grid.rows[i] for i in rows])
        pos = _grid_positions(sub)
        table = doc.add_table(rows=len(rows), cols=grid.ncols)
        table.style = "Table Grid"
        grid_cells = table._cells  # the plain grid, fetched once (table.cell() is O(n) per call)
        for r, placed in enumerate(pos):
            for c, cell in placed:
                target = grid_cells[r * grid.ncols + c]
                if cell.rs > 1 or cell.cs > 1:
                    r2 = min(r + cell.rs - 1, len(rows) - 1)
                    target = target.merge(grid_cells[r2 * grid.ncols + c + cell.cs - 1])
                para = target.paragraphs[0]
                if cell.kind == "num" and len(cell.text) > 1 and rng.random() < 0.3:
                    for ch in cell.text:  # numbers in runs with odd spacing
                        para.add_run(ch)
                elif cell.kind == "num" and cell.text and rng.random() < 0.2:
                    para.add_run(" " + cell.text + " ")
                else:
                    para.add_run(cell.text)

    for heading, paras in spec.paragraphs.items():
        doc.add_paragraph().add_run(heading).bold = True
        for p in paras:
            doc.add_paragraph(p)
        table = {"二": "t2", "三": "t3", "四": "t4"}.get(heading[0])
        if not table:
            continue
        for grid in spec.grids[table]:
            cap = grid.caption
            if cap:
                doc.add_paragraph(cap)
            n = len(grid.rows)
            if grid.name == "t3" and st.split_t3:
                cut = rng.randint(8, n - 4)
                add_grid(_unspan(grid, cut), list(range(cut)))
                doc.add_paragraph("")
                second = _unspan(grid, cut)
                head = list(range(grid.header_rows)) if st.repeat_header else []
                add_grid(second, head + list(range(cut, n)))
            else:
                add_grid(grid, list(range(n)))
    for line in (spec.body.name, f"{spec.published.year}年{spec.published.month}月{spec.published.day}日"):
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.core_properties.title = spec.title
    doc.core_properties.created = dt.datetime(spec.published.year, spec.published.month, spec.published.day)
    doc.core_properties.modified = doc.core_properties.created
    buf = io.BytesIO()
    doc.save(buf)
    return _deterministic_zip(buf.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """python-docx stamps the current time into the zip entries; rewrite them fixed."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _unspan(grid: Grid, cut: int) -> Grid:
    """A copy of `grid` whose rowspans stop at row `cut` and restart there (split tables)."""
    pos = _grid_positions(grid)
    rows = [list(r) for r in grid.rows]
    new_rows = [[] for _ in rows]
    for r, placed in enumerate(pos):
        for c, cell in placed:
            if r < cut < r + cell.rs:
                new_rows[r].append((c, Cell(cell.text, cut - r, cell.cs, cell.kind)))
                new_rows[cut].append((c, Cell(cell.text if cell.kind != "label" else "", r + cell.rs - cut, cell.cs, cell.kind)))
            else:
                new_rows[r].append((c, cell))
    out = [[cell for _, cell in sorted(row, key=lambda x: x[0])] for row in new_rows]
    return Grid(grid.name, grid.ncols, out, grid.header_rows, grid.col_weights)


def render_pdf(spec: Spec) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    try:
        pdfmetrics.getFont("STSong-Light")
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    st = spec.style
    rng = random.Random(spec.name + ":pdf")
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(spec.title)
    c.setAuthor(spec.body.name)
    W, H = A4
    left, right, top, bottom = 56, W - 56, H - 60, 60
    y = top
    font = "STSong-Light"

    def width(text: str, size: float) -> float:
        return pdfmetrics.stringWidth(text, font, size)

    def wrap(text: str, w: float, size: float) -> list[str]:
        lines, cur = [], ""
        for ch in text:
            if cur and width(cur + ch, size) > w:
                lines.append(cur)
                cur = ""
            cur += ch
        return lines + ([cur] if cur or not lines else [])

    def new_page() -> None:
        nonlocal y
        c.showPage()
        y = top

    def para(text: str, size: float = 10.5, center: bool = False, right_align: bool = False) -> None:
        nonlocal y
        for line in wrap(text, right - left - (0 if center or right_align else 21), size):
            if y - size * 1.6 < bottom:
                new_page()
            y -= size * 1.6
            c.setFont(font, size)
            if center:
                c.drawCentredString(W / 2, y, line)
            elif right_align:
                c.drawRightString(right, y, line)
            else:
                c.drawString(left + 21, y, line)

    def table(grid: Grid) -> None:
        nonlocal y
        size = 7.5 if grid.ncols >= 10 else 9
        total_w = right - left
        weights = grid.col_weights or [1] * grid.ncols
        xs = [left]
        for wgt in weights:
            xs.append(xs[-1] + total_w * wgt / sum(weights))
        pos = _grid_positions(grid)
        # row heights from the cells that span one row
        heights = []
        for r, placed in enumerate(pos):
            h = size * 1.9
            for col, cell in placed:
                if cell.rs == 1:
                    n = len(wrap(cell.text or " ", xs[col + cell.cs] - xs[col] - 4, size))
                    h = max(h, n * size * 1.3 + size * 0.8)
            heights.append(h)
        spans = [(r, col, cell) for r, placed in enumerate(pos) for col, cell in placed]
        # grow the last row of a span so that its wrapped text fits
        for r, col, cell in spans:
            if cell.rs > 1:
                need = len(wrap(cell.text or " ", xs[col + cell.cs] - xs[col] - 4, size)) * size * 1.3 + size
                have = sum(heights[r:r + cell.rs])
                if need > have:
                    heights[r + cell.rs - 1] += need - have
        if st.split_t3 and grid.name == "t3":
            # leave only part of the page so that 表三 breaks across pages
            k = rng.randint(6, len(grid.rows) - 4)
            want = sum(heights[:k]) + 2
            if y - want > bottom:
                y = bottom + want
        # page the rows
        r = 0
        n = len(grid.rows)
        first_page = True
        while r < n:
            rows_here = []
            avail = y - bottom
            if not first_page and st.repeat_header and grid.header_rows:
                rows_here = list(range(grid.header_rows))
                avail -= sum(heights[:grid.header_rows])
            start = r
            while r < n and (heights[r] <= avail or r == start and not rows_here and y == top):
                avail -= heights[r]
                rows_here.append(r)
                r += 1
            if r == start:
                new_page()
                first_page = False
                continue
            draw_rows(grid, pos, heights, xs, rows_here, size)
            if r < n:
                new_page()
                first_page = False
        y -= 8

    def draw_rows(grid, pos, heights, xs, rows_here, size) -> None:
        nonlocal y
        ypos = {}
        cur = y
        for r in rows_here:
            ypos[r] = cur
            cur -= heights[r]
        visible = set(rows_here)
        for r0, placed in enumerate(pos):
            for col, cell in placed:
                span = [r for r in range(r0, r0 + cell.rs) if r in visible]
                if not span:
                    continue
                y_top = ypos[span[0]]
                y_bot = ypos[span[-1]] - heights[span[-1]]
                x0, x1 = xs[col], xs[col + cell.cs]
                if st.ruled:
                    c.setLineWidth(0.5)
                    c.rect(x0, y_bot, x1 - x0, y_top - y_bot)
                if r0 not in visible and cell.kind != "label":
                    continue
                if r0 not in visible:
                    continue  # the label of a span that started on the previous page
                lines = wrap(cell.text, x1 - x0 - 4, size) if cell.text else []
                block = len(lines) * size * 1.3
                ty = (y_top + y_bot) / 2 + block / 2 - size * 1.05
                c.setFont(font, size)
                for line in lines:
                    if cell.kind == "num" or cell.kind == "head":
                        c.drawCentredString((x0 + x1) / 2, ty, line)
                    else:
                        c.drawString(x0 + 2, ty, line)
                    ty -= size * 1.3
        y = cur

    para(spec.title, 16, center=True)
    y -= 10
    for heading, paras in spec.paragraphs.items():
        para(heading, 12)
        for p in paras:
            para(p)
        tname = {"二": "t2", "三": "t3", "四": "t4"}.get(heading[0])
        if tname:
            for grid in spec.grids[tname]:
                cap = grid.caption
                if cap:
                    para(cap)
                if y - 60 < bottom:
                    new_page()
                table(grid)
    y -= 20
    para(spec.body.name, right_align=True)
    para(f"{spec.published.year}年{spec.published.month}月{spec.published.day}日", right_align=True)
    c.save()
    return buf.getvalue()


RENDERERS = {"text": (render_text, ".txt"), "html": (render_html, ".html"), "docx": (render_docx, ".docx"),
             "pdf": (render_pdf, ".pdf")}


def soffice() -> str | None:
    """LibreOffice's command, if installed (its PDFs are closer to what sites publish)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def render_pdf_libreoffice(spec: Spec) -> bytes:
    """The DOCX rendering converted by LibreOffice (rows may split across pages)."""
    exe = soffice()
    if exe is None:
        raise SystemExit("--pdf-engine libreoffice needs LibreOffice (soffice) on the PATH")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / (spec.name + ".docx")
        src.write_bytes(render_docx(spec))
        subprocess.run([exe, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to", "pdf",
                        "--outdir", tmp, str(src)], check=True, capture_output=True, timeout=180)
        return (Path(tmp) / (spec.name + ".pdf")).read_bytes()


def chromium() -> str | None:
    """Headless Chromium's command, if installed (Debian/Ubuntu: chromium; elsewhere
    chromium-browser or Google Chrome)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if exe := shutil.which(name):
            return exe
    return None


_PRINT_CSS = ('<meta charset="utf-8"><style media="print">@page{size:A4;margin:15mm 12mm}'
              'body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;font-size:10.5pt}'
              'table{width:100%;max-width:100%}tr{break-inside:avoid}</style>')


def render_pdf_chromium(spec: Spec) -> bytes:
    """The HTML rendering (the whole page: site header, menu, article, footer) printed to
    PDF by headless Chromium, as a reader prints a page from the browser. Chromium's text
    layer spells some ideographs as radicals (⼯ for 工, ⺠ for 民); the truth is the HTML's."""
    exe = chromium()
    if exe is None:
        raise SystemExit("--pdf-engine chromium needs Chromium (chromium or google-chrome) on the PATH")
    page = render_html(spec).decode("utf-8").replace("<html><head>", "<html><head>" + _PRINT_CSS, 1)
    with tempfile.TemporaryDirectory() as tmp:
        src, pdf = Path(tmp) / (spec.name + ".html"), Path(tmp) / (spec.name + ".pdf")
        src.write_text(page, encoding="utf-8")
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp}/profile",
                        f"--print-to-pdf={pdf}", src.as_uri()],
                       check=True, capture_output=True, timeout=120)
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise SystemExit(f"Chromium wrote no PDF for {spec.name}")
        return _pin_dates(pdf.read_bytes(), spec.published)


def _pin_dates(data: bytes, day: dt.date) -> bytes:
    """Chromium's PDFs differ only by their /CreationDate and /ModDate: both become the
    publication day (a string of the same length, so the xref offsets stay right), and the
    bytes are the same on every run with the same Chromium and fonts."""
    stamp = day.strftime("D:%Y%m%d093000+08'00'").encode()
    return re.sub(rb"\((D:\d{14}[+-]\d\d'\d\d')\)",
                  lambda m: b"(" + (stamp if len(m.group(1)) == len(stamp) else m.group(1)) + b")", data)


PDF_ENGINES = {"libreoffice": render_pdf_libreoffice, "chromium": render_pdf_chromium}
"""--pdf-engine besides reportlab (RENDERERS' render_pdf)."""


def check_pdf_engine(engine: str) -> None:
    """Refuse an unknown engine, or one whose program is missing, before any document (and
    before `--jobs` workers, whose SystemExit would only break the pool)."""
    if engine != "reportlab" and engine not in PDF_ENGINES:
        raise SystemExit(f"unknown --pdf-engine {engine}; choose from reportlab, {', '.join(PDF_ENGINES)}")
    if engine == "libreoffice" and soffice() is None:
        raise SystemExit("--pdf-engine libreoffice needs LibreOffice (soffice) on the PATH")
    if engine == "chromium" and chromium() is None:
        raise SystemExit("--pdf-engine chromium needs Chromium (chromium or google-chrome) on the PATH")


def check_asked(formats: tuple[str, ...], pdf_engine: str = "reportlab", scan: bool = False) -> None:
    """Refuse options that would do nothing with these formats (silently: a corpus without
    what was asked for), an unknown format, and an unknown or missing PDF engine."""
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise SystemExit(f"unknown format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}"
                         if unknown else f"no format given; choose from {', '.join(FORMATS)}")
    if pdf_engine != "reportlab" and pdf_engine not in PDF_ENGINES:
        check_pdf_engine(pdf_engine)
    if pdf_engine != "reportlab" and "pdf" not in formats:
        raise SystemExit(f"--pdf-engine {pdf_engine} renders PDFs, but --formats {','.join(formats)} has no pdf: "
                         "add pdf to --formats (or leave --pdf-engine out)")
    if scan and not {"pdf", "html"} & set(formats):
        raise SystemExit(f"--scan turns PDFs into scans and HTML tables into pictures, but --formats "
                         f"{','.join(formats)} has neither pdf nor html: add one (or leave --scan out)")
    if "pdf" in formats:
        check_pdf_engine(pdf_engine)


# --- scans: image-only PDFs and pictures of pages ------------------------------------------

SCAN_DPI = 150


def degrade(gray, rng: random.Random):
    """A page image as a scanner or a phone leaves it: turned by up to 0.6 degrees, a little
    blur, sensor noise (grayscale numpy uint8 in, out)."""
    import cv2
    import numpy as np

    h, w = gray.shape
    angle = rng.uniform(-0.6, 0.6)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    gray = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    if rng.random() < 0.5:
        gray = cv2.GaussianBlur(gray, (3, 3), rng.uniform(0.4, 0.8))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 9), gray.shape)
    return np.clip(gray.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def page_images(pdf: bytes, dpi: int = SCAN_DPI) -> list:
    """Every page of a PDF rendered to a grayscale image (pypdfium2), with its size in points."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    out = []
    for page in doc:
        gray = page.render(scale=dpi / 72, grayscale=True).to_numpy()
        out.append((gray if gray.ndim == 2 else gray[:, :, 0], page.get_size()))
        page.close()
    doc.close()
    return out


def jpeg(gray, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def image_pdf(pages: list[tuple[bytes, tuple[float, float]]]) -> bytes:
    """An image-only PDF: one JPEG filling each page (no text layer)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    for data, (w, h) in pages:
        page = doc.new_page(w, h)
        img = pdfium.PdfImage.new(doc)
        img.load_jpeg(io.BytesIO(data), inline=False)
        img.set_matrix(pdfium.PdfMatrix().scale(w, h))
        page.insert_obj(img)
        page.gen_content()
        page.close()
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def scan_pdf(pdf: bytes, rng: random.Random | None = None, dpi: int = SCAN_DPI) -> bytes:
    """`pdf` as a scan: its pages rendered, degraded when `rng` is given, JPEG, re-wrapped."""
    pages = []
    for gray, size in page_images(pdf, dpi):
        if rng is not None:
            gray = degrade(gray, rng)
        pages.append((jpeg(gray, rng.randint(60, 85) if rng is not None else 90), size))
    return image_pdf(pages)


def table_crop(gray, margin: int = 24):
    """The ruled table of a rendered page (grayscale), cut out with a white margin: between
    its outermost horizontal rulings as long as its longest (unbroken runs at least a third
    of the page wide) and its outermost vertical ones; None when the page holds no ruled
    table."""
    import cv2
    import numpy as np

    h, w = gray.shape
    ink = (gray < 128).astype(np.uint8)
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (w // 3, 1)))
    widths = lines.sum(axis=1)
    rows = np.nonzero(widths >= 0.9 * widths.max())[0] if widths.max() else []  # not a heading's strokes
    if len(rows) < 2:
        return None
    y0, y1 = rows[0], rows[-1]
    tall = max(8, (y1 - y0) // 2)
    vert = cv2.morphologyEx(ink[y0:y1 + 1], cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, tall)))
    cols = np.nonzero(vert.any(axis=0))[0]
    if len(cols) < 2:
        return None
    x0, x1 = cols[0], cols[-1]
    out = np.full((y1 - y0 + 1 + 2 * margin, x1 - x0 + 1 + 2 * margin), 255, dtype=gray.dtype)
    out[margin:-margin, margin:-margin] = gray[y0:y1 + 1, x0:x1 + 1]  # only the table: no heading cut in half
    return out


def table_pictures(spec: Spec, rng: random.Random, tables=("t2", "t3", "t4")) -> list[tuple[str, list[bytes]]]:
    """Each table of `spec` (in the order `render_html` prints them) with its pictures (none
    for a table not in `tables`): the grid printed alone (ruled, as a screenshot of a
    spreadsheet), rendered, cut to its rulings, degraded like a scan, JPEG or PNG; a grid
    too long for one page is two pictures."""
    from dataclasses import replace

    st = replace(spec.style, ruled=True, split_t3=False, spaces_in_labels=False)
    out = []
    for heading in spec.paragraphs:
        table = {"二": "t2", "三": "t3", "四": "t4"}.get(heading[0])
        for grid in spec.grids.get(table, []) if table else []:
            one = replace(spec, style=st, grids={table: [replace(grid, caption=None)]}, paragraphs={heading: []})
            pics = []
            for gray, _ in page_images(render_pdf(one)) if table in tables else []:
                crop = table_crop(gray)
                if crop is None:
                    continue
                crop = degrade(crop, rng)
                if rng.random() < 0.6:
                    pics.append(jpeg(crop, rng.randint(65, 90)))
                else:
                    import cv2

                    pics.append(cv2.imencode(".png", crop)[1].tobytes())
            out.append((table, pics))
    return out


def picture_page(spec: Spec, out: Path, tables=("t2", "t3", "t4"), where: str | None = None) -> bytes:
    """`spec`'s HTML page with its `tables` replaced by their pictures (`table_pictures`):
    in some pages files beside it (`<name>_files/…`, relative `src`), in others `data:`
    URIs (base64), in some both (`where`: files, inline, both; drawn when None). The page's
    bytes; the sibling files are written."""
    import base64
    import re

    rng = random.Random(f"pictures-{spec.name}")
    page = render_html(spec)
    enc = "utf-8" if spec.style.encoding == "utf-8" else "gb18030"
    html = page.decode(enc)
    pictures = iter(table_pictures(spec, rng, tables))
    where = where or rng.choice(("files", "inline", "both"))
    folder = f"{spec.name}_files"

    def img(pic: bytes, k: int) -> str:
        ext = "png" if pic.startswith(b"\x89PNG") else "jpg"
        if where == "files" or (where == "both" and k % 2 == 0):
            (out / folder).mkdir(exist_ok=True)
            (out / folder / f"image{k:03d}.{ext}").write_bytes(pic)
            src = f"{folder}/image{k:03d}.{ext}"
        else:
            src = f"data:image/{'png' if ext == 'png' else 'jpeg'};base64," + base64.b64encode(pic).decode("ascii")
        return f'<p style="text-align:center"><img src="{src}" alt="" style="max-width:100%"></p>'

    count = iter(range(1, 1000))

    def swap(m) -> str:
        _, pics = next(pictures)
        return "\n".join(img(pic, next(count)) for pic in pics) if pics else m.group(0)

    html = re.sub(r"<table\b.*?</table>", swap, html, flags=re.S)
    return html.encode(enc)


def write(spec: Spec, out: Path, pdf_engine: str = "reportlab", scan: bool = False) -> Path:
    """Render `spec` and its truth file; with `scan`, a PDF becomes an image-only scan of
    itself (pages rendered, turned, blurred, noisy, JPEG: `scan_pdf`), same truth."""
    render, ext = RENDERERS[spec.fmt]
    if spec.fmt == "pdf" and pdf_engine in PDF_ENGINES:
        render = PDF_ENGINES[pdf_engine]
    path = out / (spec.name + ext)
    data = render(spec)
    info = truth(spec)
    if scan and spec.fmt == "pdf":
        data = scan_pdf(data, random.Random(f"scan-{spec.name}"))
        info["style"]["scan"] = True
    elif scan and spec.fmt == "html":
        data = picture_page(spec, out)
        info["style"]["pictures"] = True
    path.write_bytes(data)
    (out / (spec.name + ".truth.json")).write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n",
                                                  encoding="utf-8")
    return path


def generate(out: Path, count: int, seed: int = 7, broken_share: float = 0.0,
             formats: tuple[str, ...] = FORMATS, start: int = 0, progress=None,
             pdf_engine: str = "reportlab", jobs: int = 1, scan: bool = False) -> list[Path]:
    """Write documents `start … start+count-1` of `seed` to `out`, formats in rotation."""
    check_asked(formats, pdf_engine, scan)
    out.mkdir(parents=True, exist_ok=True)
    if jobs > 1 and count > 1:
        # documents depend only on (seed, index): chunks of indices in worker processes
        from concurrent.futures import ProcessPoolExecutor, as_completed

        size = max(1, min(200, count // (jobs * 4) or 1))
        chunks = [(i, min(size, start + count - i)) for i in range(start, start + count, size)]
        paths = []
        import multiprocessing

        # fork: the CLI loads this file by path, which a spawned worker could not import
        ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {pool.submit(generate, out, n, seed, broken_share, formats, i, None, pdf_engine, 1, scan): n
                       for i, n in chunks}
            for fut in as_completed(futures):
                paths += fut.result()
                if progress:
                    progress(futures[fut])
        return sorted(paths)
    bodies = Bodies()
    paths = []
    for i in range(start, start + count):
        fmt = formats[i % len(formats)]
        paths.append(write(build(seed, i, fmt, broken_share, bodies), out, pdf_engine, scan))
        if progress:
            progress(1)
    return paths


def _carry(spec: Spec) -> tuple[dict[str, int], dict[str, int]]:
    """A spec's 表三 carried_forward per applicant and 表二 in_force per item (as printed)."""
    facts = spec.facts
    carry = {f["column"]: int(f["value"] or 0) for f in facts if f["table"] == "t3" and f["item"] == "carried_forward"}
    in_force = {f["item"]: int(f["value"] or 0) for f in facts if f["table"] == "t2" and f["column"] == "in_force"}
    return carry, in_force


SERIES_PLAN = (
    # (documents' first index, years, formats, publication (month, day) per year, carry shift per year)
    (200, (2021, 2022, 2023), ("html", "docx", "pdf"), ((1, 20), (1, 18), (4, 15)), (0, 0, 0)),
    (210, (2019, 2020, 2021), ("text", "html", "docx"), ((1, 22), (1, 25), (1, 28)), (0, 0, 3)),
)
"""The demo's bodies with consecutive years: the first publishes its 2023 report late; the
second misreports its 2021 carry-over (a failed cross-year check) and re-publishes its
2020 report with other numbers (a duplicate whose values differ: `_CORRECTION`)."""
_CORRECTION = (220, 210, 2020, "pdf", (3, 10))  # (index, series, year, format, publication)


def build_series(seed: int, bodies: Bodies | None = None) -> list[Spec]:
    """The specs of SERIES_PLAN (and the re-published correction) for `seed`."""
    bodies = bodies or Bodies()
    specs: list[Spec] = []
    for first, years, fmts, dates, shifts in SERIES_PLAN:
        body = bodies.pick(random.Random(f"xxgk-series:{seed}:{first}"))
        carry = in_force = None
        for k, year in enumerate(years):
            s = Series(body, year, dt.date(year + 1, *dates[k]), carry, in_force, shifts[k])
            spec = build(seed, first + k, fmts[k], 0.0, bodies, s)
            specs.append(spec)
            idx, of, cyear, cfmt, cdate = _CORRECTION
            if of == first and cyear == year:
                s.published = dt.date(year + 1, *cdate)
                spec = build(seed, idx, cfmt, 0.0, bodies, s)  # the later copy is canonical: chain from it
                specs.append(spec)
            carry, in_force = _carry(spec)
    return specs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--broken", type=float, default=0.0, help="share of documents with a broken identity")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--pdf-engine", choices=("reportlab", "libreoffice", "chromium"), default="reportlab")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (documents are independent)")
    ap.add_argument("--series", action="store_true",
                    help="write the demo's bodies with consecutive years (SERIES_PLAN) instead")
    ap.add_argument("--scan", action="store_true", help="PDFs as scans (image-only, turned, blurred, noisy, JPEG); "
                    "HTML pages with their tables as such pictures")
    args = ap.parse_args(argv)
    if args.series:
        args.out.mkdir(parents=True, exist_ok=True)
        paths = [write(spec, args.out, args.pdf_engine) for spec in build_series(args.seed)]
        print(f"wrote {len(paths)} documents to {args.out}", file=sys.stderr)
        return 0
    paths = generate(args.out, args.count, args.seed, args.broken, tuple(args.formats.split(",")), args.start,
                     pdf_engine=args.pdf_engine, jobs=args.jobs, scan=args.scan)
    print(f"wrote {len(paths)} documents to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
