"""Load stage: ExtractionResults → Parquet partitions + DuckDB views. Knows nothing of
PDFs or HTML."""

from .duckdb import connect_readonly, refresh_views
from .errors import LoadError, SchemaMismatch, WarehouseBusy
from .layout import raw_root
from .warehouse import (DEFAULT_WAREHOUSE, compact_warehouse, load_results, vacuum, write_batch, write_lock,
                        write_run_summary)

__all__ = ["DEFAULT_WAREHOUSE", "LoadError", "SchemaMismatch", "WarehouseBusy", "connect_readonly",
           "compact_warehouse", "load_results", "raw_root", "refresh_views", "vacuum", "write_batch", "write_lock",
           "write_run_summary"]
