"""Which files a run ingests (no Prefect here, so the CLI can use it cheaply)."""

from __future__ import annotations

from pathlib import Path

SKIP_SUFFIXES = (".truth.json", ".md", ".tmp", ".parquet", ".duckdb", ".toml", ".py")


def discover_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories (recursively, sorted); skip hidden files, truth files and notes."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts) \
                        and not f.name.endswith(SKIP_SUFFIXES):
                    out.append(f)
        else:
            out.append(p)
    seen = set()
    uniq = []
    for f in out:
        key = f.resolve() if f.exists() else f
        if key not in seen:
            seen.add(key)
            uniq.append(f)
    return uniq
