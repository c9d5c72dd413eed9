"""A demo county modelled on the source articles (万荣县, Shanxi) and a second county (泸县,
Sichuan) to show that counties never see each other's members. Synthetic data only."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from yanxing.access.models import Grant
from yanxing.accounts.models import User
from yanxing.members import services as member_services
from yanxing.members.choices import Category, Industry, MobilityStatus, Wish
from yanxing.orgs import services as org_services
from yanxing.orgs.models import Organization, OrgKind
from yanxing.reconciliation.demo import build_demo
from yanxing.regions.models import Division

from ...synthetic import EMPLOYERS, synthetic_id, synthetic_name, synthetic_phone

DEMO_PASSWORD = "Yanxing-demo-2026"
DEMO_MEMBER_PHONE = "13912340001"
HOME_COUNTY = "140822"  # 山西省运城市万荣县
OTHER_COUNTY = "510521"  # 四川省泸州市泸县

# (city code, name of the external organization, kind, groups)
EXTERNAL = [
    ("1101", "万荣县驻北京流动党员党总支", OrgKind.GENERAL_BRANCH, 0),
    ("1201", "万荣县驻天津流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("1401", "万荣县外出经商务工人员管理服务中心太原党支部", OrgKind.FORMAL_BRANCH, 2),
    ("1301", "万荣县驻石家庄流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("1501", "万荣县驻呼和浩特流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("1506", "万荣县驻鄂尔多斯流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("2101", "万荣县驻沈阳流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("2301", "万荣县驻哈尔滨流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("3101", "万荣县驻上海流动党员党支部", OrgKind.FORMAL_BRANCH, 2),
    ("3201", "万荣县驻南京流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("3205", "万荣县驻苏州流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("3301", "万荣县驻杭州流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("3401", "万荣县驻合肥流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("3501", "万荣县驻福州流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("3702", "万荣县驻青岛流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("3701", "万荣县驻济南流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("4101", "万荣县驻郑州流动党员党支部", OrgKind.FORMAL_BRANCH, 1),
    ("4201", "万荣县驻武汉流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("4301", "万荣县驻长沙流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("4401", "万荣县驻广州流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("4403", "万荣县驻深圳流动党员党支部", OrgKind.FORMAL_BRANCH, 2),
    ("4419", "万荣县驻东莞流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("4501", "万荣县驻南宁流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("5001", "万荣县驻重庆流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("5101", "万荣县驻成都流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
    ("5301", "万荣县驻昆明流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("6101", "万荣县驻西安流动党员党支部", OrgKind.FORMAL_BRANCH, 2),
    ("6201", "万荣县驻兰州流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("6401", "万荣县驻银川流动党员党支部", OrgKind.FUNCTIONAL_BRANCH, 0),
    ("6501", "万荣县驻乌鲁木齐流动党员党支部", OrgKind.FORMAL_BRANCH, 0),
]
BEIJING_BRANCHES = ["万荣县驻北京流动党员第一党支部", "万荣县驻北京流动党员第二党支部"]
UNMANAGED_CITIES = ["1302", "3302", "3502", "4406", "5201"]  # destinations with no organization yet


def city(code4: str) -> Division:
    return Division.objects.get(code=code4.ljust(12, "0"))


class Command(BaseCommand):
    help = "Load the demo county (synthetic data). Does nothing if it is already loaded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        if Organization.objects.filter(name="万荣县委组织部").exists():
            self.stdout.write("demo data already loaded")
            return
        with transaction.atomic():
            self.build(random.Random(options["seed"]), options["members"])
        self.stdout.write(self.style.SUCCESS("demo county loaded"))

    def staff(self, username: str, name: str, role: str, org: Organization) -> User:
        user = User.objects.create_user(
            username=username, password=DEMO_PASSWORD, display_name=name
        )
        Grant.objects.create(user=user, role=role, organization=org)
        return user

    def build(self, rng: random.Random, member_count: int) -> None:
        county = org_services.create_organization(
            actor=None,
            name="万荣县委组织部",
            kind=OrgKind.COUNTY_DEPARTMENT,
            parent=None,
            division=Division.objects.get(code=HOME_COUNTY.ljust(12, "0")),
            founded_on=dt.date(1949, 10, 1),
        )
        admin = self.staff("wanrong_admin", "县委组织部管理员（演示）", "county_admin", county)
        Grant.objects.create(user=admin, role="auditor", organization=county)
        villages: list[Organization] = []
        for township in Division.objects.filter(parent_id=HOME_COUNTY.ljust(12, "0")).order_by(
            "code"
        ):
            committee = org_services.create_organization(
                actor=admin,
                name=f"{township.name}党委",
                kind=OrgKind.PARTY_COMMITTEE,
                parent=county,
                division=township,
            )
            for village in Division.objects.filter(parent=township).order_by("code"):
                villages.append(
                    org_services.create_organization(
                        actor=admin,
                        name=f"{village.name.removesuffix('委会')}党支部",
                        kind=OrgKind.FORMAL_BRANCH,
                        parent=committee,
                        division=village,
                    )
                )
        hosts: dict[str, list[Organization]] = {}
        for code4, name, kind, groups in EXTERNAL:
            org = org_services.create_organization(
                actor=admin,
                name=name,
                kind=kind,
                parent=county,
                is_external=True,
                host_division=city(code4),
                host_basis=rng.choice(["山西商会", "万荣商会", "产业园区", "建筑企业", "餐饮企业"]),
                founded_on=dt.date(rng.randint(2002, 2022), rng.randint(1, 12), 1),
            )
            hosts.setdefault(code4, []).append(org)
            for g in range(groups):
                org_services.create_organization(
                    actor=admin,
                    name=f"{name}第{'一二三'[g]}党小组",
                    kind=OrgKind.PARTY_GROUP,
                    parent=org,
                )
            if kind == OrgKind.GENERAL_BRANCH:
                hosts[code4] = [
                    org_services.create_organization(
                        actor=admin,
                        name=branch,
                        kind=OrgKind.FORMAL_BRANCH,
                        parent=org,
                        is_external=True,
                        host_division=city(code4),
                        founded_on=dt.date(2015, 7, 1),
                    )
                    for branch in BEIJING_BRANCHES
                ]
        village_secretary_org = villages[0]
        beijing_branch = hosts["1101"][0]
        self.staff(
            "village_secretary", "村党支部书记（演示）", "branch_secretary", village_secretary_org
        )
        self.staff(
            "beijing_secretary", "驻北京党支部书记（演示）", "branch_secretary", beijing_branch
        )
        self.members(
            rng, admin, villages, hosts, member_count, village_secretary_org, beijing_branch
        )
        # Lists sent by two host branches and this quarter's reconciliation against them.
        build_demo(actor=admin, county=county, hosts=[beijing_branch, hosts["6101"][0]])
        self.other_county(rng)

    def members(
        self,
        rng: random.Random,
        admin: User,
        villages: list[Organization],
        hosts: dict[str, list[Organization]],
        count: int,
        demo_village: Organization,
        demo_host: Organization,
    ) -> None:
        destinations = list(hosts) + UNMANAGED_CITIES
        today = dt.date.today()
        seen: set[str] = set()
        for index in range(count):
            village = demo_village if index == 0 else villages[index % len(villages)]
            id_number = synthetic_id(rng, HOME_COUNTY)
            while id_number in seen:
                id_number = synthetic_id(rng, HOME_COUNTY)
            seen.add(id_number)
            away = index == 0 or rng.random() < 0.27
            fields: dict[str, Any] = {
                "name": synthetic_name(rng),
                "id_number": id_number,
                "phone": DEMO_MEMBER_PHONE if index == 0 else synthetic_phone(rng),
                "category": Category.PROBATIONARY if rng.random() < 0.08 else Category.FULL,
                "joined_on": dt.date(
                    rng.randint(1975, 2024), rng.randint(1, 12), rng.randint(1, 28)
                ),
                "home_division": village.division,
                "mobility_status": MobilityStatus.AWAY if away else MobilityStatus.LOCAL,
            }
            dest = "1101" if index == 0 else rng.choice(destinations)
            if away:
                fields |= {
                    "destination": city(dest),
                    "left_on": today - dt.timedelta(days=rng.randint(30, 3000)),
                    "employer": rng.choice(EMPLOYERS) if rng.random() < 0.85 else "",
                    "industry": rng.choice(
                        [
                            Industry.MANUFACTURING,
                            Industry.CONSTRUCTION,
                            Industry.CATERING,
                            Industry.TRADE,
                            Industry.TRANSPORT,
                            Industry.RESIDENT_SERVICES,
                        ]
                    ),
                    "wish_return_business": rng.choice(list(Wish.values)),
                    "wish_village_cadre": rng.choice(list(Wish.values)),
                }
            member, _ = member_services.create_member(actor=admin, home_org=village, **fields)
            if away and dest in hosts and (index == 0 or rng.random() < 0.82):
                host = demo_host if index == 0 else rng.choice(hosts[dest])
                member_services.add_participation(
                    actor=admin,
                    member=member,
                    organization=host,
                    started_on=fields["left_on"] + dt.timedelta(days=20),
                )
            if away and index and rng.random() < 0.03:
                member_services.mark_lost_contact(
                    actor=admin,
                    member=member,
                    since=today - dt.timedelta(days=rng.randint(40, 900)),
                    note="电话停机，微信未回复，已联系亲属未果",
                )

    def other_county(self, rng: random.Random) -> None:
        county = org_services.create_organization(
            actor=None,
            name="泸县委组织部",
            kind=OrgKind.COUNTY_DEPARTMENT,
            parent=None,
            division=Division.objects.get(code=OTHER_COUNTY.ljust(12, "0")),
        )
        admin = self.staff("luxian_admin", "泸县组织部管理员（演示）", "county_admin", county)
        town_division = Division.objects.filter(
            parent_id=OTHER_COUNTY.ljust(12, "0"), name="立石镇"
        ).first()
        town = org_services.create_organization(
            actor=admin,
            name="立石镇党委",
            kind=OrgKind.PARTY_COMMITTEE,
            parent=county,
            division=town_division,
        )
        village_division = (
            Division.objects.filter(parent=town_division).first() if town_division else None
        )
        village = org_services.create_organization(
            actor=admin,
            name=f"{village_division.name.removesuffix('委会') if village_division else '中咀村'}党支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=town,
            division=village_division,
        )
        general = org_services.create_organization(
            actor=admin,
            name="泸县驻东莞市农民工党总支",
            kind=OrgKind.GENERAL_BRANCH,
            parent=county,
            is_external=True,
            host_division=city("4419"),
        )
        branch = org_services.create_organization(
            actor=admin,
            name="泸县驻东莞市农民工第一党支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=general,
            is_external=True,
            host_division=city("4419"),
        )
        self.staff("luxian_secretary", "泸县驻东莞党支部书记（演示）", "branch_secretary", branch)
        for _ in range(30):
            member, _ = member_services.create_member(
                actor=admin,
                home_org=village,
                name=synthetic_name(rng),
                id_number=synthetic_id(rng, OTHER_COUNTY),
                phone=synthetic_phone(rng),
                mobility_status=MobilityStatus.AWAY,
                destination=city("4419"),
                left_on=dt.date(2016, 3, 1),
                employer=rng.choice(EMPLOYERS),
                industry=Industry.MANUFACTURING,
            )
            member_services.add_participation(
                actor=admin, member=member, organization=branch, started_on=dt.date(2019, 5, 1)
            )
        for org in (Organization.objects.get(name="万荣县委组织部"), county):
            org_services.set_staff_totp_policy(
                actor=User.objects.get(
                    username=f"{'wanrong' if org.name.startswith('万荣') else 'luxian'}_admin"
                ),
                org=org,
                required=True,
            )
