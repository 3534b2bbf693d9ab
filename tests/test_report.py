"""`xxgk report -o DIR`: a static HTML report in Chinese that works offline."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from flows.cli import app
from test_labels import build_warehouse

NETWORK = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?https?:""", re.I)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    wh = build_warehouse(tmp)
    r = CliRunner().invoke(app, ["report", "-o", str(tmp / "out"), "-w", str(wh)])
    assert r.exit_code == 0, r.output
    return tmp / "out"


def test_report_writes_index_province_and_body_pages_and_the_chart_library(report):
    names = {p.name for p in report.iterdir()}
    assert {"index.html", "plotly.min.js", "province-32.html", "province-64.html"} <= names
    assert len([n for n in names if n.startswith("body-")]) == 2
    assert (report / "plotly.min.js").stat().st_size > 1_000_000


def test_report_pages_reference_nothing_on_the_network(report):
    for page in report.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not NETWORK.search(text), page.name
        assert re.findall(r'<script src="([^"]+)"', text) in ([], ["plotly.min.js"]), page.name


def test_index_has_the_charts_and_tables_in_chinese(report):
    text = (report / "index.html").read_text(encoding="utf-8")
    for heading in ("一、覆盖情况", "本年新收政府信息公开申请数量", "办理结果构成", "予以公开", "部分公开", "不予公开",
                    "无法提供", "不予处理", "公开率", "复议、诉讼纠错率", "逾期发布的报告", "勾稽关系不成立最多的机关", "各机关"):
        assert heading in text, heading
    assert text.count("Plotly.newPlot") == 5
    assert "洪泽区财政局" in text and "中卫市机关事务服务中心" in text


def test_body_page_shows_its_years_side_by_side_and_its_tables_as_printed(report):
    page = next(p for p in report.glob("body-*.html") if "洪泽区财政局" in p.read_text(encoding="utf-8"))
    text = page.read_text(encoding="utf-8")
    assert "2022年" in text and "2023年" in text
    assert text.count("三、收到和处理政府信息公开申请情况") == 2 and "一、本年新收政府信息公开申请数量" in text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (the distribution's `chromium` package)")
def test_index_renders_in_a_headless_browser_without_console_errors(report, tmp_path):
    shot = tmp_path / "index.png"
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                        "--window-size=1200,1600", "--virtual-time-budget=5000", f"--screenshot={shot}",
                        (report / "index.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 30_000, r.stderr[-2000:]
    assert not [line for line in r.stderr.splitlines() if ":CONSOLE" in line], r.stderr[-2000:]
    from PIL import Image

    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # drawn charts, not a blank page
