"""What confirming a pair changes in the registry, and how to take it back exactly.

Two kinds:
- a host-list row confirmed to be a member: the row's `member` is set, and if the member has
  no active participation in the list's organization, one is added (through the member
  services, which check the actor may change both ends);
- a member record on the host side confirmed to be the same person as a home-ledger member
  (two registry records of one person): the duplicate's participations, host-list rows and
  portal account move to the survivor, the survivor's empty fields are filled from the
  duplicate, and the duplicate is deactivated.

Each writes a `Merge` holding the values before and after (encrypted: they may include ID and
phone numbers). Undo puts the previous values back, and refuses when a record was changed
since the merge (it would otherwise overwrite that change).

Called from the decision services inside their transaction; these functions check the
member-level permissions, the callers check the run-level ones.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db.models import Field
from django.utils import timezone

from yanxing.accounts.models import User
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.core.models import stamp_history
from yanxing.ledgers.models import HostRecord
from yanxing.members import services as member_services
from yanxing.members.choices import Wish
from yanxing.members.models import Member, Participation

from ..models import Merge, RunPair, RunRecord

#: Fields filled on the survivor when empty there, each with the columns that travel with it.
FILL_GROUPS: list[tuple[str, list[str]]] = [
    ("id_number", ["id_number", "id_hash", "id_masked", "sex", "birth_date"]),
    ("phone", ["phone", "phone_hash", "phone_masked"]),
    ("sex", ["sex"]),
    ("birth_date", ["birth_date"]),
    ("joined_on", ["joined_on"]),
    ("home_division", ["home_division_id"]),
    ("destination", ["destination_id"]),
    ("destination_detail", ["destination_detail"]),
    ("left_on", ["left_on"]),
    ("employer", ["employer"]),
    ("industry", ["industry"]),
    ("last_contact_on", ["last_contact_on"]),
    ("sensitive_notes", ["sensitive_notes"]),
]
WISH_FIELDS = ["wish_return_business", "wish_village_cadre"]
#: The ID number is unique in the registry: moving it empties it on the duplicate.
MOVED_WITH_ID = ["id_number", "id_hash", "id_masked"]
MERGE_NOTE = "双向对账确认"


def _field(attname: str) -> Field[Any, Any]:
    for model_field in Member._meta.concrete_fields:
        if model_field.attname == attname:
            return model_field
    raise KeyError(attname)


def _dump(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def snapshot(member: Member, attnames: list[str]) -> dict[str, Any]:
    return {name: _dump(getattr(member, name)) for name in attnames}


def _restore(member: Member, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(member, name, _field(name).to_python(value))


def _is_empty(member: Member, name: str) -> bool:
    value = getattr(member, _field_attname(name))
    return value in (None, "")


def _field_attname(name: str) -> str:
    return Member._meta.get_field(name).attname  # type: ignore[union-attr]


def _changed_since(member: Member, expected: dict[str, Any]) -> list[str]:
    return [name for name, value in expected.items() if _dump(getattr(member, name)) != value]


def _stale() -> BusinessRuleError:
    return BusinessRuleError(
        "合并后相关记录已被修改，不能自动撤销，请在党员档案中手工更正。"
        " / The records changed after the merge; undo it by hand."
    )


# --------------------------------------------------------------------------------------------
# Host-list row → member
# --------------------------------------------------------------------------------------------


def link_host_record(*, actor: Any, pair: RunPair, member: Member, record_id: int) -> Merge | None:
    record = HostRecord.objects.select_for_update().select_related("organization").get(pk=record_id)
    member = member_services.lock_changeable(actor, member)
    if record.member_id not in (None, member.pk):
        raise BusinessRuleError(
            "该名单记录已确认为另一名党员，请先在对应的对账中撤销。"
            " / This list row was confirmed to be another member."
        )
    has_participation = Participation.objects.filter(
        member=member, organization=record.organization, ended_on__isnull=True
    ).exists()
    if record.member_id == member.pk and has_participation:
        return None  # nothing to change
    before = {"member_id": record.member_id}
    record.member = member
    record.save(update_fields=["member", "updated_at"])
    created = None
    if not has_participation:
        created = member_services.add_participation(
            actor=actor,
            member=member,
            organization=record.organization,
            started_on=record.reported_on or timezone.localdate(),
            note=MERGE_NOTE,
        )
    undo = {
        "host_record": {"id": record.pk, "before": before, "after": {"member_id": member.pk}},
        "participation_added": created.pk if created else None,
    }
    return Merge.objects.create(
        run=pair.run,
        pair=pair,
        kind=Merge.Kind.HOST_RECORD,
        survivor=member,
        host_record=record,
        summary={
            "host_record": record.name,
            "organization": record.organization.name,
            "participation_added": created is not None,
        },
        undo_data=json.dumps(undo, ensure_ascii=False),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def _undo_host_record(actor: Any, merge: Merge, undo: dict[str, Any]) -> None:
    info = undo["host_record"]
    record = HostRecord.objects.select_for_update().get(pk=info["id"])
    survivor = member_services.lock_changeable(actor, merge.survivor)
    created = None
    if undo["participation_added"]:
        created = (
            Participation.objects.select_for_update()
            .filter(pk=undo["participation_added"], member=survivor, ended_on__isnull=True)
            .first()
        )
        if created is None:
            raise _stale()
    if record.member_id != info["after"]["member_id"]:
        raise _stale()
    record.member_id = info["before"]["member_id"]
    record.save(update_fields=["member", "updated_at"])
    if created is not None:
        stamp_history(created, actor, MERGE_NOTE)
        created.delete()


# --------------------------------------------------------------------------------------------
# Two member records of one person
# --------------------------------------------------------------------------------------------


def merge_members(*, actor: Any, pair: RunPair, survivor: Member, duplicate: Member) -> Merge:
    if survivor.pk == duplicate.pk:
        raise BusinessRuleError("两条记录是同一档案。 / Both rows are the same record.")
    # Lock in id order so that two merges of the same two records cannot deadlock.
    first, second = sorted([survivor, duplicate], key=lambda m: m.pk)
    locked = {m.pk: member_services.lock_changeable(actor, m) for m in (first, second)}
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if not duplicate.is_active or not survivor.is_active:
        raise BusinessRuleError("该党员档案已停用（可能已合并）。 / A record is already inactive.")

    survivor_before: dict[str, Any] = {}
    duplicate_before: dict[str, Any] = {"is_active": True}
    filled: list[str] = []
    for trigger, columns in FILL_GROUPS:
        if not _is_empty(survivor, trigger) or _is_empty(duplicate, trigger):
            continue
        survivor_before.update(snapshot(survivor, [c for c in columns if c not in survivor_before]))
        for column in columns:
            setattr(survivor, column, getattr(duplicate, column))
        if trigger == "id_number":
            duplicate_before.update(snapshot(duplicate, MOVED_WITH_ID))
            for column in MOVED_WITH_ID:
                setattr(duplicate, column, "")
        filled.append(trigger)
    for name in WISH_FIELDS:
        if getattr(survivor, name) == Wish.UNKNOWN and getattr(duplicate, name) != Wish.UNKNOWN:
            survivor_before.update(snapshot(survivor, [name]))
            setattr(survivor, name, getattr(duplicate, name))
            filled.append(name)
    duplicate.is_active = False

    # The duplicate first: it may give up the (unique) ID number the survivor takes.
    stamp_history(duplicate, actor, f"{MERGE_NOTE}：并入 {survivor.name}（#{survivor.pk}）")
    duplicate.save()
    stamp_history(survivor, actor, f"{MERGE_NOTE}：并入 #{duplicate.pk}")
    survivor.save()

    moved: list[int] = []
    ended: list[int] = []
    today = timezone.localdate()
    survivor_active = set(
        Participation.objects.filter(member=survivor, ended_on__isnull=True).values_list(
            "organization_id", flat=True
        )
    )
    for participation in Participation.objects.select_for_update().filter(member=duplicate):
        if participation.ended_on is None and participation.organization_id in survivor_active:
            participation.ended_on = today
            ended.append(participation.pk)
        else:
            participation.member = survivor
            moved.append(participation.pk)
        stamp_history(participation, actor, MERGE_NOTE)
        participation.save()
    records = list(
        HostRecord.objects.select_for_update().filter(member=duplicate).values_list("pk", flat=True)
    )
    HostRecord.objects.filter(pk__in=records).update(member=survivor, updated_at=timezone.now())
    account = User.objects.filter(member=duplicate).first()
    account_moved = account is not None and not User.objects.filter(member=survivor).exists()
    if account is not None and account_moved:
        account.member = survivor
        account.save(update_fields=["member"])

    undo = {
        "survivor": {
            "id": survivor.pk,
            "before": survivor_before,
            "after": snapshot(survivor, list(survivor_before)),
        },
        "duplicate": {
            "id": duplicate.pk,
            "before": duplicate_before,
            "after": snapshot(duplicate, list(duplicate_before)),
        },
        "participations_moved": moved,
        "participations_ended": ended,
        "host_records": records,
        "account": account.pk if account is not None and account_moved else None,
    }
    return Merge.objects.create(
        run=pair.run,
        pair=pair,
        kind=Merge.Kind.MEMBER,
        survivor=survivor,
        duplicate=duplicate,
        summary={
            "filled": filled,
            "participations_moved": len(moved),
            "participations_ended": len(ended),
            "host_records": len(records),
            "account_moved": bool(undo["account"]),
        },
        undo_data=json.dumps(undo, ensure_ascii=False),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def _undo_members(actor: Any, merge: Merge, undo: dict[str, Any]) -> None:
    assert merge.duplicate is not None
    first, second = sorted([merge.survivor, merge.duplicate], key=lambda m: m.pk)
    locked = {m.pk: member_services.lock_changeable(actor, m) for m in (first, second)}
    survivor, duplicate = locked[merge.survivor_id], locked[merge.duplicate.pk]
    if _changed_since(survivor, undo["survivor"]["after"]) or _changed_since(
        duplicate, undo["duplicate"]["after"]
    ):
        raise _stale()
    moved = list(
        Participation.objects.select_for_update().filter(pk__in=undo["participations_moved"])
    )
    ended = list(
        Participation.objects.select_for_update().filter(pk__in=undo["participations_ended"])
    )
    if any(p.member_id != survivor.pk for p in moved) or len(moved) != len(
        undo["participations_moved"]
    ):
        raise _stale()
    if any(p.member_id != duplicate.pk for p in ended) or len(ended) != len(
        undo["participations_ended"]
    ):
        raise _stale()
    # The survivor first: it gives the ID number back.
    _restore(survivor, undo["survivor"]["before"])
    stamp_history(survivor, actor, f"撤销合并 #{merge.pk}")
    survivor.save()
    _restore(duplicate, undo["duplicate"]["before"])
    stamp_history(duplicate, actor, f"撤销合并 #{merge.pk}")
    duplicate.save()
    for participation in moved:
        participation.member = duplicate
        stamp_history(participation, actor, f"撤销合并 #{merge.pk}")
        participation.save()
    for participation in ended:
        participation.ended_on = None
        stamp_history(participation, actor, f"撤销合并 #{merge.pk}")
        participation.save()
    HostRecord.objects.filter(pk__in=undo["host_records"], member=survivor).update(
        member=duplicate, updated_at=timezone.now()
    )
    if undo["account"]:
        User.objects.filter(pk=undo["account"], member=survivor).update(member=duplicate)


# --------------------------------------------------------------------------------------------


def apply_for_pair(*, actor: Any, pair: RunPair) -> Merge | None:
    """Make the registry say what the confirmed pair says; None when it already does.

    The caller has checked that the actor decides for the run; when the registry changes need
    more (members.change over both records and the host organization), the refusal is a
    message, not a 404: the actor sees the pair."""
    try:
        return _apply(actor, pair)
    except OutOfScope as exc:
        raise BusinessRuleError(
            "确认这对记录需要修改两端的党员档案或在流入地党组织登记组织生活，"
            "请由同时管理两端的工作人员（如县委组织部）确认。"
            " / Confirming this pair changes records on both sides: ask staff who manage both."
        ) from exc


def _apply(actor: Any, pair: RunPair) -> Merge | None:
    left: RunRecord = pair.left
    right: RunRecord = pair.right
    if left.member_id is None:
        raise BusinessRuleError("流出地档案已不存在。 / The home record no longer exists.")
    survivor = Member.objects.get(pk=left.member_id)
    if right.source == RunRecord.Source.HOST_LIST:
        if right.host_record_id is None:
            raise BusinessRuleError("名单记录已不存在。 / The list row no longer exists.")
        return link_host_record(
            actor=actor, pair=pair, member=survivor, record_id=right.host_record_id
        )
    if right.member_id is None:
        raise BusinessRuleError("流入地档案已不存在。 / The host-side record no longer exists.")
    return merge_members(
        actor=actor, pair=pair, survivor=survivor, duplicate=Member.objects.get(pk=right.member_id)
    )


def undo(*, actor: Any, merge: Merge) -> None:
    data = json.loads(merge.undo_data)
    try:
        if merge.kind == Merge.Kind.HOST_RECORD:
            _undo_host_record(actor, merge, data)
        else:
            _undo_members(actor, merge, data)
    except OutOfScope as exc:
        raise BusinessRuleError(
            "撤销需要修改两端的党员档案，请由同时管理两端的工作人员撤销。"
            " / Undoing changes records on both sides: ask staff who manage both."
        ) from exc
