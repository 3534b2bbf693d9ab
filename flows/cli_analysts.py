"""The analysts' commands of the `xxgk` CLI: `dictionary`, `show`, `report` (registered
on `flows.cli.app`; kept apart so cli.py stays the pipeline's commands)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .cli import app


@app.command()
def dictionary(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/data-dictionary.md (Markdown) instead of TSV.")] = False,
) -> None:
    """Print the data dictionary: every table/item/column code with its 中文 label as printed
    in the national form, template versions, unit and meaning (the `dictionary` view)."""
    from load.labels import dictionary_entries, dictionary_markdown

    if markdown:
        sys.stdout.write(dictionary_markdown())
        return
    sys.stdout.write("table\tkind\tcode\tlabel\tversions\tunit\tmeaning\n")
    for e in dictionary_entries():
        sys.stdout.write(f"{e.table}\t{e.kind}\t{e.code}\t{e.label}\t{','.join(e.versions)}\t{e.unit or ''}\t{e.meaning}\n")
