"""`xxgk report -o DIR`: a static HTML report of the warehouse in Chinese that works
offline. Charts are Plotly: its Python package ships plotly.min.js, written once beside the
pages and loaded by a relative path (no CDN, no network reference in any page). Pages:
index.html (coverage, applications over the years, outcome mix, disclosure rate by level,
remedy correction rates, late reports, the bodies whose identities fail most), one page
per province, and one per body (its years side by side and its tables as printed)."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .show import PrintedTable, printed_report

PLOTLY_JS = "plotly.min.js"
PROVINCE = r"regexp_extract(region_name, '^(.+?(省|自治区|市))', 1)"
OUTCOMES = (("granted", "予以公开"), ("partially_granted", "部分公开"), ("denied", "不予公开"),
            ("unable", "无法提供"), ("not_processed", "不予处理"), ("other", "其他处理"))
LEVELS = ("省级", "市级", "县级", "乡镇")
CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1,h2{font-weight:600}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:2px 8px}
th{background:#f0f0f0}td.n{text-align:right}td.bad{background:#ffc7ce}nav a{margin-right:1em}.chart{min-height:380px}"""


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    title: str
    body: str


def _q(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def body_page(body_id: str) -> str:
    return f"body-{hashlib.sha1(body_id.encode()).hexdigest()[:12]}.html"


def province_page(code: str) -> str:
    return f"province-{code}.html"


def _esc(v, pct: bool = False) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.1%}" if pct else f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"
    return html.escape(str(v))


def table_html(header: list[str], rows: list[tuple], links: dict[int, list[str]] | None = None) -> str:
    """An HTML table; `links[i]` makes column i of each row a link to that row's page;
    columns whose header names a rate (率) print as percentages."""
    pct = {i for i, h in enumerate(header) if h.endswith("率")}
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for r, row in enumerate(rows):
        cells = []
        for i, v in enumerate(row):
            text = _esc(v, i in pct)
            if links and i in links:
                text = f'<a href="{links[i][r]}">{text}</a>'
            cells.append(f'<td class="n">{text}</td>' if isinstance(v, (int, float)) else f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>"


def printed_html(table: PrintedTable) -> str:
    """One table as printed; cells a failed identity names are shaded red."""
    from .excel import printed_value

    out = [f"<h3>{html.escape(table.title)}</h3><table><tr>"
           + "".join(f"<th>{html.escape(h)}</th>" for h in table.header) + "</tr>"]
    for row in table.rows:
        if row.heading:
            out.append(f'<tr><th colspan="{len(table.header)}" style="text-align:left">{html.escape(row.label)}</th></tr>')
            continue
        tds = "".join(f'<td class="n{" bad" if c.failed else ""}">{_esc(printed_value(c))}</td>' for c in row.cells)
        out.append(f"<tr><td>{html.escape(row.label)}</td>{tds}</tr>")
    return "".join(out) + "</table>"


def _chart(fig, div_id: str) -> str:
    fig.update_layout(margin={"l": 50, "r": 20, "t": 50, "b": 40}, font={"family": "Noto Sans CJK SC, sans-serif"})
    return ('<div class="chart">' + fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                                                 config={"displaylogo": False, "responsive": True}) + "</div>")


def _coverage(con) -> str:
    import plotly.graph_objects as go

    status = _q(con, "SELECT status, count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC")
    fig = go.Figure(go.Bar(x=[s for s, _ in status], y=[n for _, n in status]))
    fig.update_layout(title="文档处理状态（documents by status）")
    prov = _q(con, f"SELECT left(region_code, 2) AS code, any_value({PROVINCE}) AS name, year, count(*) FROM reports "
                   "WHERE canonical AND region_code IS NOT NULL GROUP BY code, year ORDER BY code, year")
    years = sorted({y for *_, y, _ in prov})
    names = {c: n for c, n, _, _ in prov}
    counts = {(c, y): k for c, _, y, k in prov}
    rows = [(names[c] or c, *[counts.get((c, y), 0) for y in years], sum(counts.get((c, y), 0) for y in years))
            for c in sorted(names)]
    links = {0: [province_page(c) for c in sorted(names)]}
    return ("<h2>一、覆盖情况</h2>" + _chart(fig, "coverage") + "<h3>各省份各年度报告数（canonical reports）</h3>"
            + table_html(["省份", *map(str, years), "合计"], rows, links))


def _applications(con) -> str:
    import plotly.graph_objects as go

    rows = _q(con, "SELECT year, sum(applications_received), count(*) FROM report_metrics WHERE year IS NOT NULL "
                   "GROUP BY 1 ORDER BY 1")
    fig = go.Figure(go.Bar(x=[str(y) for y, _, _ in rows], y=[v or 0 for _, v, _ in rows],
                           text=[f"{n}份报告" for *_, n in rows]))
    fig.update_layout(title="本年新收政府信息公开申请数量（各年合计）", xaxis_title="年度", yaxis_title="件")
    cols = ", ".join(f"sum({c})" for c, _ in OUTCOMES)
    mix = _q(con, f"SELECT year, {cols} FROM t3_wide WHERE applicant <> 'total' AND year IS NOT NULL GROUP BY 1 ORDER BY 1")
    fig2 = go.Figure([go.Bar(name=label, x=[str(r[0]) for r in mix], y=[(r[i + 1] or 0) for r in mix])
                      for i, (_, label) in enumerate(OUTCOMES)])
    fig2.update_layout(barmode="stack", barnorm="percent", title="办理结果构成（占本年度办理结果总计的百分比）",
                       yaxis_title="%")
    return "<h2>二、依申请公开</h2>" + _chart(fig, "applications") + _chart(fig2, "outcomes")


def _rates(con) -> str:
    import plotly.graph_objects as go

    rows = _q(con, "SELECT level, disclosure_rate FROM report_metrics WHERE disclosure_rate IS NOT NULL AND level IS NOT NULL")
    fig = go.Figure([go.Box(name=lv, y=[r for lvl, r in rows if lvl == lv], boxpoints="all") for lv in LEVELS
                     if any(lvl == lv for lvl, _ in rows)])
    fig.update_layout(title="公开率（予以公开+部分公开）/办理结果总计，按层级", yaxis_tickformat=".0%", showlegend=False)
    rem = _q(con, """SELECT year,
        sum(value) FILTER (WHERE item = 'admin_review' AND "column" = 'corrected')
          / nullif(sum(value) FILTER (WHERE item = 'admin_review' AND "column" IN ('upheld', 'corrected', 'other')), 0),
        sum(value) FILTER (WHERE item LIKE 'litigation_%' AND "column" = 'corrected')
          / nullif(sum(value) FILTER (WHERE item LIKE 'litigation_%' AND "column" IN ('upheld', 'corrected', 'other')), 0)
        FROM facts SEMI JOIN reports USING (report_id) WHERE "table" = 't4' AND year IS NOT NULL
          AND report_id IN (SELECT report_id FROM reports WHERE canonical) GROUP BY 1 ORDER BY 1""")
    fig2 = go.Figure([go.Bar(name="行政复议纠错率", x=[str(r[0]) for r in rem], y=[r[1] for r in rem]),
                      go.Bar(name="行政诉讼纠错率", x=[str(r[0]) for r in rem], y=[r[2] for r in rem])])
    fig2.update_layout(title="复议、诉讼纠错率 = 结果纠正 /（维持+纠正+其他结果）", yaxis_tickformat=".0%")
    return "<h2>三、公开率与纠错率</h2>" + _chart(fig, "rates") + _chart(fig2, "remedies")


def _quality(con) -> str:
    late = _q(con, "SELECT agency, region_name, year, published, deadline, days_late, body_id FROM late_reports "
                   "ORDER BY days_late DESC")
    failing = _q(con, "SELECT agency, region_name, count(DISTINCT year) AS years, count(*) AS n, body_id FROM failed_checks "
                      "GROUP BY agency, region_name, body_id ORDER BY n DESC, agency LIMIT 20")
    cross = _q(con, "SELECT agency, year, rule, scope, lhs, rhs, difference, body_id FROM cross_year_checks WHERE NOT passed "
                    "ORDER BY agency, year")
    return ("<h2>四、报告质量</h2><h3>逾期发布的报告（条例第四十九、五十条）</h3>"
            + table_html(["机关", "行政区划", "年度", "发布日期", "截止日期", "逾期天数"], [r[:6] for r in late],
                         {0: [body_page(r[6]) for r in late]})
            + "<h3>勾稽关系不成立最多的机关</h3>"
            + table_html(["机关", "行政区划", "涉及年度数", "不成立的勾稽关系数"], [r[:4] for r in failing],
                         {0: [body_page(r[4]) for r in failing]})
            + "<h3>跨年度核对不一致（上年结转 ≠ 上年结转下年度）</h3>"
            + table_html(["机关", "年度", "规则", "范围", "本年", "上年推算", "差额"], [r[:7] for r in cross],
                         {0: [body_page(r[7]) for r in cross]}))


def _page(title: str, body: str, js: bool = True) -> str:
    script = f'<script src="{PLOTLY_JS}"></script>' if js else ""
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<style>{CSS}</style>{script}</head><body><nav><a href="index.html">总览</a></nav>'
            f"<h1>{html.escape(title)}</h1>{body}</body></html>")


def index_page(con) -> Page:
    body = _coverage(con) + _applications(con) + _rates(con) + _quality(con)
    bodies = _q(con, "SELECT body_id, names[1], region, level, years_reported FROM bodies WHERE reports > 0 ORDER BY body_id")
    body += ("<h2>五、各机关</h2>" + table_html(["机关", "行政区划", "层级", "报告年度"],
                                             [(b[1], b[2], b[3], ", ".join(map(str, b[4]))) for b in bodies],
                                             {0: [body_page(b[0]) for b in bodies]}))
    return Page("index.html", "政府信息公开工作年度报告 统计", body)


def province_pages(con) -> list[Page]:
    pages = []
    for code, name in _q(con, f"SELECT left(region_code, 2), any_value({PROVINCE}) FROM reports WHERE canonical "
                              "AND region_code IS NOT NULL GROUP BY 1 ORDER BY 1"):
        rows = _q(con, "SELECT agency, region_name, level, year, applications_received, disclosure_rate, status, body_id "
                       "FROM report_metrics WHERE starts_with(region_code, ?) ORDER BY agency, year", [code])
        body = table_html(["机关", "行政区划", "层级", "年度", "本年新收申请", "公开率", "状态"], [r[:7] for r in rows],
                          {0: [body_page(r[7]) for r in rows]})
        pages.append(Page(province_page(code), f"{name or code} 各机关报告", body))
    return pages


def body_pages(con) -> list[Page]:
    """One page per body: its canonical years side by side, then each year's tables as printed."""
    pages = []
    for (body_id,) in _q(con, "SELECT body_id FROM bodies WHERE reports > 0 ORDER BY body_id"):
        reps = _q(con, "SELECT report_id, agency, region_name, year, status, applications_received, total_processed, "
                       "disclosure_rate, denial_rate, review_correction_rate FROM report_metrics WHERE body_id = ? "
                       "ORDER BY year", [body_id])
        head = ["年度", "状态", "本年新收申请", "办理结果总计", "公开率", "不予公开率", "复议纠错率"]
        body = f"<p>{html.escape(reps[0][2] or '')}　body_id {html.escape(body_id)}</p>"
        body += table_html(head, [(r[3], r[4], *r[5:]) for r in reps])
        for r in reps:
            rep = printed_report(con, r[0])
            body += f"<h2>{r[3]}年（{html.escape(rep.status)}，report_id {rep.report_id}）</h2>"
            body += "".join(printed_html(t) for t in rep.tables)
        pages.append(Page(body_page(body_id), f"{reps[0][1]}", body))
    return pages


def write_report(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Every page and plotly.min.js into `out_dir`; returns the pages written."""
    from plotly.offline import get_plotlyjs

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / PLOTLY_JS).write_text(get_plotlyjs(), encoding="utf-8")
    written = []
    for page in [index_page(con), *province_pages(con), *body_pages(con)]:
        path = out_dir / page.path
        path.write_text(_page(page.title, page.body, js=page.path == "index.html"), encoding="utf-8")
        written.append(path)
    return written
