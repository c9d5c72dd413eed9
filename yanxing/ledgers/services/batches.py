"""The life of an import batch: upload, check (background job), confirm, import (background
job, one transaction), cancel.

A batch moves pending (rows being checked) → validated (preview) → running → done, or ends
as cancelled or failed. The import step runs in one transaction: if anything goes wrong, no
row of the file is written and the batch says why it failed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.audit.services import record_event
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.orgs.models import Organization

from .. import storage
from ..cleaning import CleanContext, CleanRow, clean_row
from ..importers import Importer, Plan, importer_for
from ..kinds import MEMBERS, LedgerKind, get_kind
from ..models import ImportBatch
from ..progress import ProgressReporter
from ..reading import ReadError, Table, normalize_header, read_table
from ..workbooks import ERROR_COLUMN

logger = logging.getLogger("yanxing.ledgers")
Status = ImportBatch.Status

ROWS_GONE = "上传的数据已不存在。 / The uploaded rows are gone."
NOT_RUNNING = "批次已不在导入中。 / The batch is no longer running."


class ImportAborted(Exception):
    """The import cannot go on; the message ("中文 / English") becomes the failure reason."""


def _require_import(actor: Any, org: Organization, kind: LedgerKind) -> None:
    if not can(actor, Action.LEDGERS_IMPORT, org.path):
        raise OutOfScope()
    if kind is MEMBERS and not can(actor, Action.MEMBERS_CHANGE, org.path):
        raise OutOfScope()
    if not org.is_active:
        raise BusinessRuleError(gettext("该党组织已撤销。"))
    if kind is MEMBERS and not org.holds_membership:
        raise BusinessRuleError(
            gettext("%(kind)s不能接收组织关系，请选择党支部、党总支或党委。")
            % {"kind": org.get_kind_display()}
        )


def _kind(code: str) -> LedgerKind:
    try:
        return get_kind(code)
    except KeyError as exc:
        raise BusinessRuleError(gettext("未知的台账类型。")) from exc


# --------------------------------------------------------------------------------------------
# Upload
# --------------------------------------------------------------------------------------------


def upload_batch(
    *,
    actor: Any,
    organization: Organization,
    kind: str,
    file_name: str,
    data: bytes,
    full_list: bool = True,
) -> ImportBatch:
    """Read the file, keep its rows encrypted and queue their check. Problems with the file as
    a whole (format, size, headers) raise ValidationError({"file": …}) and store nothing."""
    ledger = _kind(kind)
    _require_import(actor, organization, ledger)
    try:
        table = read_table(data, file_name, is_header=ledger.is_header)
    except ReadError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    headers = ledger.match_headers(table.headers)
    if headers.missing:
        raise ValidationError(
            {
                "file": gettext("缺少必填的列：%(columns)s。请使用下载的模板，保留第一行的列名。")
                % {"columns": "、".join(c.header for c in headers.missing)}
            }
        )
    if headers.duplicated:
        raise ValidationError(
            {
                "file": gettext("列名重复：%(columns)s。")
                % {"columns": "、".join(headers.duplicated)}
            }
        )
    # An error workbook sent back holds only the rows that failed: never a whole list.
    partial = normalize_header(ERROR_COLUMN) in {normalize_header(h) for h in table.headers}
    from .housekeeping import expire_batches

    expire_batches()
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        _require_import(actor, org, ledger)
        batch = ImportBatch.objects.create(
            organization=org,
            kind=ledger.code,
            created_by=actor,
            file_name=file_name[-255:],
            file_size=len(data),
            full_list=full_list and ledger.code == ImportBatch.Kind.HOST_ROSTER and not partial,
            total_rows=len(table.rows),
            heartbeat_at=timezone.now(),
            source={
                "format": table.format,
                "sheet": table.sheet,
                "encoding": table.encoding,
                "header_line": table.header_line,
                "ignored": headers.ignored,
                "error_workbook": partial,
            },
        )
        storage.save_rows(batch, table)
        record_event(
            actor=actor,
            verb="ledgers.uploaded",
            target=batch,
            organization=org,
            summary=f"上传{ledger.sheet_title}：{batch.file_name}（{batch.total_rows} 行）",
            data={"kind": ledger.code, "rows": batch.total_rows},
        )
        transaction.on_commit(lambda: _enqueue("check_batch", batch.pk))
    return batch


def _enqueue(name: str, batch_id: int) -> None:
    from .. import tasks

    getattr(tasks, name).enqueue(batch_id)


# --------------------------------------------------------------------------------------------
# Check (background job): every row, then the plan — nothing but the batch is written
# --------------------------------------------------------------------------------------------


def _check(
    batch: ImportBatch, table: Table, actor: Any, report: ProgressReporter
) -> tuple[list[CleanRow], Importer, Plan]:
    ledger = get_kind(batch.kind)
    headers = ledger.match_headers(table.headers)
    context = CleanContext(ledger, batch.organization)
    rows: list[CleanRow] = []
    for done, table_row in enumerate(table.rows, 1):
        rows.append(clean_row(ledger, table_row, headers, context))
        report(done)
    importer = importer_for(
        ledger, actor=actor, organization=batch.organization, full_list=batch.full_list
    )
    return rows, importer, importer.plan(rows)


def _issues(rows: list[CleanRow]) -> list[dict[str, Any]]:
    issues = [issue for row in rows for issue in row.issues]
    issues.sort(key=lambda issue: (issue.line, issue.col if issue.col is not None else 999))
    return [issue.as_json() for issue in issues]


def check_batch(*, batch_id: int) -> None:
    """Check every row of a pending batch and plan the import (the preview). Idempotent."""
    batch = (
        ImportBatch.objects.select_related("organization", "created_by")
        .filter(pk=batch_id, status=Status.PENDING)
        .first()
    )
    if batch is None:
        return
    table = storage.load_rows(batch)
    if table is None:
        mark_failed(batch_id, ROWS_GONE)
        return
    try:
        with ProgressReporter(batch.pk, len(table.rows), beside_transaction=False) as report:
            rows, _, plan = _check(batch, table, batch.created_by, report)
    except Exception as exc:
        logger.exception("Checking ledger batch %s failed", batch_id)
        mark_failed(batch_id, _reason(exc))
        return
    ImportBatch.objects.filter(pk=batch.pk, status=Status.PENDING).update(
        status=Status.VALIDATED,
        progress=100,
        heartbeat_at=timezone.now(),
        valid_rows=len(plan.items),
        failed_count=len(plan.failed),
        created_count=plan.count("create"),
        updated_count=plan.count("update"),
        unchanged_count=plan.count("unchanged"),
        deactivated_count=len(plan.deactivate),
        deactivation_skipped=plan.deactivation_skipped,
        row_errors=_issues(rows),
    )


# --------------------------------------------------------------------------------------------
# Confirm, import (background job), cancel
# --------------------------------------------------------------------------------------------


def _lock_visible(actor: Any, batch: ImportBatch) -> ImportBatch:
    locked = ImportBatch.objects.select_for_update().select_related("organization").get(pk=batch.pk)
    if (
        not ImportBatch.objects.visible_to(actor, Action.LEDGERS_IMPORT)
        .filter(pk=batch.pk)
        .exists()
    ):
        raise OutOfScope()
    return locked


@transaction.atomic
def confirm_batch(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    batch = _lock_visible(actor, batch)
    _require_import(actor, batch.organization, get_kind(batch.kind))
    if batch.status != Status.VALIDATED:
        raise BusinessRuleError(gettext("这个批次现在不能确认导入。"))
    if batch.valid_rows == 0:
        raise BusinessRuleError(gettext("没有通过校验的行，无法导入。请修改文件后重新上传。"))
    busy = ImportBatch.objects.filter(
        organization=batch.organization, kind=batch.kind, status=Status.RUNNING
    ).exclude(pk=batch.pk)
    if busy.exists():
        raise BusinessRuleError(gettext("该党组织有一个同类台账正在导入，请等它完成后再确认。"))
    now = timezone.now()
    batch.status = Status.RUNNING
    batch.confirmed_by = actor
    batch.confirmed_at = now
    batch.heartbeat_at = now
    batch.progress = 0
    batch.save(
        update_fields=[
            "status",
            "confirmed_by",
            "confirmed_at",
            "heartbeat_at",
            "progress",
            "updated_at",
        ]
    )
    record_event(
        actor=actor,
        verb="ledgers.import_confirmed",
        target=batch,
        organization=batch.organization,
        summary=f"确认导入 {batch.file_name}（{batch.valid_rows} 行）",
    )
    transaction.on_commit(lambda: _enqueue("import_batch", batch.pk))
    return batch


def run_import(*, batch_id: int) -> None:
    """Import a confirmed batch in one transaction. Runs once per batch (the first caller
    claims it); a failure rolls every row back and marks the batch failed with the reason."""
    now = timezone.now()
    claimed = ImportBatch.objects.filter(
        pk=batch_id, status=Status.RUNNING, started_at__isnull=True
    ).update(started_at=now, heartbeat_at=now, progress=0)
    if not claimed:
        return
    batch = ImportBatch.objects.select_related("organization", "confirmed_by").get(pk=batch_id)
    try:
        table = storage.load_rows(batch)
        if table is None:
            raise ImportAborted(ROWS_GONE)
        with (
            ProgressReporter(batch.pk, 2 * len(table.rows)) as report,
            transaction.atomic(),
        ):
            _import(batch, table, report)
    except Exception as exc:
        logger.exception("Import of ledger batch %s failed", batch_id)
        mark_failed(batch_id, _reason(exc))


def _import(batch: ImportBatch, table: Table, report: ProgressReporter) -> None:
    actor = batch.confirmed_by
    ledger = get_kind(batch.kind)
    org = Organization.objects.get(pk=batch.organization_id)
    try:
        _require_import(actor, org, ledger)
    except (OutOfScope, ValidationError) as exc:
        raise ImportAborted(
            "确认导入的人已无权向该党组织导入台账。"
            " / The person who confirmed may no longer import into this organization."
        ) from exc
    rows, importer, plan = _check(batch, table, actor, report)
    outcome = importer.apply(plan, lambda done: report(len(rows) + done))
    now = timezone.now()
    finished = ImportBatch.objects.filter(pk=batch.pk, status=Status.RUNNING).update(
        status=Status.DONE,
        progress=100,
        heartbeat_at=now,
        finished_at=now,
        valid_rows=len(plan.items) - (len(outcome.failed) - len(plan.failed)),
        created_count=outcome.created,
        updated_count=outcome.updated,
        unchanged_count=outcome.unchanged,
        failed_count=len(outcome.failed),
        deactivated_count=outcome.deactivated,
        deactivation_skipped=plan.deactivation_skipped,
        row_errors=_issues(rows),
        updated_at=now,
    )
    if not finished:
        raise ImportAborted(NOT_RUNNING)  # failed meanwhile (stalled): roll everything back
    storage.keep_only(batch, table, {row.line for row in outcome.failed})
    counts = {
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "failed": len(outcome.failed),
        "deactivated": outcome.deactivated,
    }
    record_event(
        actor=actor,
        verb="ledgers.imported",
        target=batch,
        organization=org,
        summary=(
            f"导入{ledger.sheet_title}：新增 {outcome.created}，更新 {outcome.updated}，"
            f"未变 {outcome.unchanged}，失败 {len(outcome.failed)}"
        ),
        data=counts,
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ImportAborted):
        return str(exc)
    detail = f"{type(exc).__name__}: {exc}"[:300]
    return f"导入过程中出错：{detail} / Error during the import: {detail}"


def mark_failed(batch_id: int, reason: str) -> None:
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update()
            .select_related("organization")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status not in (Status.PENDING, Status.RUNNING):
            return
        now = timezone.now()
        batch.status = Status.FAILED
        batch.failure_reason = reason
        batch.finished_at = now
        batch.save(update_fields=["status", "failure_reason", "finished_at", "updated_at"])
        storage.drop_rows(batch)
        record_event(
            actor=None,
            verb="ledgers.import_failed",
            target=batch,
            organization=batch.organization,
            summary=reason,
        )


@transaction.atomic
def cancel_batch(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    batch = _lock_visible(actor, batch)
    if batch.status not in (Status.PENDING, Status.VALIDATED):
        raise BusinessRuleError(gettext("这个批次已经开始导入或已结束，不能取消。"))
    batch.status = Status.CANCELLED
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at", "updated_at"])
    storage.drop_rows(batch)
    record_event(
        actor=actor,
        verb="ledgers.cancelled",
        target=batch,
        organization=batch.organization,
        summary=f"取消导入 {batch.file_name}",
    )
    return batch
