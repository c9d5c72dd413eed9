"""Scoped reads for the ledgers app. First argument is always the actor."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.orgs.models import HOLDS_MEMBERSHIP, Organization

from .messages import RowIssue
from .models import HostRecord, ImportBatch


def may_import(actor: Any) -> bool:
    return can(actor, Action.LEDGERS_IMPORT)


def batches_for(actor: Any) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.visible_to(actor, Action.LEDGERS_IMPORT).select_related(
        "organization", "created_by"
    )


def batch_detail(actor: Any, pk: int) -> ImportBatch:
    batch: ImportBatch = get_object_or_404(batches_for(actor), pk=pk)
    return batch


def import_organizations(actor: Any) -> QuerySet[Organization]:
    """Organizations the actor may import a ledger into (active, within the import grant)."""
    return Organization.objects.visible_to(actor, Action.LEDGERS_IMPORT).filter(
        status=Organization.Status.ACTIVE
    )


def member_ledger_organizations(actor: Any) -> QuerySet[Organization]:
    """Of those, the ones a members ledger may go to: they hold membership relations and the
    actor may change their members."""
    changeable = Organization.objects.visible_to(actor, Action.MEMBERS_CHANGE).values("pk")
    return import_organizations(actor).filter(pk__in=changeable, kind__in=list(HOLDS_MEMBERSHIP))


def batch_issues(batch: ImportBatch, limit: int = 500) -> tuple[list[RowIssue], int]:
    """The first `limit` row problems of a batch, and how many there are in all."""
    issues = batch.row_errors or []
    return [RowIssue.from_json(data) for data in issues[:limit]], len(issues)


def host_records_for(actor: Any, action: str = Action.MEMBERS_VIEW) -> QuerySet[HostRecord]:
    return HostRecord.objects.visible_to(actor, action).select_related("organization")
