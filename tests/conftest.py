"""Shared fixtures: a small world of two counties and the personas who use it.

County A (甲县) has a township, a home village branch and an external branch in Beijing;
county B (乙县) has a branch of its own. Members:
- ``m_away``: home village of A, away in Beijing, takes part in A's Beijing branch;
- ``m_local``: home village of A, at home;
- ``m_other``: county B.
Personas: county admin of A, home-village secretary, host-branch secretary (Beijing), a
secretary of county B, the member ``m_away`` signed in by phone, and anonymous.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from yanxing.access.models import Grant
from yanxing.accounts.models import User
from yanxing.members import services as member_services
from yanxing.members.models import Member
from yanxing.orgs import services as org_services
from yanxing.orgs.models import Organization, OrgKind
from yanxing.regions.models import Division

PASSWORD = "Correct-horse-9"

# Synthetic identity numbers (valid checksums, generated, belonging to no one).
ID_AWAY = "140822199003150711"
ID_LOCAL = "140822198507220029"
ID_OTHER = "510521199211300514"
PHONE_AWAY = "13912340001"
PHONE_LOCAL = "13912340002"
PHONE_OTHER = "13912340003"

DIVISIONS = [
    ("110000000000", "110000", "北京市", "北京市", 1, None),
    ("110100000000", "110100", "市辖区", "北京市市辖区", 2, "110000000000"),
    ("140000000000", "140000", "山西省", "山西省", 1, None),
    ("140800000000", "140800", "运城市", "山西省运城市", 2, "140000000000"),
    ("140822000000", "140822", "万荣县", "山西省运城市万荣县", 3, "140800000000"),
    ("140822100000", "", "解店镇", "山西省运城市万荣县解店镇", 4, "140822000000"),
    ("140822100201", "", "城西村委会", "山西省运城市万荣县解店镇城西村委会", 5, "140822100000"),
    ("440000000000", "440000", "广东省", "广东省", 1, None),
    ("441900000000", "441900", "东莞市", "广东省东莞市", 2, "440000000000"),
    ("510000000000", "510000", "四川省", "四川省", 1, None),
    ("510500000000", "510500", "泸州市", "四川省泸州市", 2, "510000000000"),
    ("510521000000", "510521", "泸县", "四川省泸州市泸县", 3, "510500000000"),
]


@dataclass
class World:
    county: Organization
    township: Organization
    village: Organization
    host: Organization
    other_county: Organization
    other_branch: Organization
    m_away: Member
    m_local: Member
    m_other: Member
    county_admin: User
    home_secretary: User
    host_secretary: User
    other_secretary: User
    member_user: User

    def persona(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


def make_divisions() -> None:
    for code, gb, name, full, level, parent in DIVISIONS:
        Division.objects.update_or_create(
            code=code,
            defaults={
                "gb_code": gb,
                "name": name,
                "full_name": full,
                "level": level,
                "parent_id": parent,
            },
        )


def staff(username: str, role: str, org: Organization) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username)
    Grant.objects.create(user=user, role=role, organization=org)
    return user


def build_world() -> World:
    make_divisions()
    div = Division.objects.get
    county = org_services.create_organization(
        actor=None,
        name="甲县委组织部",
        kind=OrgKind.COUNTY_DEPARTMENT,
        parent=None,
        division=div(code="140822000000"),
    )
    county_admin = staff("county_admin", "county_admin", county)
    township = org_services.create_organization(
        actor=county_admin,
        name="解店镇党委",
        kind=OrgKind.PARTY_COMMITTEE,
        parent=county,
        division=div(code="140822100000"),
    )
    village = org_services.create_organization(
        actor=county_admin,
        name="城西村党支部",
        kind=OrgKind.FORMAL_BRANCH,
        parent=township,
        division=div(code="140822100201"),
    )
    host = org_services.create_organization(
        actor=county_admin,
        name="甲县驻北京流动党员党支部",
        kind=OrgKind.FORMAL_BRANCH,
        parent=county,
        is_external=True,
        host_division=div(code="110100000000"),
    )
    other_county = org_services.create_organization(
        actor=None,
        name="乙县委组织部",
        kind=OrgKind.COUNTY_DEPARTMENT,
        parent=None,
        division=div(code="510521000000"),
    )
    other_admin = staff("other_admin", "county_admin", other_county)
    other_branch = org_services.create_organization(
        actor=other_admin,
        name="乙县驻东莞党支部",
        kind=OrgKind.FORMAL_BRANCH,
        parent=other_county,
        is_external=True,
        host_division=div(code="441900000000"),
    )
    home_secretary = staff("home_secretary", "branch_secretary", village)
    host_secretary = staff("host_secretary", "branch_secretary", host)
    other_secretary = staff("other_secretary", "branch_secretary", other_branch)
    m_away, _ = member_services.create_member(
        actor=county_admin,
        home_org=village,
        name="王建国",
        id_number=ID_AWAY,
        phone=PHONE_AWAY,
        mobility_status="away",
        destination=div(code="110100000000"),
        employer="建工集团第三项目部",
    )
    member_services.add_participation(
        actor=county_admin, member=m_away, organization=host, started_on=dt.date(2024, 3, 1)
    )
    m_local, _ = member_services.create_member(
        actor=county_admin,
        home_org=village,
        name="李秀英",
        id_number=ID_LOCAL,
        phone=PHONE_LOCAL,
    )
    m_other, _ = member_services.create_member(
        actor=other_admin,
        home_org=other_branch,
        name="毛正伦",
        id_number=ID_OTHER,
        phone=PHONE_OTHER,
        mobility_status="away",
        destination=div(code="441900000000"),
    )
    member_user = User.objects.create(
        username="member_away", kind=User.Kind.MEMBER, member=m_away, display_name="王建国"
    )
    return World(
        county=county,
        township=township,
        village=village,
        host=host,
        other_county=other_county,
        other_branch=other_branch,
        m_away=m_away,
        m_local=m_local,
        m_other=m_other,
        county_admin=county_admin,
        home_secretary=home_secretary,
        host_secretary=host_secretary,
        other_secretary=other_secretary,
        member_user=member_user,
    )


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def client_for(world: World):
    """client_for("host_secretary") → a Client signed in as that persona (anonymous: not signed in)."""

    def make(name: str) -> Client:
        client = Client()
        user = world.persona(name)
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


PERSONAS = [
    "county_admin",
    "home_secretary",
    "host_secretary",
    "other_secretary",
    "member_user",
    "anonymous",
]
