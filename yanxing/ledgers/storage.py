"""The rows of an uploaded file, kept encrypted in the database while a batch needs them."""

from __future__ import annotations

import json

from .models import ImportBatch, ImportPayload
from .reading import Table, TableRow


def save_rows(batch: ImportBatch, table: Table) -> None:
    content = {
        "headers": table.headers,
        "rows": [[row.line, row.values, sorted(row.numeric)] for row in table.rows],
    }
    ImportPayload.objects.update_or_create(
        batch=batch, defaults={"content": json.dumps(content, ensure_ascii=False)}
    )


def load_rows(batch: ImportBatch) -> Table | None:
    """The stored rows (headers, rows), or None once they have been dropped."""
    payload = ImportPayload.objects.filter(batch=batch).first()
    if payload is None or not payload.content:
        return None
    content = json.loads(payload.content)
    source = batch.source or {}
    return Table(
        headers=content["headers"],
        header_line=int(source.get("header_line", 1)),
        rows=[
            TableRow(line=line, values=values, numeric=frozenset(numeric))
            for line, values, numeric in content["rows"]
        ],
        format=source.get("format", ""),
        sheet=source.get("sheet", ""),
        encoding=source.get("encoding", ""),
    )


def keep_only(batch: ImportBatch, table: Table, lines: set[int]) -> None:
    """Keep the rows of these lines (the failed ones, for the error workbook); drop the rest."""
    if not lines:
        drop_rows(batch)
        return
    kept = Table(
        headers=table.headers,
        header_line=table.header_line,
        rows=[row for row in table.rows if row.line in lines],
        format=table.format,
    )
    save_rows(batch, kept)


def drop_rows(batch: ImportBatch) -> None:
    ImportPayload.objects.filter(batch=batch).delete()
