"""Every write of the ledgers app: upload, check, confirm, import, cancel, error workbook,
housekeeping. Keyword-only arguments; writes re-check scope inside their transaction and
record an audit event; background work is queued with `transaction.on_commit`."""

from .batches import (
    ImportAborted,
    cancel_batch,
    check_batch,
    confirm_batch,
    run_import,
    upload_batch,
)
from .downloads import error_workbook
from .housekeeping import (
    EXPIRED,
    KEEP_ERROR_ROWS,
    KEEP_UNCONFIRMED,
    STALL_AFTER,
    STALLED,
    expire_batches,
    fail_if_stalled,
)

__all__ = [
    "EXPIRED",
    "KEEP_ERROR_ROWS",
    "KEEP_UNCONFIRMED",
    "STALLED",
    "STALL_AFTER",
    "ImportAborted",
    "cancel_batch",
    "check_batch",
    "confirm_batch",
    "error_workbook",
    "expire_batches",
    "fail_if_stalled",
    "run_import",
    "upload_batch",
]
