"""The error workbook: an export of what the user uploaded, so it is access-logged."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.audit.services import record_access
from yanxing.core.exceptions import OutOfScope
from yanxing.core.masking import mask_id_number, mask_phone

from .. import storage
from ..kinds import ColumnType, get_kind
from ..messages import RowIssue
from ..models import ImportBatch
from ..workbooks import error_workbook as build_error_workbook


@transaction.atomic
def error_workbook(*, actor: Any, batch: ImportBatch, ip: str | None = None) -> bytes:
    """The failed rows of a batch as an .xlsx file. ID and phone cells are plain for the
    person who uploaded the file and for those who may see the organization's sensitive data,
    masked for everyone else; every download is in the access log."""
    visible = ImportBatch.objects.visible_to(actor, Action.LEDGERS_IMPORT)
    batch = visible.select_related("organization").filter(pk=batch.pk).first()  # type: ignore[assignment]
    if batch is None:
        raise OutOfScope()
    issues: dict[int, list[RowIssue]] = {}
    for data in batch.row_errors:
        issue = RowIssue.from_json(data)
        issues.setdefault(issue.line, []).append(issue)
    failed = {line for line, found in issues.items() if any(not i.warning for i in found)}
    table = storage.load_rows(batch)
    rows = [row for row in table.rows if row.line in failed] if table else []
    if table is None or not rows:
        raise OutOfScope()
    ledger = get_kind(batch.kind)
    headers = ledger.match_headers(table.headers)
    kinds = {headers.index[c.key]: c.value_type for c in ledger.columns if c.key in headers.index}
    text_positions = {p for p, t in kinds.items() if t in (ColumnType.ID, ColumnType.PHONE)}
    plain = actor.pk == batch.created_by_id or can(
        actor, Action.MEMBERS_VIEW_SENSITIVE, batch.organization.path
    )

    def mask(position: int, text: str) -> str:
        if kinds.get(position) == ColumnType.ID:
            return mask_id_number(text)
        if kinds.get(position) == ColumnType.PHONE:
            return mask_phone(text)
        return text

    content = build_error_workbook(
        kind=ledger,
        headers=table.headers,
        rows=rows,
        issues=issues,
        text_positions=text_positions,
        mask=None if plain else mask,
    )
    record_access(
        actor=actor,
        action="export",
        fields=["id_number", "phone"] if plain else ["masked"],
        target=batch,
        organization=batch.organization,
        row_count=len(rows),
        reason="import errors, plain" if plain else "import errors, masked",
        ip=ip,
    )
    return content
