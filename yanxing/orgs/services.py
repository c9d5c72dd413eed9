"""Every write to the organization tree: create, edit, move, close, convert, security policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Substr

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.audit.services import record_event
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.core.models import stamp_history
from yanxing.core.paths import depth_of, segment, segment_value, subtree_q

from .models import ALLOWED_CHILDREN, Organization, OrgKind

EDITABLE_FIELDS = [
    "name",
    "short_name",
    "division",
    "host_division",
    "host_basis",
    "address",
    "founded_on",
    "is_external",
]


def _require(actor: Any, action: str, org: Organization | None) -> None:
    if org is None:
        raise OutOfScope()
    if not can(actor, action, org.path):
        raise OutOfScope()


def _check_parent(kind: str, parent: Organization | None) -> None:
    if parent is None:
        if kind != OrgKind.COUNTY_DEPARTMENT:
            raise BusinessRuleError(
                "只有县委组织部可以作为顶层组织。 / Only a county department can be a root."
            )
        return
    if not parent.is_active:
        raise BusinessRuleError("上级党组织已撤销。 / The parent organization is closed.")
    if kind not in ALLOWED_CHILDREN.get(parent.kind, set()):
        raise BusinessRuleError(
            f"{parent.get_kind_display()}下不能设立{OrgKind(kind).label}。"
            f" / A {OrgKind(kind).name.lower()} cannot sit under a {parent.kind}."
        )


def _check_external(is_external: bool, host_division: Any) -> None:
    if is_external and host_division is None:
        raise BusinessRuleError(
            "在外党组织须填写驻在地。 / An external organization needs its host region."
        )


def next_child_path(parent: Organization | None) -> str:
    base = parent.path if parent else ""
    siblings = (
        Organization.objects.filter(parent=parent)
        if parent
        else Organization.objects.filter(parent__isnull=True)
    )
    last = siblings.aggregate(m=Max("path"))["m"]
    number = segment_value(last[len(base) :]) + 1 if last else 1
    return base + segment(number)


@transaction.atomic
def create_organization(
    *,
    actor: Any,
    name: str,
    kind: str,
    parent: Organization | None,
    is_external: bool = False,
    host_division: Any = None,
    division: Any = None,
    short_name: str = "",
    host_basis: str = "",
    address: str = "",
    founded_on: dt.date | None = None,
) -> Organization:
    if parent is not None:
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        _require(actor, Action.ORGS_CHANGE, parent)
    elif actor is not None and not getattr(actor, "is_superuser", False):
        raise OutOfScope()  # a root (county) is set up by operations: a command or a superuser
    _check_parent(kind, parent)
    _check_external(is_external, host_division)
    path = next_child_path(parent)
    org = Organization(
        name=name,
        short_name=short_name,
        kind=kind,
        parent=parent,
        path=path,
        depth=depth_of(path),
        is_external=is_external,
        host_division=host_division,
        division=division,
        host_basis=host_basis,
        address=address,
        founded_on=founded_on,
    )
    stamp_history(org, actor)
    org.save()
    record_event(
        actor=actor, verb="org.created", target=org, organization=org, summary=f"设立 {org.name}"
    )
    return org


@transaction.atomic
def update_organization(*, actor: Any, org: Organization, **changes: Any) -> Organization:
    org = Organization.objects.select_for_update().get(pk=org.pk)
    _require(actor, Action.ORGS_CHANGE, org)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise BusinessRuleError(f"不可修改的字段 / not editable: {', '.join(sorted(unknown))}")
    before = {name: getattr(org, name) for name in changes}
    for name, value in changes.items():
        setattr(org, name, value)
    _check_external(org.is_external, org.host_division)
    stamp_history(org, actor)
    org.save()
    changed = {k: [str(before[k]), str(v)] for k, v in changes.items() if before[k] != v}
    if changed:
        record_event(
            actor=actor, verb="org.updated", target=org, organization=org, data={"changed": changed}
        )
    return org


@transaction.atomic
def move_organization(*, actor: Any, org: Organization, new_parent: Organization) -> Organization:
    org = Organization.objects.select_for_update().get(pk=org.pk)
    new_parent = Organization.objects.select_for_update().get(pk=new_parent.pk)
    _require(actor, Action.ORGS_CHANGE, org)
    _require(actor, Action.ORGS_CHANGE, new_parent)
    if org.parent_id is None:
        raise BusinessRuleError("顶层组织不能移动。 / A root organization cannot be moved.")
    if new_parent.path.startswith(org.path):
        raise BusinessRuleError(
            "不能移到自身或下级组织之下。 / Cannot move under itself or its own subtree."
        )
    _check_parent(org.kind, new_parent)
    old_path, old_parent = org.path, org.parent
    new_path = next_child_path(new_parent)
    shift = depth_of(new_path) - depth_of(old_path)
    Organization.objects.filter(subtree_q("path", old_path)).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + shift,
    )
    org.refresh_from_db()
    org.parent = new_parent
    stamp_history(org, actor)
    org.save(update_fields=["parent", "updated_at"])
    record_event(
        actor=actor,
        verb="org.moved",
        target=org,
        organization=org,
        summary=f"{org.name}：{old_parent} → {new_parent}",
        data={"from": old_parent.pk if old_parent else None, "to": new_parent.pk},
    )
    return org


@transaction.atomic
def close_organization(*, actor: Any, org: Organization, reason: str, on: dt.date) -> Organization:
    from yanxing.members.models import Member, Participation

    org = Organization.objects.select_for_update().get(pk=org.pk)
    _require(actor, Action.ORGS_CHANGE, org)
    if not reason.strip():
        raise BusinessRuleError("请填写撤销原因。 / Give the reason for closing.")
    if (
        Organization.objects.filter(subtree_q("path", org.path), status="active")
        .exclude(pk=org.pk)
        .exists()
    ):
        raise BusinessRuleError(
            "请先撤销或转移下级组织。 / Close or move the child organizations first."
        )
    if Member.objects.filter(home_org=org, is_active=True).exists():
        raise BusinessRuleError(
            "本组织仍有组织关系在此的党员，请先转接。 / Members still hold their membership here; transfer them first."
        )
    ended = Participation.objects.filter(organization=org, ended_on__isnull=True).update(
        ended_on=on
    )
    org.status = Organization.Status.CLOSED
    org.closed_on = on
    org.close_reason = reason
    stamp_history(org, actor)
    org.save()
    record_event(
        actor=actor,
        verb="org.closed",
        target=org,
        organization=org,
        summary=reason,
        data={"participations_ended": ended},
    )
    return org


@transaction.atomic
def convert_to_formal(*, actor: Any, org: Organization, reason: str) -> Organization:
    """功能型 → 建制型: the same organization (id, history, participations) with a new kind."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    _require(actor, Action.ORGS_CHANGE, org)
    if org.kind != OrgKind.FUNCTIONAL_BRANCH:
        raise BusinessRuleError(
            "只有功能型党支部可以转为建制型。 / Only a functional branch can be converted."
        )
    org.kind = OrgKind.FORMAL_BRANCH
    stamp_history(org, actor, reason)
    org.save()
    record_event(
        actor=actor,
        verb="org.converted",
        target=org,
        organization=org,
        summary=reason,
        data={"from": OrgKind.FUNCTIONAL_BRANCH, "to": OrgKind.FORMAL_BRANCH},
    )
    return org


@transaction.atomic
def set_staff_totp_policy(*, actor: Any, org: Organization, required: bool) -> Organization:
    org = Organization.objects.select_for_update().get(pk=org.pk)
    _require(actor, Action.ORGS_SECURITY, org)
    org.require_staff_totp = required
    stamp_history(org, actor)
    org.save(update_fields=["require_staff_totp", "updated_at"])
    record_event(
        actor=actor,
        verb="org.totp_policy",
        target=org,
        organization=org,
        data={"require_staff_totp": required},
    )
    return org
