"""Housekeeping: uploaded rows are kept only while they are needed, and a batch whose
background job died does not wait forever."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from yanxing.audit.services import record_event

from .. import storage
from ..models import ImportBatch
from ..progress import live_progress
from .batches import Status, mark_failed

#: A working batch with no sign of life for this long is failed (the worker died or is not running).
STALL_AFTER = dt.timedelta(minutes=15)
#: Uploaded rows of a batch nobody confirmed are deleted after this long.
KEEP_UNCONFIRMED = dt.timedelta(days=7)
#: The failed rows of an imported batch (for its error workbook) are kept this long.
KEEP_ERROR_ROWS = dt.timedelta(days=30)

STALLED = (
    "后台任务中断或没有运行，没有写入任何数据。请重新上传文件；如果再次出现，请联系系统管理员。"
    " / The background job stopped or is not running; nothing was written. Upload the file"
    " again, and tell the administrator if this happens again."
)
EXPIRED = (
    "超过 7 天没有确认导入，已自动取消，上传的数据已删除。"
    " / Not confirmed within 7 days: cancelled, and the uploaded rows were deleted."
)


def fail_if_stalled(*, batch: ImportBatch) -> ImportBatch:
    """A batch whose job shows no sign of life for STALL_AFTER is failed (nothing was written:
    the import's transaction never committed)."""
    if not batch.is_working:
        return batch
    _, heartbeat = live_progress(batch)
    signs = [t for t in (heartbeat, batch.confirmed_at, batch.created_at) if t is not None]
    if signs and timezone.now() - max(signs) < STALL_AFTER:
        return batch
    mark_failed(batch.pk, STALLED)
    batch.refresh_from_db()
    return batch


def expire_batches(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Fail stalled batches, cancel batches left unconfirmed, drop old error rows."""
    now = now or timezone.now()
    counts = {"stalled": 0, "expired": 0, "pruned": 0}
    for batch in ImportBatch.objects.filter(status__in=[Status.PENDING, Status.RUNNING]):
        if fail_if_stalled(batch=batch).status == Status.FAILED:
            counts["stalled"] += 1
    stale = ImportBatch.objects.filter(
        status=Status.VALIDATED, created_at__lt=now - KEEP_UNCONFIRMED
    )
    for batch in stale.select_related("organization"):
        with transaction.atomic():
            updated = ImportBatch.objects.filter(pk=batch.pk, status=Status.VALIDATED).update(
                status=Status.CANCELLED, failure_reason=EXPIRED, finished_at=now
            )
            if updated:
                storage.drop_rows(batch)
                record_event(
                    actor=None,
                    verb="ledgers.expired",
                    target=batch,
                    organization=batch.organization,
                    summary=EXPIRED,
                )
                counts["expired"] += 1
    old = ImportBatch.objects.filter(
        finished_at__lt=now - KEEP_ERROR_ROWS, payload__isnull=False
    ).exclude(status__in=[Status.PENDING, Status.VALIDATED, Status.RUNNING])
    for batch in old:
        storage.drop_rows(batch)
        counts["pruned"] += 1
    return counts
