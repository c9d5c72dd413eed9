"""Every write of the reconciliation app: keyword-only, an actor, one transaction, an audit event."""

from .decisions import (
    bulk_decide,
    confirm_pair,
    may_decide,
    reject_pair,
    reopen_pair,
    resolve_conflict,
    undo_merge,
)
from .runs import MATCHED_Q, execute_run, retry_run, run_counts, start_run
from .signoffs import sign_off, signable

__all__ = [
    "MATCHED_Q",
    "bulk_decide",
    "confirm_pair",
    "execute_run",
    "may_decide",
    "reject_pair",
    "reopen_pair",
    "resolve_conflict",
    "retry_run",
    "run_counts",
    "sign_off",
    "signable",
    "start_run",
    "undo_merge",
]
