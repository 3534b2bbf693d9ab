"""Load stage: ExtractionResults → Parquet partitions + DuckDB views. Knows nothing of
PDFs or HTML."""

from .duckdb import connect_readonly, read_only_sql, refresh_views
from .errors import LoadError, NotReadOnly, SchemaMismatch, WarehouseBusy
from .layout import raw_root
from .parquet import clean_temporaries
from .layout import new_batch_id
from .warehouse import (DEFAULT_WAREHOUSE, commit, compact_warehouse, load_results, vacuum, write_lock,
                        write_part, write_run_summary)

__all__ = ["DEFAULT_WAREHOUSE", "LoadError", "NotReadOnly", "read_only_sql", "SchemaMismatch", "WarehouseBusy", "connect_readonly",
           "clean_temporaries", "commit", "compact_warehouse", "load_results", "new_batch_id", "raw_root", "refresh_views", "vacuum", "write_lock",
           "write_part", "write_run_summary"]
