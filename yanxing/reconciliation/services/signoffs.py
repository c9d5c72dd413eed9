"""Both sides sign off a run: the home organization and each host organization, each by its
own staff (the reconciliation action over that organization), with name and time.

A side signs once nothing of its own waits in the review queue. When the last side signs, the
run is closed: it counts for the quarterly schedule.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.audit.services import record_event
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.orgs.models import Organization

from ..models import Run, RunHost, RunPair, SignOff


def sides(run: Run) -> list[tuple[Organization, str]]:
    """Every organization that signs the run, home first."""
    hosts = [
        rh.organization for rh in RunHost.objects.filter(run=run).select_related("organization")
    ]
    return [(run.home_org, SignOff.SideChoice.HOME)] + [
        (org, SignOff.SideChoice.HOST) for org in hosts
    ]


def signs_for(actor: Any, run: Run) -> list[Organization]:
    """The run's sides the actor signs for (signed already or not)."""
    return [org for org, _side in sides(run) if can(actor, Action.RECONCILE, org.path)]


def signable(actor: Any, run: Run) -> list[Organization]:
    """Organizations the actor may still sign this run for."""
    if run.status != Run.Status.FINISHED:
        return []
    signed = set(SignOff.objects.filter(run=run).values_list("organization_id", flat=True))
    return [org for org in signs_for(actor, run) if org.pk not in signed]


def pending_for(run: Run, organization: Organization, side: str) -> int:
    pairs = RunPair.objects.filter(run=run, status=RunPair.Status.PROPOSED)
    if side == SignOff.SideChoice.HOST:
        pairs = pairs.filter(right__organization=organization)
    return pairs.count()


@transaction.atomic
def sign_off(*, actor: Any, run: Run, organization: Organization, note: str = "") -> SignOff:
    """Sign for `organization` (the home organization or a host). Signing twice changes nothing."""
    run = Run.objects.select_for_update().select_related("home_org").get(pk=run.pk)
    side = {org.pk: s for org, s in sides(run)}.get(organization.pk)
    if side is None or not can(actor, Action.RECONCILE, organization.path):
        raise OutOfScope()
    if run.status != Run.Status.FINISHED:
        raise BusinessRuleError("对账尚未完成。 / The run has not finished.")
    existing = SignOff.objects.filter(run=run, organization=organization).first()
    if existing is not None:
        return existing
    waiting = pending_for(run, organization, side)
    if waiting:
        raise BusinessRuleError(
            f"还有 {waiting} 对记录待确认，处理完后再签字。 / {waiting} pairs still wait for a decision."
        )
    signoff = SignOff.objects.create(
        run=run,
        organization=organization,
        side=side,
        signed_by=actor,
        signer_name=(getattr(actor, "display_name", "") or actor.get_username())[:150],
        signed_at=timezone.now(),
        note=note[:200],
    )
    record_event(
        actor=actor,
        verb="reconciliation.signed_off",
        target=run,
        organization=organization,
        summary=f"{run.quarter} 对账 {organization.name} 签字（{signoff.signer_name}）",
        data={"side": side},
    )
    signed = set(SignOff.objects.filter(run=run).values_list("organization_id", flat=True))
    if all(org.pk in signed for org, _side in sides(run)):
        run.closed_at = signoff.signed_at
        run.save(update_fields=["closed_at", "updated_at"])
        record_event(
            actor=actor, verb="reconciliation.run_closed", target=run, organization=run.home_org
        )
    return signoff
