"""Load stage: ExtractionResults → Parquet partitions + DuckDB views. Knows nothing of
PDFs or HTML."""

from .duckdb import connect_readonly, refresh_views
from .errors import LoadError, SchemaMismatch, WarehouseBusy
from .warehouse import DEFAULT_WAREHOUSE, load_results, write_lock, write_result

__all__ = ["DEFAULT_WAREHOUSE", "LoadError", "SchemaMismatch", "WarehouseBusy", "connect_readonly",
           "load_results", "refresh_views", "write_lock", "write_result"]
