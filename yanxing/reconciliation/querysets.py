"""Who sees what of a reconciliation run.

The home side (the action granted over the run's home organization) sees the whole run. A
host organization's staff see a run only if one of their organizations is a host in it, and
of it only the rows on the host side that belong to their organization, the pairs, conflicts
and merges whose host-side row is theirs, duplicate groups holding one of their rows, their
own sign-off and the home side's. Nothing of the home ledger's own rows, nothing of other
hosts.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q

from yanxing.core.paths import any_subtree_q
from yanxing.core.querysets import ScopedQuerySet


def _run_ids_hosted_in(roots: list[str]) -> Any:
    run_host = apps.get_model("reconciliation", "RunHost")
    return run_host.objects.filter(any_subtree_q("organization__path", roots)).values("run_id")


class RunQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("home_org__path", roots) | Q(pk__in=_run_ids_hosted_in(roots))

    def for_quarter(self, quarter: str) -> RunQuerySet:
        return self.filter(quarter=quarter)


class RunHostQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("run__home_org__path", roots) | any_subtree_q(
            "organization__path", roots
        )


class RunRecordQuerySet(ScopedQuerySet):
    """Left rows (the home ledger) are the home side's only; a right row is also its host's."""

    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("run__home_org__path", roots) | (
            Q(side="right") & any_subtree_q("organization__path", roots)
        )


class RunPairQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("run__home_org__path", roots) | any_subtree_q(
            "right__organization__path", roots
        )


class RunConflictQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("run__home_org__path", roots) | any_subtree_q(
            "pair__right__organization__path", roots
        )


class DuplicateGroupQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        record = apps.get_model("reconciliation", "RunRecord")
        hosted = record.objects.filter(
            Q(side="right") & any_subtree_q("organization__path", roots),
            duplicate_group__isnull=False,
        ).values("duplicate_group_id")
        return any_subtree_q("run__home_org__path", roots) | (Q(side="right") & Q(pk__in=hosted))


class MergeQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("run__home_org__path", roots) | any_subtree_q(
            "pair__right__organization__path", roots
        )

    def active(self) -> MergeQuerySet:
        return self.filter(undone_at__isnull=True)


class SignOffQuerySet(ScopedQuerySet):
    """A host sees its own sign-off and the home side's (the run's other party), not other
    hosts'."""

    def scope_q(self, roots: list[str]) -> Q:
        return (
            any_subtree_q("run__home_org__path", roots)
            | any_subtree_q("organization__path", roots)
            | (Q(side="home") & Q(run_id__in=_run_ids_hosted_in(roots)))
        )
