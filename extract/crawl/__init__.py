"""Crawling government sites for annual reports: the source registry, polite HTTP, the
content-addressed raw store, and the crawl of one source. Knows nothing of Parquet."""

from .crawler import CrawlItem, CrawlReport, attachment_links, crawl_source, report_links
from .fetch import Fetcher, FetchResult
from .registry import RegistryError, Source, load_sources
from .store import RawStore

__all__ = ["CrawlItem", "CrawlReport", "FetchResult", "Fetcher", "RawStore", "RegistryError", "Source",
           "attachment_links", "crawl_source", "load_sources", "report_links"]
