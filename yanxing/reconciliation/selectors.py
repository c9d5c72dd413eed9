"""Scoped reads of reconciliation runs. First argument is always the actor.

The lists of a run, as each side sees them:
- matched (已对上): pairs confirmed, or proposed by the engine as a match (still to confirm);
- review (待复核): pairs the engine was unsure of, waiting for a person;
- unmanaged (外出未纳管): home-ledger rows no host has (no matched pair);
- unknown (来源不明的报到): host-side rows on no home ledger (no matched pair);
- duplicates (疑似重复): groups of rows of one side that look like one person;
- conflicts (信息不一致): fields on which the two rows of a matched pair disagree;
- merges (合并记录): what confirmations changed in the registry, undoable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from yanxing.access.policy import granted_roots
from yanxing.access.roles import Action

from . import schedule
from .models import DuplicateGroup, Merge, Run, RunConflict, RunHost, RunPair, RunRecord, SignOff
from .services.runs import MATCHED_Q

LISTS = ["matched", "review", "unmanaged", "unknown", "duplicates", "conflicts", "merges"]


def runs_for(actor: Any, action: str = Action.MEMBERS_VIEW) -> QuerySet[Run]:
    return (
        Run.objects.visible_to(actor, action)
        .select_related("home_org", "started_by")
        .prefetch_related(
            Prefetch(
                "run_hosts",
                queryset=RunHost.objects.visible_to(actor, action).select_related("organization"),
                to_attr="visible_hosts",
            ),
            Prefetch(
                "signoffs",
                queryset=SignOff.objects.visible_to(actor, action).select_related("organization"),
                to_attr="visible_signoffs",
            ),
        )
    )


def run_detail(actor: Any, pk: int, action: str = Action.MEMBERS_VIEW) -> Run:
    return get_object_or_404(runs_for(actor, action), pk=pk)


@dataclass
class RunLists:
    run: Run
    matched: QuerySet[RunPair]
    review: QuerySet[RunPair]
    unmanaged: QuerySet[RunRecord]
    unknown: QuerySet[RunRecord]
    duplicates: QuerySet[DuplicateGroup]
    conflicts: QuerySet[RunConflict]
    merges: QuerySet[Merge]

    def get(self, name: str) -> QuerySet[Any]:
        result: QuerySet[Any] = getattr(self, name)
        return result

    def counts(self) -> dict[str, int]:
        return {name: self.get(name).count() for name in LISTS}


def run_lists(actor: Any, run: Run, action: str = Action.MEMBERS_VIEW) -> RunLists:
    pairs = (
        RunPair.objects.visible_to(actor, action)
        .filter(run=run)
        .select_related("left__organization", "right__organization")
    )
    records = (
        RunRecord.objects.visible_to(actor, action).filter(run=run).select_related("organization")
    )
    # Whether a row is matched is a fact of the whole run, whoever looks.
    matched_all = RunPair.objects.filter(run=run).filter(MATCHED_Q)
    proposed = RunPair.objects.filter(run=run, status=RunPair.Status.PROPOSED)
    # A row that is not matched may still have a pair waiting in the review queue.
    row_pairs = records.annotate(
        has_candidate=Exists(proposed.filter(left=OuterRef("pk")))
        | Exists(proposed.filter(right=OuterRef("pk")))
    )
    return RunLists(
        run=run,
        matched=pairs.filter(MATCHED_Q).prefetch_related("merges"),
        review=pairs.filter(status=RunPair.Status.PROPOSED, decision=RunPair.Decision.REVIEW),
        unmanaged=row_pairs.filter(side="left").exclude(pk__in=matched_all.values("left_id")),
        unknown=row_pairs.filter(side="right").exclude(pk__in=matched_all.values("right_id")),
        duplicates=DuplicateGroup.objects.visible_to(actor, action)
        .filter(run=run)
        .prefetch_related(
            Prefetch(
                "records",
                queryset=RunRecord.objects.visible_to(actor, action)
                .select_related("organization")
                .order_by("key", "pk"),
                to_attr="visible_records",
            )
        ),
        conflicts=RunConflict.objects.visible_to(actor, action)
        .filter(run=run, pair__in=matched_all)
        .select_related("pair__left", "pair__right__organization"),
        merges=Merge.objects.visible_to(actor, action)
        .filter(run=run)
        .select_related("survivor", "duplicate", "host_record", "pair__right", "created_by"),
    )


def filtered(
    actor: Any, lists: RunLists, name: str, form: Any, action: str = Action.MEMBERS_VIEW
) -> QuerySet[Any]:
    """One list with the page's filters applied."""
    from .filters import apply

    records = RunRecord.objects.visible_to(actor, action).filter(run=lists.run)
    return apply(name, lists.get(name), form, records)


def pair_detail(actor: Any, pk: int, action: str = Action.MEMBERS_VIEW) -> RunPair:
    return get_object_or_404(RunPair.objects.visible_to(actor, action), pk=pk)


def merge_detail(actor: Any, pk: int, action: str = Action.MEMBERS_VIEW) -> Merge:
    return get_object_or_404(Merge.objects.visible_to(actor, action), pk=pk)


def conflict_detail(actor: Any, pk: int, action: str = Action.MEMBERS_VIEW) -> RunConflict:
    return get_object_or_404(RunConflict.objects.visible_to(actor, action), pk=pk)


def visible_hosts(actor: Any, run: Run, action: str = Action.MEMBERS_VIEW) -> list[Any]:
    return [
        rh.organization
        for rh in RunHost.objects.visible_to(actor, action)
        .filter(run=run)
        .select_related("organization")
    ]


def overdue_for(actor: Any, action: str = Action.MEMBERS_VIEW) -> list[schedule.Overdue]:
    """Organizations in the actor's scope whose previous quarter's run is missing."""
    return schedule.overdue_organizations(granted_roots(actor, action))
