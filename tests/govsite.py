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

BODY = gen.Body("淮安市洪泽区人民政府", "320813", "县级", "government")


def _report(index: int, fmt: str, year: int):
    bodies = gen.Bodies()
    i = index
    while True:
        spec = gen.build(seed=77, index=i, fmt=fmt, bodies=bodies)
        if (spec.template == "2019") == (year <= 2020) and not spec.missing:
            break
        i += 1
    spec.year, spec.body = year, BODY
    spec.published = spec.published.replace(year=year + 1)
    render = {"html": gen.render_html, "pdf": gen.render_pdf, "docx": gen.render_docx, "text": gen.render_text}[fmt]
    return render(spec), spec


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

    def sources_toml(self) -> str:
        return SOURCES_TOML.format(base=self.base)

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
