"""A small government-style web site on a real local HTTP server, for the crawler tests.

    /robots.txt              forbids /private/
    /nb/index.html           list page 1 (UTF-8): 2023, 2022, slow, moved links, next page
    /nb/index_1.html         list page 2 (GBK, declared): 2021, 2020, private, other-domain, huge
    /nb/2023.html            an HTML report (UTF-8)
    /nb/2022.html            a page linking its report as a PDF attachment
    /nb/2021.html            a GBK page linking its report as a DOCX attachment
    /nb/2020.html            an HTML report that answers 500 twice, then works
    /nb/slow.html            a page that takes 0.6 s (2019 report, text)
    /nb/moved.html           a redirect to another domain (localhost instead of 127.0.0.1)
    /private/2018.html       forbidden by robots.txt
    /files/huge.pdf          80 MB declared: over the size cap

A second section (source `testsite2`, in the registry only with `sources_toml(second=True)`),
one city government's column with what makes "one report per body and year" hard:

    /xxgk/nb/index.html      its list page (a link titled just 政府信息公开年报 to /xxgk/nb/)
    /xxgk/nb/                the list again, under the navigation link's URL
    /xxgk/nb/2023.html       the 2023 report (HTML)
    /xxgk/nb/2023gz.html     its corrected re-upload: published later, one value changed
    /xxgk/nb/2022.html       the 2022 report with its tables, linking the same report as a PDF
    /xxgk/files/2022.pdf     … that PDF
    /xxgk/nb/hb2021.html     a roundup page: the 2021 reports of two departments on one page
    /xxgk/nb/2020.html       a page linking its report as a PDF attachment …
    /xxgk/files/2020.pdf     … that is corrupt (a truncated file)
    /xxgk/nb/2019.html       a dead link (404)
    /xxgk/nb/2018.html       a 2018 report: the pre-2019 statistics form, not the national tables

Every response carries an ETag and honours If-None-Match (304), as CMS sites do.
`requests` logs (method, path, status) of every request served.
"""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from test_sample_corpus import gen

SOURCES_TOML = """
[[sources]]
slug = "testsite"
body = "测试区人民政府"
list_url = "{base}/nb/index.html"
page_url = "{base}/nb/index_{{n}}.html"
page_start = 1
max_pages = 4
allowed_domains = ["127.0.0.1"]
rate = 50.0
max_bytes = 5000000
timeout = 5.0
"""

SECOND_TOML = """
[[sources]]
slug = "testsite2"
body = "淮安市人民政府"
list_url = "{base}/xxgk/nb/index.html"
allowed_domains = ["127.0.0.1"]
rate = 50.0
max_bytes = 5000000
timeout = 5.0
"""

BODY = gen.Body("淮安市洪泽区人民政府", "320813", "县级", "government")
CITY = gen.Body("淮安市人民政府", "320800", "市级", "government")
DEPARTMENTS = (gen.Body("淮安市教育局", "320800", "市级", "department"),
               gen.Body("淮安市财政局", "320800", "市级", "department"))
RENDER = {"html": gen.render_html, "pdf": gen.render_pdf, "docx": gen.render_docx, "text": gen.render_text}


def _spec(index: int, fmt: str, year: int, body: gen.Body = BODY):
    bodies = gen.Bodies()
    i = index
    while True:
        spec = gen.build(seed=77, index=i, fmt=fmt, bodies=bodies)
        if (spec.template == "2019") == (year <= 2020) and not spec.missing:
            break
        i += 1
    # the narrative names the generated year and body: name these instead
    was = ((str(spec.year), str(year)), (spec.body.name, body.name))
    spec.paragraphs = {h: [_sub(p, was) for p in ps] for h, ps in spec.paragraphs.items()}
    spec.year, spec.body = year, body
    spec.published = spec.published.replace(year=year + 1)
    return spec


def _sub(text: str, pairs) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def _html_utf8(spec) -> bytes:
    spec.style.encoding = "utf-8"
    return gen.render_html(spec)


def _report(index: int, fmt: str, year: int):
    spec = _spec(index, fmt, year)
    return RENDER[fmt](spec), spec


def _correct(spec, days_later: int = 40):
    """The same report corrected: published later, its 行政处罚 decisions one higher (a value
    no identity ties to another, so the corrected report is as consistent as the first)."""
    import copy
    import datetime as dt

    fixed = copy.deepcopy(spec)
    fixed.published = spec.published + dt.timedelta(days=days_later)
    for grid in fixed.grids["t2"]:
        for row in grid.rows:
            if row[0].text == "行政处罚":
                old = next(f for f in fixed.facts if f["table"] == "t2" and f["item"] == "admin_penalty")
                old["value"] = (old["value"] or 0) + 1
                row[1].text = str(old["value"])
    return fixed


def _article(page: bytes, encoding: str) -> str:
    """The report part of a rendered CMS page (title, date line and body)."""
    html = page.decode(encoding)
    return html[html.index('<div class="article">'):html.index('<div class="footer">')]


LEGACY_2018 = """<html><head><meta charset="utf-8"><title>{body}2018年政府信息公开工作年度报告</title></head>
<body><div class="article"><h1>{body}2018年政府信息公开工作年度报告</h1>
<div class="info">发布时间：2019-03-20</div><div id="zoom">
<p>本报告根据《中华人民共和国政府信息公开条例》要求编制，所列数据统计期限自2018年1月1日起至2018年12月31日止。</p>
<p>一、概述</p><p>2018年，{body}认真贯彻落实政府信息公开工作要求，主动公开政府信息3215条。</p>
<p>二、政府信息公开情况统计表</p>
<table border="1">
<tr><td>统计指标</td><td>单位</td><td>统计数</td></tr>
<tr><td>一、主动公开情况</td><td>——</td><td>——</td></tr>
<tr><td>（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）</td><td>条</td><td>3215</td></tr>
<tr><td>其中：主动公开规范性文件数</td><td>条</td><td>26</td></tr>
<tr><td>制发规范性文件总数</td><td>件</td><td>31</td></tr>
<tr><td>（二）通过不同渠道和方式公开政府信息的情况</td><td>——</td><td>——</td></tr>
<tr><td>1．政府公报公开政府信息数</td><td>条</td><td>112</td></tr>
<tr><td>2．政府网站公开政府信息数</td><td>条</td><td>2987</td></tr>
<tr><td>3．政务微博公开政府信息数</td><td>条</td><td>864</td></tr>
<tr><td>二、回应解读情况</td><td>——</td><td>——</td></tr>
<tr><td>（一）回应公众关注热点或重大舆情数</td><td>次</td><td>18</td></tr>
<tr><td>三、依申请公开情况</td><td>——</td><td>——</td></tr>
<tr><td>（一）收到申请数</td><td>件</td><td>147</td></tr>
<tr><td>1．当面申请数</td><td>件</td><td>35</td></tr>
<tr><td>2．传真申请数</td><td>件</td><td>0</td></tr>
<tr><td>3．网络申请数</td><td>件</td><td>98</td></tr>
<tr><td>4．信函申请数</td><td>件</td><td>14</td></tr>
<tr><td>（二）申请办结数</td><td>件</td><td>147</td></tr>
<tr><td>1．按时办结数</td><td>件</td><td>145</td></tr>
<tr><td>2．延期办结数</td><td>件</td><td>2</td></tr>
<tr><td>（三）申请答复数</td><td>件</td><td>147</td></tr>
<tr><td>1．属于已主动公开范围数</td><td>件</td><td>41</td></tr>
<tr><td>2．同意公开答复数</td><td>件</td><td>52</td></tr>
<tr><td>3．同意部分公开答复数</td><td>件</td><td>9</td></tr>
<tr><td>4．不同意公开答复数</td><td>件</td><td>11</td></tr>
<tr><td>5．不属于本行政机关公开数</td><td>件</td><td>17</td></tr>
<tr><td>6．申请信息不存在数</td><td>件</td><td>13</td></tr>
<tr><td>7．告知作出更改补充数</td><td>件</td><td>3</td></tr>
<tr><td>8．告知通过其他途径办理数</td><td>件</td><td>1</td></tr>
<tr><td>四、行政复议数量</td><td>件</td><td>4</td></tr>
<tr><td>（一）维持具体行政行为数</td><td>件</td><td>3</td></tr>
<tr><td>（二）被依法纠错数</td><td>件</td><td>1</td></tr>
<tr><td>（三）其他情形数</td><td>件</td><td>0</td></tr>
<tr><td>五、行政诉讼数量</td><td>件</td><td>2</td></tr>
<tr><td>（一）维持具体行政行为或者驳回原告诉讼请求数</td><td>件</td><td>2</td></tr>
<tr><td>（二）被依法纠错数</td><td>件</td><td>0</td></tr>
<tr><td>（三）其他情形数</td><td>件</td><td>0</td></tr>
<tr><td>六、举报投诉数量</td><td>件</td><td>0</td></tr>
<tr><td>七、依申请公开信息收取的费用</td><td>万元</td><td>0</td></tr>
</table>
<p>三、存在的主要问题及改进情况</p><p>下一步将进一步加强政府信息公开工作。</p>
<p style="text-align:right">{body}</p><p style="text-align:right">2019年3月20日</p>
</div></div></body></html>
"""


def _page(title: str, links: list[tuple[str, str]], encoding: str = "utf-8", body: str = "") -> bytes:
    items = "\n".join(f'<li><a href="{href}" title="{text}">{text}</a><span>2024-01-20</span></li>'
                      for href, text in links)
    html = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={encoding}">'
            f"<title>{title}</title></head><body><div class='nav'><a href='/'>首页</a></div>"
            f"<ul class='list'>{items}</ul>{body}</body></html>")
    return html.encode("gb18030" if encoding != "utf-8" else "utf-8")


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.fail_first: dict[str, int] = {}
        self.delay: dict[str, float] = {}
        self.truth: dict[str, object] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._build()

    def start(self) -> "Site":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sources_toml(self, second: bool = False) -> str:
        """The registry: the first section; with `second`, the second section's source too."""
        return SOURCES_TOML.format(base=self.base) + (SECOND_TOML.format(base=self.base) if second else "")

    def set(self, path: str, body: bytes, ctype: str = "text/html", status: int = 200, headers=None) -> None:
        self.routes[path] = (status, {"Content-Type": ctype, **(headers or {})}, body)

    def _build(self) -> None:
        name = BODY.name
        self.set("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
        self.set("/nb/index.html", _page("政府信息公开年报", [
            ("/nb/2023.html", f"{name}2023年政府信息公开工作年度报告"),
            ("2022.html", f"{name}2022年政府信息公开工作年度报告"),
            ("/nb/slow.html", f"{name}2019年政府信息公开工作年度报告"),
            ("/nb/moved.html", f"{name}2017年政府信息公开工作年度报告"),
            ("/news/1.html", "关于召开全区安全生产会议的通知"),
            ("/nb/index_1.html", "下一页"),
        ]))
        self.set("/nb/index_1.html", _page("政府信息公开年报", [
            ("/nb/2021.html", f"{name}2021年政府信息公开工作年度报告"),
            ("/nb/2020.html", f"{name}2020年政府信息公开工作年度报告"),
            ("/private/2018.html", f"{name}2018年政府信息公开工作年度报告"),
            (f"http://localhost:{self.port}/nb/2016.html", f"{name}2016年政府信息公开工作年度报告"),
            ("/nb/huge.html", f"{name}2015年政府信息公开工作年度报告"),
        ], encoding="gbk"), "text/html; charset=gbk")
        self.set("/nb/index_2.html", b"not found", "text/plain", status=404)
        for path, index, fmt, year in (("/nb/2023.html", 1, "html", 2023), ("/files/2022.pdf", 2, "pdf", 2022),
                                       ("/files/2021.docx", 3, "docx", 2021), ("/nb/2020.html", 4, "html", 2020),
                                       ("/nb/slow.html", 5, "text", 2019)):
            data, spec = _report(index, fmt, year)
            ctype = {"html": "text/html", "pdf": "application/pdf", "text": "text/plain",
                     "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[fmt]
            self.set(path, data, ctype)
            self.truth[path] = spec
        self.set("/nb/2022.html", _page("2022年报", [
            ("/files/2022.pdf", "附件：2022年年度报告.pdf"),
            # hostile attachment links: another host, and a path that climbs out of the site
            (f"http://localhost:{self.port}/files/elsewhere.pdf", "附件：2022年年度报告（镜像）.pdf"),
            ("../../../../etc/passwd.pdf", "附件：../../etc/passwd.pdf"),
        ]))
        self.set("/files/elsewhere.pdf", b"%PDF-1.4 not to be fetched", "application/pdf")
        self.set("/nb/2021.html", _page("2021年报", [("../files/2021.docx", "附件：2021年年度报告.docx")], "gbk"),
                 "text/html; charset=gbk")
        self.fail_first["/nb/2020.html"] = 2
        self.delay["/nb/slow.html"] = 0.6
        self.set("/nb/moved.html", b"", status=302, headers={"Location": f"http://localhost:{self.port}/nb/2017.html"})
        self.set("/private/2018.html", b"<html>private</html>")
        self.set("/nb/huge.html", _page("2015年报", [("/files/huge.pdf", "附件：2015年年度报告.pdf")]))
        self.routes["/files/huge.pdf"] = (200, {"Content-Type": "application/pdf"}, b"HUGE")
        self._build_second()

    def _build_second(self) -> None:
        """The second section (see the module's docstring); `truth` holds each report's Spec."""
        name = CITY.name
        listing = _page("政府信息公开年报", [
            ("/xxgk/nb/", "政府信息公开年报"),  # the column's own navigation link
            ("/xxgk/nb/2023gz.html", f"{name}2023年政府信息公开工作年度报告（更正）"),
            ("/xxgk/nb/2023.html", f"{name}2023年政府信息公开工作年度报告"),
            ("/xxgk/nb/2022.html", f"{name}2022年政府信息公开工作年度报告"),
            ("/xxgk/nb/hb2021.html", "2021年度市直部门政府信息公开工作年度报告汇编"),
            ("/xxgk/nb/2020.html", f"{name}2020年政府信息公开工作年度报告"),
            ("/xxgk/nb/2019.html", f"{name}2019年政府信息公开工作年度报告"),
            ("/xxgk/nb/2018.html", f"{name}2018年政府信息公开工作年度报告"),
        ])
        self.set("/xxgk/nb/index.html", listing)
        self.set("/xxgk/nb/", listing)
        first = _spec(11, "html", 2023, CITY)
        fixed = _correct(first)
        self.set("/xxgk/nb/2023.html", _html_utf8(first))
        self.set("/xxgk/nb/2023gz.html", _html_utf8(fixed))
        self.truth["/xxgk/nb/2023.html"], self.truth["/xxgk/nb/2023gz.html"] = first, fixed
        both = _spec(12, "html", 2022, CITY)
        page = _html_utf8(both).replace(b"</body>", '<p>附件：<a href="/xxgk/files/2022.pdf">2022年年度报告.pdf</a></p>'
                                  "</body>".encode())
        self.set("/xxgk/nb/2022.html", page)
        self.set("/xxgk/files/2022.pdf", gen.render_pdf(both), "application/pdf")
        self.truth["/xxgk/nb/2022.html"] = self.truth["/xxgk/files/2022.pdf"] = both
        depts = [_spec(13 + k, "html", 2021, body) for k, body in enumerate(DEPARTMENTS)]
        roundup = "".join(_article(_html_utf8(d), "utf-8") for d in depts)
        self.set("/xxgk/nb/hb2021.html", ('<html><head><meta charset="utf-8"><title>2021年度市直部门政府信息公开工作'
                                          f"年度报告汇编</title></head><body>{roundup}</body></html>").encode())
        self.truth["/xxgk/nb/hb2021.html"] = depts
        self.set("/xxgk/nb/2020.html", _page("2020年报", [("/xxgk/files/2020.pdf", "附件：2020年年度报告.pdf")]))
        broken = gen.render_pdf(_spec(15, "pdf", 2020, CITY))
        self.set("/xxgk/files/2020.pdf", broken[: len(broken) // 3], "application/pdf")  # cut short
        self.set("/xxgk/nb/2018.html", LEGACY_2018.format(body=name).encode())

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path in site.delay:
                    time.sleep(site.delay[path])
                if site.fail_first.get(path, 0) > 0:
                    site.fail_first[path] -= 1
                    return self._send(path, 500, {"Content-Type": "text/plain"}, b"busy")
                if path not in site.routes:
                    return self._send(path, 404, {"Content-Type": "text/plain"}, b"not found")
                status, headers, body = site.routes[path]
                if path == "/files/huge.pdf":
                    return self._huge(path)
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    return self._send(path, 304, {"ETag": etag}, b"")
                self._send(path, status, {**headers, "ETag": etag} if status == 200 else headers, body)

            def _huge(self, path: str) -> None:
                site.requests.append(("GET", path, 200))
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(80 * 2**20))
                self.end_headers()
                try:
                    for _ in range(80):
                        self.wfile.write(b"%" * 2**20)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, path: str, status: int, headers: dict, body: bytes) -> None:
                site.requests.append(("GET", path, status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler
