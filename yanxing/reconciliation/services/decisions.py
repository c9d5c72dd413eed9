"""People's decisions on a finished run: confirm or reject pairs (one by one or in bulk),
undo a merge, resolve a conflict, sign off.

Decisions belong to the home side: staff holding the reconciliation action over the run's home
organization. Confirming may change the registry (see merges.py), where the member services
check in addition that the actor may change the records concerned. Once the home side has
signed off, the run's results are final. A decision touching a host's pair withdraws that
host's sign-off, which then has to sign again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.audit.services import record_event
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.ledgers.models import HostRecord
from yanxing.members import services as member_services
from yanxing.members.choices import MobilityStatus
from yanxing.members.models import Member
from yanxing.orgs.models import Organization

from ..models import Merge, Run, RunConflict, RunPair, RunRecord, SignOff
from . import merges

#: Conflicts where the host side's value can be written to the member record.
APPLICABLE_FIELDS = {"phone", "employer", "city", "contact_state", "mobility_status"}


def may_decide(actor: Any, run: Run) -> bool:
    return can(actor, Action.RECONCILE, run.home_org.path)


def home_signed(run: Run) -> bool:
    return SignOff.objects.filter(run=run, side=SignOff.SideChoice.HOME).exists()


def _require_open(actor: Any, run: Run) -> None:
    if not may_decide(actor, run):
        raise OutOfScope()
    if run.status != Run.Status.FINISHED:
        raise BusinessRuleError("对账尚未完成。 / The run has not finished.")
    if home_signed(run):
        raise BusinessRuleError(
            "流出地已签字确认，本次对账结果不能再修改。 / The home side has signed off this run."
        )


def _lock_pair(actor: Any, pair: RunPair) -> RunPair:
    locked = (
        RunPair.objects.select_for_update(of=("self",))
        .select_related("run__home_org", "left", "right__organization")
        .get(pk=pair.pk)
    )
    _require_open(actor, locked.run)
    return locked


def _decided(pair: RunPair, actor: Any, status: str) -> None:
    pair.status = status
    pair.decided_by = actor if status != RunPair.Status.PROPOSED else None
    pair.decided_at = timezone.now() if status != RunPair.Status.PROPOSED else None
    pair.save(update_fields=["status", "decided_by", "decided_at"])


def _withdraw_host_signoff(actor: Any, pair: RunPair) -> None:
    signed = SignOff.objects.filter(
        run_id=pair.run_id,
        organization_id=pair.right.organization_id,
        side=SignOff.SideChoice.HOST,
    ).first()
    if signed is None:
        return
    signed.delete()
    Run.objects.filter(pk=pair.run_id).update(closed_at=None)
    record_event(
        actor=actor,
        verb="reconciliation.signoff_withdrawn",
        target=pair.run,
        organization=pair.right.organization,
        summary=f"配对 #{pair.pk} 有变动，{pair.right.organization.name} 的签字已撤回",
    )


def _pair_event(actor: Any, pair: RunPair, verb: str, **data: Any) -> None:
    record_event(
        actor=actor,
        verb=verb,
        target=pair,
        organization=pair.run.home_org,
        summary=f"{pair.left.name}（{pair.left.id_masked or pair.left.phone_masked}）↔ "
        f"{pair.right.name}（{pair.right.get_source_display()}）",
        data={"run": pair.run_id, "decision": pair.decision, **data},
    )


@transaction.atomic
def confirm_pair(*, actor: Any, pair: RunPair) -> RunPair:
    """Confirm that both rows are one person; make the registry say so (a Merge). Confirming a
    confirmed pair changes nothing."""
    pair = _lock_pair(actor, pair)
    if pair.status == RunPair.Status.CONFIRMED:
        return pair
    if pair.status == RunPair.Status.REJECTED:
        raise BusinessRuleError("该配对已驳回，请先恢复待确认。 / Reopen the rejected pair first.")
    merge = merges.apply_for_pair(actor=actor, pair=pair)
    _decided(pair, actor, RunPair.Status.CONFIRMED)
    _withdraw_host_signoff(actor, pair)
    _pair_event(
        actor,
        pair,
        "reconciliation.pair_confirmed",
        merge=merge.pk if merge else None,
        kind=merge.kind if merge else "",
    )
    return pair


@transaction.atomic
def reject_pair(*, actor: Any, pair: RunPair) -> RunPair:
    """Not one person. Rejecting a rejected pair changes nothing."""
    pair = _lock_pair(actor, pair)
    if pair.status == RunPair.Status.REJECTED:
        return pair
    if pair.decision == RunPair.Decision.IDENTITY:
        raise BusinessRuleError(
            "两条记录是同一党员档案，无需复核。 / Both rows are the same member record."
        )
    if Merge.objects.active().filter(pair=pair).exists():
        raise BusinessRuleError("请先撤销该配对的合并。 / Undo the merge of this pair first.")
    _decided(pair, actor, RunPair.Status.REJECTED)
    _withdraw_host_signoff(actor, pair)
    _pair_event(actor, pair, "reconciliation.pair_rejected")
    return pair


@transaction.atomic
def reopen_pair(*, actor: Any, pair: RunPair) -> RunPair:
    """A rejected pair back to the queue."""
    pair = _lock_pair(actor, pair)
    if pair.status != RunPair.Status.REJECTED:
        return pair
    _decided(pair, actor, RunPair.Status.PROPOSED)
    _withdraw_host_signoff(actor, pair)
    _pair_event(actor, pair, "reconciliation.pair_reopened")
    return pair


DECISIONS = {"confirm": confirm_pair, "reject": reject_pair}


@transaction.atomic
def bulk_decide(
    *, actor: Any, run: Run, pair_ids: Iterable[int], decision: str
) -> tuple[list[RunPair], list[tuple[RunPair, str]]]:
    """Confirm or reject several pairs. Each pair is decided on its own (a savepoint each):
    returns the pairs decided and the pairs refused with the reason."""
    service = DECISIONS.get(decision)
    if service is None:
        raise BusinessRuleError("未知操作。 / Unknown decision.")
    run = Run.objects.select_related("home_org").get(pk=run.pk)
    if not may_decide(actor, run):
        raise OutOfScope()
    ids = sorted({int(pk) for pk in pair_ids})
    pairs = list(
        RunPair.objects.visible_to(actor, Action.RECONCILE)
        .filter(run=run, pk__in=ids)
        .select_related("left", "right")
        .order_by("pk")
    )
    done: list[RunPair] = []
    refused: list[tuple[RunPair, str]] = []
    for pair in pairs:
        try:
            with transaction.atomic():
                done.append(service(actor=actor, pair=pair))
        except ValidationError as exc:
            refused.append((pair, " ".join(exc.messages)))
        except Http404:
            refused.append((pair, "无权处理。 / Not allowed."))
    record_event(
        actor=actor,
        verb=f"reconciliation.bulk_{decision}",
        target=run,
        organization=run.home_org,
        data={"done": [p.pk for p in done], "refused": [p.pk for p, _ in refused]},
    )
    return done, refused


@transaction.atomic
def undo_merge(*, actor: Any, merge: Merge) -> Merge:
    """Put back exactly what the merge changed; the pair returns to the queue. Undoing an
    undone merge changes nothing."""
    merge = (
        Merge.objects.select_for_update(of=("self",))
        .select_related("run__home_org", "pair__left", "pair__right__organization", "survivor")
        .get(pk=merge.pk)
    )
    _require_open(actor, merge.run)
    if merge.is_undone:
        return merge
    merges.undo(actor=actor, merge=merge)
    merge.undone_by = actor
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_by", "undone_at"])
    pair = RunPair.objects.select_for_update(of=("self",)).get(pk=merge.pair_id)
    _decided(pair, actor, RunPair.Status.PROPOSED)
    _withdraw_host_signoff(actor, merge.pair)
    record_event(
        actor=actor,
        verb="reconciliation.merge_undone",
        target=merge,
        organization=merge.run.home_org,
        summary=f"撤销{merge.get_kind_display()}：{merge.survivor.name}",
        data={"run": merge.run_id, "pair": merge.pair_id, "kind": merge.kind},
    )
    return merge


def _gone() -> BusinessRuleError:
    return BusinessRuleError("记录已不存在。 / The record no longer exists.")


def _host_value(right: RunRecord, field_name: str) -> str:
    if right.host_record_id is not None:
        return str(getattr(HostRecord.objects.get(pk=right.host_record_id), field_name))
    if right.member_id is not None:
        return str(getattr(Member.objects.get(pk=right.member_id), field_name))
    raise _gone()


def _apply_host_value(actor: Any, conflict: RunConflict) -> None:
    pair = conflict.pair
    if pair.left.member_id is None:
        raise _gone()
    member = Member.objects.get(pk=pair.left.member_id)
    host: Organization = pair.right.organization
    if conflict.field in ("phone", "employer"):
        value = _host_value(pair.right, conflict.field)
        member_services.update_member(actor=actor, member=member, **{conflict.field: value})
    elif conflict.field == "city":
        if host.host_division_id is None:
            raise BusinessRuleError("流入地党组织未设驻在地。 / The host has no host region.")
        member_services.update_member(actor=actor, member=member, destination=host.host_division)
    elif conflict.field == "contact_state":
        member_services.restore_contact(
            actor=actor,
            member=member,
            on=timezone.localdate(),
            how=f"双向对账：{host.name}有该党员",
        )
    elif conflict.field == "mobility_status":
        member_services.update_member(
            actor=actor,
            member=member,
            mobility_status=MobilityStatus.AWAY,
            destination=host.host_division,
        )
    else:
        raise BusinessRuleError(
            "该项不能自动采用，请在党员档案中更正。 / Correct this field in the member record."
        )


@transaction.atomic
def resolve_conflict(*, actor: Any, conflict: RunConflict, choice: str) -> RunConflict:
    """Keep the home ledger's value, or write the host side's into the member record."""
    if choice not in (RunConflict.Resolution.HOME, RunConflict.Resolution.HOST):
        raise BusinessRuleError("未知操作。 / Unknown choice.")
    conflict = (
        RunConflict.objects.select_for_update(of=("self",))
        .select_related("run__home_org", "pair__left", "pair__right__organization")
        .get(pk=conflict.pk)
    )
    _require_open(actor, conflict.run)
    if conflict.resolution == choice:
        return conflict
    if conflict.resolution:
        raise BusinessRuleError("该项已处理。 / Already resolved.")
    if conflict.pair.status != RunPair.Status.CONFIRMED:
        raise BusinessRuleError("请先确认这对记录。 / Confirm the pair first.")
    if choice == RunConflict.Resolution.HOST:
        if conflict.field not in APPLICABLE_FIELDS:
            raise BusinessRuleError(
                "该项不能自动采用，请在党员档案中更正。 / Correct this field in the member record."
            )
        _apply_host_value(actor, conflict)
    conflict.resolution = choice
    conflict.resolved_by = actor
    conflict.resolved_at = timezone.now()
    conflict.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    _withdraw_host_signoff(actor, conflict.pair)
    record_event(
        actor=actor,
        verb="reconciliation.conflict_resolved",
        target=conflict.pair,
        organization=conflict.run.home_org,
        summary=f"{conflict.label}：{conflict.get_resolution_display()}",
        data={"run": conflict.run_id, "field": conflict.field, "choice": choice},
    )
    return conflict
