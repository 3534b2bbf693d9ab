"""find_bodies: which parts of a CMS page are read (a roundup page holds several reports)."""

import lxml.html

from extract.html import find_bodies

TABLE = "<table><tr><td>主动公开政府信息情况</td><td>1</td></tr></table>"


def _ids(html: str) -> list[str]:
    return [el.get("id") or el.get("class") for el in find_bodies(lxml.html.document_fromstring(html))]


def test_one_report_container_is_read_without_the_page_chrome():
    page = f'<html><body><div class="nav"><table><tr><td>首页</td></tr></table></div><div id="zoom">{TABLE}</div></body></html>'
    assert _ids(page) == ["zoom"]


def test_a_roundup_with_two_report_containers_of_different_cms_classes_reads_both_in_page_order():
    # the second report sits in .article-content, the first in an unknown class inside .article
    page = (f'<html><body><div class="article"><div class="news_content">{TABLE}</div></div>'
            f'<div class="article"><div class="article-content">{TABLE}</div></div></body></html>')
    assert _ids(page) == ["article", "article-content"]


def test_two_containers_of_one_selector_are_both_read():
    page = f'<html><body><div id="zoom">{TABLE}</div><p>二</p><div id="zoom">{TABLE}</div></body></html>'
    assert _ids(page) == ["zoom", "zoom"]


def test_a_container_nested_in_another_is_read_once():
    page = f'<html><body><div class="content"><div id="zoom">{TABLE}</div></div></body></html>'
    assert _ids(page) == ["zoom"]


def test_a_page_without_a_cms_container_reads_its_body():
    assert [el.tag for el in find_bodies(lxml.html.document_fromstring(f"<html><body>{TABLE}</body></html>"))] == ["body"]
