"""Starting a run and making it (the background job's work)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.audit.services import record_event
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.orgs.models import Organization

from .. import matching, schedule, tables
from ..models import DuplicateGroup, Run, RunConflict, RunHost, RunPair, RunRecord, Side
from ..tables import Row

logger = logging.getLogger(__name__)

#: Progress (percent) when each step starts.
STAGES = {"home": 10, "hosts": 30, "matching": 50, "saving": 80}


def _enqueue(run_id: int) -> None:
    from ..tasks import execute_run_task

    result = execute_run_task.enqueue(run_id)
    Run.objects.filter(pk=run_id).update(task_id=str(result.id)[:64])


@transaction.atomic
def start_run(
    *, actor: Any, home_org: Organization, hosts: Iterable[Organization], quarter: str
) -> Run:
    """Queue a run. The same request again while that run is waiting or running returns it."""
    home_org = Organization.objects.get(pk=home_org.pk)
    if not can(actor, Action.RECONCILE, home_org.path):
        raise OutOfScope()
    hosts = sorted({org.pk: org for org in hosts}.values(), key=lambda o: o.path)
    for host in hosts:
        if not can(actor, Action.RECONCILE, host.path):
            raise OutOfScope()
    if not home_org.is_active or home_org.is_external:
        raise BusinessRuleError(
            "请选择正常状态的流出地党组织（县、乡镇或村）。 / Choose an active home organization."
        )
    if not hosts:
        raise BusinessRuleError("请至少选择一个流入地党组织。 / Choose at least one host.")
    if any(not host.is_active for host in hosts):
        raise BusinessRuleError("所选流入地党组织已撤销。 / A chosen host is closed.")
    try:
        schedule.parse_quarter(quarter)
    except ValueError as exc:
        raise BusinessRuleError("季度格式应为 2026Q4。 / A quarter looks like 2026Q4.") from exc
    if quarter > schedule.current_quarter():
        raise BusinessRuleError("不能为尚未开始的季度对账。 / That quarter has not begun.")
    host_ids = sorted(host.pk for host in hosts)
    waiting = Run.objects.select_for_update().filter(
        home_org=home_org,
        quarter=quarter,
        status__in=[Run.Status.QUEUED, Run.Status.RUNNING],
    )
    for run in waiting:
        if sorted(run.run_hosts.values_list("organization_id", flat=True)) == host_ids:
            return run
    run = Run.objects.create(home_org=home_org, quarter=quarter, started_by=actor)
    RunHost.objects.bulk_create(RunHost(run=run, organization=host) for host in hosts)
    record_event(
        actor=actor,
        verb="reconciliation.run_started",
        target=run,
        organization=home_org,
        summary=f"{quarter} 双向对账：{home_org.name} ↔ {'、'.join(h.name for h in hosts)}",
        data={"quarter": quarter, "hosts": host_ids},
    )
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


@transaction.atomic
def retry_run(*, actor: Any, run: Run) -> Run:
    """Queue an unfinished run again (failed, or stuck after a worker stopped). Making a run
    twice is harmless: the second pass finds it finished, or replaces a partial result."""
    run = Run.objects.select_for_update().select_related("home_org").get(pk=run.pk)
    if not can(actor, Action.RECONCILE, run.home_org.path):
        raise OutOfScope()
    if run.status == Run.Status.FINISHED:
        return run
    run.status, run.progress, run.stage, run.error = Run.Status.QUEUED, 0, "", ""
    run.save(update_fields=["status", "progress", "stage", "error", "updated_at"])
    record_event(
        actor=actor, verb="reconciliation.run_retried", target=run, organization=run.home_org
    )
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _progress(run_id: int, stage: str, **extra: Any) -> None:
    Run.objects.filter(pk=run_id).exclude(status=Run.Status.FINISHED).update(
        stage=stage, progress=STAGES[stage], updated_at=timezone.now(), **extra
    )


def execute_run(*, run_id: int) -> Run:
    """Build the tables, link them and store the result. Idempotent: a finished run is left
    as it is, and an unfinished one is rebuilt from scratch in one transaction."""
    run = Run.objects.select_related("home_org", "started_by").get(pk=run_id)
    if run.status == Run.Status.FINISHED:
        return run
    _progress(run_id, "home", status=Run.Status.RUNNING, started_at=timezone.now(), error="")
    try:
        hosts = tables.hosts_of(run)
        left = tables.home_ledger(run, hosts)
        _progress(run_id, "hosts")
        right = tables.host_ledgers(run, hosts)
        _progress(run_id, "matching")
        plan = matching.plan(left, right)
        _progress(run_id, "saving")
        with transaction.atomic():
            locked = Run.objects.select_for_update().select_related("home_org").get(pk=run_id)
            if locked.status == Run.Status.FINISHED:
                return locked
            store_plan(locked, left, right, plan)
            locked.status, locked.progress, locked.stage = Run.Status.FINISHED, 100, ""
            locked.finished_at = timezone.now()
            locked.counts = run_counts(locked)
            locked.save()
            record_event(
                actor=run.started_by,
                verb="reconciliation.run_finished",
                target=locked,
                organization=locked.home_org,
                data=locked.counts,
            )
            return locked
    except Exception as exc:
        logger.exception("reconciliation run %s failed", run_id)
        Run.objects.filter(pk=run_id).update(
            status=Run.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        record_event(
            actor=run.started_by,
            verb="reconciliation.run_failed",
            target=run,
            organization=run.home_org,
            summary=type(exc).__name__,
        )
        raise


def store_plan(run: Run, left: list[Row], right: list[Row], plan: matching.Plan) -> None:
    """Replace whatever an earlier, interrupted pass left with this plan's rows and pairs."""
    RunRecord.objects.filter(run=run).delete()
    DuplicateGroup.objects.filter(run=run).delete()
    records = RunRecord.objects.bulk_create(
        RunRecord(run=run, **row.stored()) for row in [*left, *right]
    )
    by_key: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    for record in records:
        by_key[(record.side, record.key)].append(record)

    for side, keys, score in plan.duplicates:
        group = DuplicateGroup.objects.create(run=run, side=side, score=score)
        ids = [r.pk for key in keys for r in by_key.get((side, key), [])]
        RunRecord.objects.filter(pk__in=ids, duplicate_group__isnull=True).update(
            duplicate_group=group
        )

    now = timezone.now()
    pairs: list[RunPair] = []
    conflicts: list[tuple[int, list[tuple[str, str, str]]]] = []
    for item in plan.pairs:
        left_record = by_key[(Side.LEFT, item.left_key)][0]
        for right_record in by_key[(Side.RIGHT, item.right_key)]:
            if item.right_org is not None and right_record.organization_id != item.right_org:
                continue
            identity = item.decision == RunPair.Decision.IDENTITY
            pairs.append(
                RunPair(
                    run=run,
                    left=left_record,
                    right=right_record,
                    score=item.score,
                    weight=item.weight,
                    decision=item.decision,
                    reasons=list(item.reasons),
                    status=RunPair.Status.CONFIRMED if identity else RunPair.Status.PROPOSED,
                    decided_at=now if identity else None,
                )
            )
            conflicts.append((len(pairs) - 1, item.conflicts))
    created = RunPair.objects.bulk_create(pairs)
    RunConflict.objects.bulk_create(
        RunConflict(
            run=run,
            pair=created[index],
            field=name,
            label=matching.label_of(name),
            left_value=matching.display_value(name, a)[:255],
            right_value=matching.display_value(name, b)[:255],
        )
        for index, found in conflicts
        for name, a, b in {c[0]: c for c in found}.values()
    )


MATCHED_Q = Q(status=RunPair.Status.CONFIRMED) | Q(
    status=RunPair.Status.PROPOSED, decision=RunPair.Decision.MATCH
)


def run_counts(run: Run) -> dict[str, int]:
    """The whole run's figures (what the home side sees)."""
    matched = RunPair.objects.filter(run=run).filter(MATCHED_Q)
    records = RunRecord.objects.filter(run=run)
    return {
        "left": records.filter(side=Side.LEFT).count(),
        "right": records.filter(side=Side.RIGHT).count(),
        "matched": matched.count(),
        "review": RunPair.objects.filter(
            run=run, status=RunPair.Status.PROPOSED, decision=RunPair.Decision.REVIEW
        ).count(),
        "unmanaged": records.filter(side=Side.LEFT)
        .exclude(pk__in=matched.values("left_id"))
        .count(),
        "unknown": records.filter(side=Side.RIGHT)
        .exclude(pk__in=matched.values("right_id"))
        .count(),
        "duplicates": DuplicateGroup.objects.filter(run=run).count(),
        "conflicts": RunConflict.objects.filter(run=run, pair__in=matched).count(),
    }
