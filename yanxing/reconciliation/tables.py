"""Building a run's two tables from the registry and the host lists.

Left (the home ledger): every active member whose membership is held in the home
organization's subtree and who is away, plus those at home who nevertheless take part in a
chosen host's life (the host side has them; their status disagrees) unless their membership
is held by an external organization (a host's own member). Keyed "m<member id>".

Right (the host ledgers), for each chosen host organization and its subtree:
(a) members with an active participation there ("m<member id>") whose membership is held in
    the home subtree or by a chosen host itself (a host's own record of someone); another
    village's or another county's member is accounted for by that ledger;
(b) active rows of the host's imported list ("h<host record id>"), unless the row was already
    confirmed to be a member held elsewhere.
A row is attributed to the deepest chosen host containing it; the same member taking part in
two chosen hosts gives one row per host.

Rows carry plain identifiers in memory only, for the engine; what is stored is masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from yanxing.core.masking import mask_id_number, mask_phone
from yanxing.core.paths import is_within, subtree_q
from yanxing.ledgers.models import HostRecord
from yanxing.members.choices import ContactState, MobilityStatus
from yanxing.members.models import Member, Participation
from yanxing.orgs.models import Organization
from yanxing.regions.models import Division

SEX_TEXT = {"M": "男", "F": "女"}
#: Home-ledger statuses that disagree with the member being on a host's books (RunRecord.note
#: holds the codes, comma-separated).
NOTE_LOST = "lost"
NOTE_LOCAL = "local"


@dataclass
class Row:
    key: str
    side: str
    source: str
    organization_id: int
    name: str
    id_number: str = ""
    phone: str = ""
    sex: str = ""
    birth_date: str = ""
    home_village: str = ""
    city: str = ""
    employer: str = ""
    member_id: int | None = None
    host_record_id: int | None = None
    #: The member a host-list row was already confirmed to be.
    confirmed_member_id: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def linkage(self) -> dict[str, str]:
        return {
            "record_id": self.key,
            "name": self.name,
            "id_number": self.id_number,
            "phone": self.phone,
            "sex": self.sex,
            "birth_date": self.birth_date,
            "home_village": self.home_village,
            "city": self.city,
            "employer": self.employer,
        }

    def stored(self) -> dict[str, Any]:
        """The fields a RunRecord keeps: identifiers masked."""
        return {
            "side": self.side,
            "key": self.key,
            "source": self.source,
            "organization_id": self.organization_id,
            "member_id": self.member_id,
            "host_record_id": self.host_record_id,
            "name": self.name[:60],
            "id_masked": mask_id_number(self.id_number),
            "phone_masked": mask_phone(self.phone),
            "sex": self.sex,
            "birth_date": self.birth_date,
            "home_village": self.home_village[:255],
            "city": self.city[:100],
            "employer": self.employer[:120],
            "note": self.note,
        }


def village_text(full_name: str) -> str:
    """Shorten "…城西村委会" to "…城西村" ("…五一社区居委会" to "…五一社区"), as people write
    their home village."""
    for suffix, short in (
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
    ):
        if full_name.endswith(suffix):
            stem = full_name[: -len(suffix)]
            return stem if stem.endswith(("村", "社区")) else stem + short
    return full_name


class Cities:
    """City names of divisions ("北京市" for 北京市市辖区), from one query per batch."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def load(self, codes: set[str]) -> None:
        wanted: set[str] = set()
        for code in codes:
            if code and code not in self.names:
                wanted |= {code[:2].ljust(12, "0"), code[:4].ljust(12, "0")}
        found = dict(Division.objects.filter(code__in=wanted).values_list("code", "name"))
        for code in codes:
            if not code or code in self.names:
                continue
            province = found.get(code[:2].ljust(12, "0"), "")
            city = found.get(code[:4].ljust(12, "0"), "")
            if code[2:] == "0" * 10 or not city or city in ("市辖区", "县", "省直辖县级行政区划"):
                self.names[code] = province
            else:
                self.names[code] = city

    def of(self, code: str | None) -> str:
        return self.names.get(code or "", "")


def home_subtree_q(run: Any, field_name: str = "home_org__path") -> Q:
    return subtree_q(field_name, run.home_org.path)


def _member_row(
    member: Member, key_side: str, organization_id: int, city: str, note: str = ""
) -> Row:
    division = member.home_division or member.home_org.division
    return Row(
        key=f"m{member.pk}",
        side=key_side,
        source="member",
        organization_id=organization_id,
        name=member.name,
        id_number=member.id_number,
        phone=member.phone,
        sex=SEX_TEXT.get(member.sex, ""),
        birth_date=member.birth_date.isoformat() if member.birth_date else "",
        home_village=village_text(division.full_name) if division else "",
        city=city,
        employer=member.employer,
        member_id=member.pk,
        note=note,
    )


@dataclass
class Hosts:
    """The run's chosen hosts, deepest first, to attribute a row to the closest one."""

    organizations: list[Organization]

    def owner(self, path: str) -> Organization | None:
        for org in self.organizations:
            if path.startswith(org.path):
                return org
        return None

    def q(self, field_name: str) -> Q:
        query = Q(pk__in=[])
        for org in self.organizations:
            query |= subtree_q(field_name, org.path)
        return query


def hosts_of(run: Any) -> Hosts:
    orgs = [rh.organization for rh in run.run_hosts.select_related("organization")]
    return Hosts(sorted(orgs, key=lambda o: (-o.depth, o.path)))


def home_ledger(run: Any, hosts: Hosts | None = None) -> list[Row]:
    hosts = hosts or hosts_of(run)
    participating = Participation.objects.filter(
        hosts.q("organization__path"), ended_on__isnull=True
    ).values("member_id")
    members = list(
        Member.objects.filter(home_subtree_q(run), is_active=True)
        .filter(
            Q(mobility_status=MobilityStatus.AWAY)
            | (Q(pk__in=participating) & Q(home_org__is_external=False))
        )
        .select_related("home_org__division", "home_division")
        .order_by("pk")
    )
    cities = Cities()
    cities.load({m.destination_id for m in members if m.destination_id})
    rows = []
    for member in members:
        notes = []
        if member.contact_state == ContactState.LOST:
            notes.append(NOTE_LOST)
        if member.mobility_status != MobilityStatus.AWAY:
            notes.append(NOTE_LOCAL)
        rows.append(
            _member_row(
                member,
                "left",
                member.home_org_id,
                cities.of(member.destination_id),
                ",".join(notes),
            )
        )
    return rows


def host_ledgers(run: Any, hosts: Hosts | None = None) -> list[Row]:
    hosts = hosts or hosts_of(run)
    home_path = run.home_org.path
    cities = Cities()
    cities.load({org.host_division_id for org in hosts.organizations if org.host_division_id})
    rows: dict[tuple[str, int], Row] = {}

    # A member held in the home subtree, or by one of the chosen hosts themselves (a host's
    # own record of someone, perhaps a second record of a home-ledger member).
    run_roots = [home_path] + [org.path for org in hosts.organizations]

    def belongs_to_run(member: Member) -> bool:
        return is_within(member.home_org.path, run_roots)

    participations = (
        Participation.objects.filter(hosts.q("organization__path"), ended_on__isnull=True)
        .filter(member__is_active=True)
        .select_related("organization", "member__home_org__division", "member__home_division")
        .order_by("member_id", "pk")
    )
    for participation in participations:
        member = participation.member
        host = hosts.owner(participation.organization.path)
        if host is None or not belongs_to_run(member):
            continue
        row = _member_row(member, "right", host.pk, cities.of(host.host_division_id))
        rows.setdefault((row.key, host.pk), row)

    records = (
        HostRecord.objects.filter(hosts.q("organization__path"), is_active=True)
        .select_related("organization", "member__home_org")
        .order_by("pk")
    )
    for record in records:
        host = hosts.owner(record.organization.path)
        if host is None:
            continue
        if record.member is not None and not belongs_to_run(record.member):
            continue
        row = Row(
            key=f"h{record.pk}",
            side="right",
            source="host_list",
            organization_id=host.pk,
            name=record.name,
            id_number=record.id_number,
            phone=record.phone,
            sex=SEX_TEXT.get(record.sex, ""),
            birth_date=_iso(record.birth_date),
            home_village=record.home_village,
            city=record.city or cities.of(host.host_division_id),
            employer=record.employer,
            host_record_id=record.pk,
            confirmed_member_id=record.member_id,
        )
        rows.setdefault((row.key, host.pk), row)
    return list(rows.values())


def _iso(value: dt.date | None) -> str:
    return value.isoformat() if value else ""
