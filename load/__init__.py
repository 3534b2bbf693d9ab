"""Load stage: ExtractionResults → Parquet partitions + DuckDB views. Knows nothing of
PDFs or HTML (imports nothing from extract: see common/)."""

from .duckdb import connect_readonly, read_only_sql, refresh_views
from .errors import LoadError, NotReadOnly, SchemaMismatch, WarehouseBusy
from .layout import new_batch_id, raw_root
from .parquet import clean_temporaries
from .warehouse import (
    DEFAULT_WAREHOUSE,
    Part,
    commit,
    compact_warehouse,
    is_committed,
    load_results,
    vacuum,
    write_lock,
    write_part,
    write_run_summary,
)

__all__ = ["DEFAULT_WAREHOUSE", "LoadError", "NotReadOnly", "Part", "SchemaMismatch", "WarehouseBusy",
           "clean_temporaries", "commit", "compact_warehouse", "connect_readonly", "is_committed", "load_results", "new_batch_id",
           "raw_root", "read_only_sql", "refresh_views", "vacuum", "write_lock", "write_part", "write_run_summary"]
