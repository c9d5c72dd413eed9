"""Every write to the member registry. Keyword-only, an actor, one transaction, an audit event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.audit.services import record_access, record_event
from yanxing.core import idnumber
from yanxing.core.crypto import blind_index
from yanxing.core.exceptions import BusinessRuleError, OutOfScope, ValidationError
from yanxing.core.masking import mask_id_number, mask_phone
from yanxing.core.models import stamp_history
from yanxing.orgs.models import Organization
from yanxing.regions.selectors import region_status

from .choices import ContactState, MobilityStatus
from .models import SENSITIVE_FIELDS, Member, Participation
from .normalize import name_initials, name_pinyin, normalize_name, normalize_phone, phone_error

ID_PURPOSE = "member.id_number"
PHONE_PURPOSE = "member.phone"

EDITABLE_FIELDS = {
    "name",
    "id_number",
    "phone",
    "category",
    "joined_on",
    "home_division",
    "mobility_status",
    "destination",
    "destination_detail",
    "left_on",
    "employer",
    "industry",
    "wish_return_business",
    "wish_village_cadre",
    "sensitive_notes",
}


def id_hash(number: str) -> str:
    return blind_index(idnumber.normalize(number), ID_PURPOSE)


def phone_hash(phone: str) -> str:
    return blind_index(normalize_phone(phone), PHONE_PURPOSE)


def check_id_number(raw: str) -> idnumber.IdCheck:
    """Validate an ID number against GB 11643 and the loaded divisions; raise on errors."""
    result = idnumber.validate(raw, region_status=region_status)
    if result.errors:
        raise ValidationError({"id_number": result.errors})
    return result


def _apply_identity(member: Member, warnings: list[str]) -> None:
    member.name = normalize_name(member.name)
    if not member.name:
        raise ValidationError({"name": "请填写姓名。 / Name is required."})
    member.name_pinyin = name_pinyin(member.name)
    member.name_initials = name_initials(member.name)
    if member.id_number:
        check = check_id_number(member.id_number)
        warnings.extend(check.warnings)
        member.id_number = check.number
        member.id_hash = id_hash(check.number)
        member.id_masked = mask_id_number(check.number)
        member.birth_date = check.birth_date
        member.sex = check.sex
    else:
        member.id_hash = member.id_masked = ""
    member.phone = normalize_phone(member.phone)
    error = phone_error(member.phone)
    if error:
        raise ValidationError({"phone": error})
    member.phone_hash = phone_hash(member.phone) if member.phone else ""
    member.phone_masked = mask_phone(member.phone)
    if member.mobility_status == MobilityStatus.LOCAL:
        member.destination = None
        member.destination_detail = ""
        member.left_on = None


def _save_unique(member: Member, actor: Any) -> None:
    try:
        with transaction.atomic():
            stamp_history(member, actor)
            member.save()
    except IntegrityError as exc:
        raise ValidationError(
            {
                "id_number": "该身份证号已登记在册（可能由其他党组织登记）。 / This ID number is already registered."
            }
        ) from exc


def _require_home(actor: Any, org: Organization) -> None:
    if not can(actor, Action.MEMBERS_CHANGE, org.path):
        raise OutOfScope()
    if not org.is_active:
        raise BusinessRuleError("该党组织已撤销。 / That organization is closed.")
    if not org.holds_membership:
        raise BusinessRuleError(
            f"{org.get_kind_display()}不能接收组织关系，请选择建制型党支部等。"
            " / This kind of organization cannot hold membership relations."
        )


def lock_changeable(actor: Any, member: Member) -> Member:
    """Lock the member's row for this transaction; OutOfScope unless the actor may change it."""
    locked = Member.objects.select_for_update().select_related("home_org").get(pk=member.pk)
    if not Member.objects.visible_to(actor, Action.MEMBERS_CHANGE).filter(pk=member.pk).exists():
        raise OutOfScope()
    return locked


@transaction.atomic
def create_member(*, actor: Any, home_org: Organization, **fields: Any) -> tuple[Member, list[str]]:
    """Register a member. Returns the member and warnings (e.g. a retired region code)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise BusinessRuleError(f"未知字段 / unknown fields: {', '.join(sorted(unknown))}")
    home_org = Organization.objects.select_for_update().get(pk=home_org.pk)
    _require_home(actor, home_org)
    member = Member(home_org=home_org, **fields)
    warnings: list[str] = []
    _apply_identity(member, warnings)
    _save_unique(member, actor)
    record_event(
        actor=actor,
        verb="member.created",
        target=member,
        organization=home_org,
        summary=f"登记党员 {member.name}",
    )
    return member, warnings


@transaction.atomic
def update_member(*, actor: Any, member: Member, **changes: Any) -> tuple[Member, list[str]]:
    member = lock_changeable(actor, member)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise BusinessRuleError(f"未知字段 / unknown fields: {', '.join(sorted(unknown))}")
    touching_sensitive = {"id_number", "sensitive_notes"} & set(changes)
    if touching_sensitive and not can(actor, Action.MEMBERS_VIEW_SENSITIVE, member.home_org.path):
        raise BusinessRuleError(
            "无权修改身份证号或敏感备注。 / Not allowed to change sensitive fields."
        )
    before = {name: getattr(member, name) for name in changes}
    for name, value in changes.items():
        setattr(member, name, value)
    warnings: list[str] = []
    _apply_identity(member, warnings)
    _save_unique(member, actor)
    changed = sorted(k for k in changes if before[k] != getattr(member, k))
    if changed:
        record_event(
            actor=actor,
            verb="member.updated",
            target=member,
            organization=member.home_org,
            data={"fields": changed},
        )
        if "employer" in changed or "destination" in changed:
            record_event(
                actor=actor,
                verb="member.whereabouts_changed",
                target=member,
                organization=member.home_org,
                data={"employer": member.employer, "destination": member.destination_id},
            )
    return member, warnings


@transaction.atomic
def add_participation(
    *, actor: Any, member: Member, organization: Organization, started_on: dt.date, note: str = ""
) -> Participation:
    member = Member.objects.select_for_update().get(pk=member.pk)
    # Both ends must be the actor's: the member's record and the organization that hosts them.
    if not Member.objects.visible_to(actor, Action.MEMBERS_CHANGE).filter(pk=member.pk).exists():
        raise OutOfScope()
    if not can(actor, Action.MEMBERS_CHANGE, organization.path):
        raise OutOfScope()
    if not organization.is_active:
        raise BusinessRuleError("该党组织已撤销。 / That organization is closed.")
    if Participation.objects.filter(
        member=member, organization=organization, ended_on__isnull=True
    ).exists():
        raise BusinessRuleError("该党员已在此组织参加组织生活。 / Already taking part there.")
    participation = Participation(
        member=member, organization=organization, started_on=started_on, note=note
    )
    stamp_history(participation, actor)
    participation.save()
    record_event(
        actor=actor,
        verb="member.participation_added",
        target=member,
        organization=organization,
        summary=f"{member.name} 参加 {organization.name} 组织生活",
    )
    return participation


@transaction.atomic
def end_participation(
    *, actor: Any, participation: Participation, ended_on: dt.date
) -> Participation:
    participation = (
        Participation.objects.select_for_update()
        .select_related("organization", "member")
        .get(pk=participation.pk)
    )
    # The home side (the member's home organization) or the host side (the organization
    # whose life the member takes part in) may end it; a third organization may not.
    member = (
        Member.objects.visible_to(actor, Action.MEMBERS_CHANGE)
        .select_related("home_org")
        .filter(pk=participation.member_id)
        .first()
    )
    if member is None or not (
        can(actor, Action.MEMBERS_CHANGE, member.home_org.path)
        or can(actor, Action.MEMBERS_CHANGE, participation.organization.path)
    ):
        raise OutOfScope()
    if participation.ended_on is not None:
        raise BusinessRuleError("该记录已结束。 / Already ended.")
    participation.ended_on = ended_on
    stamp_history(participation, actor)
    participation.save()
    record_event(
        actor=actor,
        verb="member.participation_ended",
        target=participation.member,
        organization=participation.organization,
    )
    return participation


@transaction.atomic
def transfer_membership(*, actor: Any, member: Member, to_org: Organization, reason: str) -> Member:
    """Move the membership relation (组织关系转接) between two organizations the actor manages."""
    member = Member.objects.select_for_update().select_related("home_org").get(pk=member.pk)
    if not can(actor, Action.MEMBERS_CHANGE, member.home_org.path):
        raise OutOfScope()
    _require_home(actor, to_org)
    if to_org.pk == member.home_org_id:
        raise BusinessRuleError("组织关系已在该党组织。 / The membership is already held there.")
    old = member.home_org
    member.home_org = to_org
    stamp_history(member, actor, reason)
    member.save()
    record_event(
        actor=actor,
        verb="member.transferred",
        target=member,
        organization=to_org,
        summary=f"{member.name}：{old.name} → {to_org.name}",
        data={"from": old.pk, "to": to_org.pk, "reason": reason},
    )
    return member


@transaction.atomic
def mark_lost_contact(*, actor: Any, member: Member, since: dt.date, note: str) -> Member:
    member = lock_changeable(actor, member)
    if member.contact_state == ContactState.LOST:
        raise BusinessRuleError("该党员已标记为失联。 / Already marked as lost contact.")
    if not note.strip():
        raise BusinessRuleError("请说明已尝试的联系方式。 / Describe the contact attempts made.")
    member.contact_state = ContactState.LOST
    member.lost_since = since
    member.lost_note = note
    stamp_history(member, actor)
    member.save()
    record_event(
        actor=actor,
        verb="member.marked_lost",
        target=member,
        organization=member.home_org,
        summary=note,
    )
    return member


@transaction.atomic
def restore_contact(*, actor: Any, member: Member, on: dt.date, how: str) -> Member:
    member = lock_changeable(actor, member)
    if member.contact_state != ContactState.LOST:
        raise BusinessRuleError("该党员未处于失联状态。 / The member is not marked as lost.")
    member.contact_state = ContactState.IN_CONTACT
    member.last_contact_on = on
    member.lost_note = ""
    member.lost_since = None
    stamp_history(member, actor)
    member.save()
    record_event(
        actor=actor,
        verb="member.contact_restored",
        target=member,
        organization=member.home_org,
        summary=how,
    )
    return member


@transaction.atomic
def reveal_sensitive(*, actor: Any, member: Member, field: str, ip: str | None = None) -> str:
    """Return the plaintext of one sensitive field and write the access-log entry."""
    if field not in SENSITIVE_FIELDS:
        raise BusinessRuleError("该字段不可查看。 / Unknown field.")
    visible = Member.objects.visible_to(actor, Action.MEMBERS_VIEW_SENSITIVE).select_related(
        "home_org"
    )
    member = visible.filter(pk=member.pk).first()  # type: ignore[assignment]
    # Plain text only where the sensitive action covers the member's home organization: the
    # rule the detail page (can_reveal), the export and update_member apply as well.
    if member is None or not can(actor, Action.MEMBERS_VIEW_SENSITIVE, member.home_org.path):
        raise OutOfScope()
    record_access(
        actor=actor,
        action="reveal",
        fields=[field],
        target=member,
        organization=member.home_org,
        ip=ip,
    )
    return str(getattr(member, field))
