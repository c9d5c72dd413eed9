"""What a checked ledger does to the data: a plan (new, changed, unchanged, failed rows), then
its application. Planning only reads; applying writes and runs inside the caller's one
transaction. An unchanged row writes nothing at all, so importing the same file twice
changes nothing the second time.

Members go through the member services (create_member / update_member), which keep their own
rules and audit; host lists (HostRecord) are written here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.utils import timezone

from yanxing.access.roles import Action
from yanxing.core import idnumber
from yanxing.core.crypto import blind_index
from yanxing.core.exceptions import OutOfScope
from yanxing.core.masking import mask_id_number, mask_phone
from yanxing.members import services as member_services
from yanxing.members.models import Member
from yanxing.orgs.models import Organization

from .cleaning import CleanRow
from .kinds import HOST_ROSTER, MEMBERS, LedgerKind
from .models import HostRecord

Report = Callable[[int], None]
CHUNK = 500
#: Keyed hash of name and phone: the key of a host-list row without an ID number.
NAME_PHONE_PURPOSE = "host_record.name_phone"


@dataclass
class Planned:
    row: CleanRow
    action: str  # "create", "update" or "unchanged"
    fields: dict[str, Any] = field(default_factory=dict)
    target: Any = None


@dataclass
class Plan:
    items: list[Planned] = field(default_factory=list)
    failed: list[CleanRow] = field(default_factory=list)
    deactivate: list[int] = field(default_factory=list)
    #: host lists: records not in the file are left alone because some rows failed.
    deactivation_skipped: bool = False

    def count(self, action: str) -> int:
        return sum(1 for item in self.items if item.action == action)


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    failed: list[CleanRow] = field(default_factory=list)


class Importer(Protocol):
    def plan(self, rows: list[CleanRow]) -> Plan: ...

    def apply(self, plan: Plan, report: Report) -> Outcome: ...


def importer_for(
    kind: LedgerKind, *, actor: Any, organization: Organization, full_list: bool
) -> Importer:
    if kind is MEMBERS:
        return MemberImporter(actor=actor, organization=organization)
    return HostRosterImporter(organization=organization, full_list=full_list)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _apply_counts(plan: Plan, outcome: Outcome) -> None:
    outcome.unchanged = plan.count("unchanged")
    outcome.failed = list(plan.failed)


# --------------------------------------------------------------------------------------------
# 党员信息台账 → Member, through the member services
# --------------------------------------------------------------------------------------------

MEMBER_FIELDS = (
    "name",
    "phone",
    "category",
    "joined_on",
    "home_division",
    "mobility_status",
    "destination",
    "left_on",
    "employer",
    "industry",
    "wish_return_business",
    "wish_village_cadre",
)
RELATED = {"home_division", "destination"}
AWAY_ONLY = ("destination", "left_on")


class MemberImporter:
    def __init__(self, *, actor: Any, organization: Organization) -> None:
        self.actor = actor
        self.organization = organization

    def plan(self, rows: list[CleanRow]) -> Plan:
        plan = Plan()
        seen: dict[str, int] = {}
        keyed: list[tuple[CleanRow, str]] = []
        for row in rows:
            if not row.ok:
                plan.failed.append(row)
                continue
            check: idnumber.IdCheck = row.values["id_number"]
            key = member_services.id_hash(check.number)
            if key in seen:
                row.add(MEMBERS.column("id_number"), "duplicate_in_file", line=seen[key])
                plan.failed.append(row)
                continue
            seen[key] = row.line
            keyed.append((row, key))
        existing: dict[str, Member] = {}
        for chunk in _chunks([key for _, key in keyed]):
            for member in Member.objects.filter(id_hash__in=chunk).select_related("home_org"):
                existing[member.id_hash] = member
        for row, key in keyed:
            member = existing.get(key)
            if member is not None and member.home_org_id != self.organization.pk:
                self._elsewhere(row, member)
                plan.failed.append(row)
                continue
            fields = self._fields(row, member)
            if member is None:
                plan.items.append(Planned(row, "create", fields))
                continue
            changes = {k: v for k, v in fields.items() if _differs(member, k, v)}
            action = "update" if changes else "unchanged"
            plan.items.append(Planned(row, action, changes, member))
        return plan

    def _elsewhere(self, row: CleanRow, member: Member) -> None:
        column = MEMBERS.column("id_number")
        visible = Member.objects.visible_to(self.actor, Action.MEMBERS_VIEW).filter(pk=member.pk)
        if visible.exists():
            row.add(column, "member_other_org", org=member.home_org.name)
        else:
            row.add(column, "member_elsewhere")

    @staticmethod
    def _fields(row: CleanRow, member: Member | None) -> dict[str, Any]:
        """What the row sets. Empty cells set nothing: a new member gets the defaults, an
        existing one keeps its values."""
        fields = {key: row.values[key] for key in MEMBER_FIELDS if key in row.values}
        status = fields.get("mobility_status", member.mobility_status if member else "local")
        if status == "local":
            # The member services clear these for members at home; importing them anyway
            # would report a change on every re-import.
            for key in AWAY_ONLY:
                if fields.pop(key, None) is not None:
                    row.warn(MEMBERS.column(key), "local_ignores_away")
        if member is None:
            fields["id_number"] = row.values["id_number"].number
        return fields

    def apply(self, plan: Plan, report: Report) -> Outcome:
        outcome = Outcome()
        _apply_counts(plan, outcome)
        for done, item in enumerate(plan.items, 1):
            try:
                if item.action == "create":
                    member_services.create_member(
                        actor=self.actor, home_org=self.organization, **item.fields
                    )
                    outcome.created += 1
                elif item.action == "update":
                    member_services.update_member(
                        actor=self.actor, member=item.target, **item.fields
                    )
                    outcome.updated += 1
            except ValidationError as exc:
                # The service refused this row (its savepoint is rolled back); the others stay.
                _add_service_errors(item.row, exc)
                outcome.failed.append(item.row)
            except OutOfScope:
                # The member moved out of the actor's reach since the plan was made.
                item.row.add(MEMBERS.column("id_number"), "member_out_of_reach")
                outcome.failed.append(item.row)
            report(done)
        return outcome


def _differs(member: Member, key: str, value: Any) -> bool:
    if key in RELATED:
        return bool(getattr(member, f"{key}_id") != (value.pk if value is not None else None))
    return bool(getattr(member, key) != value)


def _add_service_errors(row: CleanRow, exc: ValidationError) -> None:
    columns = {column.key: column for column in MEMBERS.columns}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                for message in error.messages:
                    row.add(columns.get(name), text=message)
    else:
        for message in exc.messages:
            row.add(None, text=message)


# --------------------------------------------------------------------------------------------
# 流入党员名单 → HostRecord
# --------------------------------------------------------------------------------------------

HOST_FIELDS = (
    "name",
    "id_number",
    "id_hash",
    "id_masked",
    "phone",
    "phone_hash",
    "phone_masked",
    "sex",
    "birth_date",
    "home_village",
    "city",
    "employer",
    "reported_on",
    "is_active",
)


def host_record_values(values: dict[str, Any]) -> dict[str, Any]:
    """A host-list row as HostRecord fields. The list replaces what was there: an empty cell
    clears the field."""
    check = values.get("id_number")
    number = check.number if isinstance(check, idnumber.IdCheck) else ""
    phone = values.get("phone", "")
    return {
        "name": values["name"],
        "id_number": number,
        # The registry's own blind indexes, so that a reconciliation can join on them.
        "id_hash": member_services.id_hash(number) if number else "",
        "id_masked": mask_id_number(number),
        "phone": phone,
        "phone_hash": member_services.phone_hash(phone) if phone else "",
        "phone_masked": mask_phone(phone),
        "sex": values.get("sex", ""),
        "birth_date": values.get("birth_date"),
        "home_village": values.get("home_village", ""),
        "city": values.get("city", ""),
        "employer": values.get("employer", ""),
        "reported_on": values.get("reported_on"),
        "is_active": True,
    }


def record_key(fields: dict[str, Any]) -> str:
    if fields["id_hash"]:
        return str(fields["id_hash"])
    return blind_index(f"{fields['name']}|{fields['phone']}", NAME_PHONE_PURPOSE)


class HostRosterImporter:
    def __init__(self, *, organization: Organization, full_list: bool) -> None:
        self.organization = organization
        self.full_list = full_list

    def plan(self, rows: list[CleanRow]) -> Plan:
        plan = Plan()
        existing = {
            r.record_key: r for r in HostRecord.objects.filter(organization=self.organization)
        }
        seen: dict[str, int] = {}
        for row in rows:
            if not row.ok:
                plan.failed.append(row)
                continue
            fields = host_record_values(row.values)
            key = record_key(fields)
            if key in seen:
                column = "id_number" if fields["id_hash"] else "phone"
                row.add(HOST_ROSTER.column(column), "duplicate_in_file", line=seen[key])
                plan.failed.append(row)
                continue
            seen[key] = row.line
            record = existing.get(key)
            if record is None:
                plan.items.append(Planned(row, "create", {**fields, "record_key": key}))
                continue
            changes = {k: v for k, v in fields.items() if getattr(record, k) != v}
            plan.items.append(Planned(row, "update" if changes else "unchanged", changes, record))
        if self.full_list:
            if plan.failed:
                plan.deactivation_skipped = True
            else:
                plan.deactivate = [
                    r.pk for key, r in existing.items() if r.is_active and key not in seen
                ]
        return plan

    def apply(self, plan: Plan, report: Report) -> Outcome:
        outcome = Outcome()
        _apply_counts(plan, outcome)
        now = timezone.now()
        new: list[HostRecord] = []
        changed: list[HostRecord] = []
        for done, item in enumerate(plan.items, 1):
            if item.action == "create":
                new.append(HostRecord(organization=self.organization, **item.fields))
            elif item.action == "update":
                record: HostRecord = item.target
                for name, value in item.fields.items():
                    setattr(record, name, value)
                record.updated_at = now
                changed.append(record)
            if done % CHUNK == 0:
                self._flush(new, changed)
                new, changed = [], []
            report(done)
        self._flush(new, changed)
        outcome.created = plan.count("create")
        outcome.updated = plan.count("update")
        if plan.deactivate:
            outcome.deactivated = HostRecord.objects.filter(
                pk__in=plan.deactivate, organization=self.organization
            ).update(is_active=False, updated_at=now)
        return outcome

    @staticmethod
    def _flush(new: list[HostRecord], changed: list[HostRecord]) -> None:
        if new:
            HostRecord.objects.bulk_create(new)
        if changed:
            HostRecord.objects.bulk_update(changed, [*HOST_FIELDS, "updated_at"])
