"""A small hand-made reconciliation on top of the shared world (tests/conftest.py).

County A runs against its Beijing branch (``world.host``). Home ledger (away members of the
county, plus a member at home who takes part in the branch):

- 王建国 (``m_away``): takes part in the Beijing branch → identity pair;
- 张志强: on the branch's list as 章志强 (homophone), new phone, no ID number → engine pair;
- 陈伟: on the list with the same ID number, a new phone and another employer → match with
  conflicts on phone and employer;
- 周杰: the branch registered him a second time as its own member (no ID number, same phone)
  and he takes part there → engine pair between two member records (a merge when confirmed);
- 马文斌 and 黄海: the list has 马文武 and 黄梅 of the same village, born on the same day, with
  another phone number (a twin? a typo?) → pairs the engine leaves to review;
- 赵丽: away in Dongguan, no host has her → 外出未纳管;
- 刘芳 twice: once with her ID number, once without, same phone → duplicate in the home ledger;
- 吴敏: registered at home (local) but takes part in the Beijing branch → identity pair with
  a status conflict.

The branch's list also has 孙明, on no ledger → 来源不明的报到.

Every identity number here is synthetic (valid check digit, generated, no one's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.conftest import World
from yanxing.core.idnumber import check_char
from yanxing.ledgers.models import HostRecord
from yanxing.members import services as member_services
from yanxing.members.models import Member
from yanxing.regions.models import Division

from .. import schedule
from ..demo import add_host_record
from ..models import Run
from ..services import execute_run, start_run


def synthetic(first17: str) -> str:
    return first17 + check_char(first17)


ID_ZHANG = synthetic("14082219880612003")
ID_CHEN = synthetic("14082219791103005")
ID_ZHOU = synthetic("14082219920220007")
ID_ZHAO = synthetic("14082219950808002")
ID_LIU = synthetic("14082219870417004")
ID_WU = synthetic("14082219830130009")
ID_MA = synthetic("14082219860315001")
ID_HUANG = synthetic("14082219770909003")
ID_SUN = synthetic("51052119900101001")  # county B's region: on no ledger of county A
VILLAGE_TEXT = "万荣县解店镇城西村"


@dataclass
class Scenario:
    world: World
    zhang: Member
    chen: Member
    zhou: Member
    zhou_host: Member
    zhao: Member
    liu: Member
    liu_again: Member
    wu: Member
    ma: Member
    huang: Member
    rec_zhang: HostRecord
    rec_chen: HostRecord
    rec_sun: HostRecord
    rec_ma: HostRecord
    rec_huang: HostRecord


def _away(world: World, name: str, **fields: Any) -> Member:
    member, _ = member_services.create_member(
        actor=world.county_admin,
        home_org=world.village,
        name=name,
        mobility_status="away",
        destination=fields.pop("destination", None) or Division.objects.get(code="110100000000"),
        home_division=Division.objects.get(code="140822100201"),
        **fields,
    )
    return member


def build(world: World) -> Scenario:
    admin = world.county_admin
    beijing = world.host
    zhang = _away(world, "张志强", id_number=ID_ZHANG, phone="13912340011", employer="宏图装饰")
    chen = _away(world, "陈伟", id_number=ID_CHEN, phone="13912340012", employer="顺达物流有限公司")
    zhou = _away(world, "周杰", id_number=ID_ZHOU, phone="13912340013")
    zhao = _away(
        world,
        "赵丽",
        id_number=ID_ZHAO,
        phone="13912340014",
        destination=Division.objects.get(code="441900000000"),
    )
    liu = _away(world, "刘芳", id_number=ID_LIU, phone="13912340015", employer="优品连锁超市")
    liu_again = _away(world, "刘芳", phone="13912340015", employer="优品连锁超市")
    ma = _away(world, "马文斌", id_number=ID_MA, phone="13912340017")
    huang = _away(world, "黄海", id_number=ID_HUANG, phone="13912340018")
    wu, _ = member_services.create_member(
        actor=admin,
        home_org=world.village,
        name="吴敏",
        id_number=ID_WU,
        phone="13912340016",
        home_division=Division.objects.get(code="140822100201"),
    )
    member_services.add_participation(
        actor=admin, member=wu, organization=beijing, started_on=dt.date(2025, 5, 1)
    )
    zhou_host, _ = member_services.create_member(
        actor=admin,
        home_org=beijing,
        name="周杰",
        phone="13912340013",
        employer="鑫源机械制造有限公司",
        wish_return_business="yes",
    )
    member_services.add_participation(
        actor=admin, member=zhou_host, organization=beijing, started_on=dt.date(2025, 9, 1)
    )
    rec_zhang = add_host_record(
        organization=beijing,
        name="章志强",
        phone="13800000021",
        sex="M",
        birth_date=dt.date(1988, 6, 12),
        home_village=VILLAGE_TEXT,
        city="北京市",
        employer="宏图装饰",
        reported_on=dt.date(2026, 3, 2),
    )
    rec_chen = add_host_record(
        organization=beijing,
        name="陈伟",
        id_number=ID_CHEN,
        phone="13800000022",
        sex="M",
        birth_date=dt.date(1979, 11, 3),
        home_village=VILLAGE_TEXT,
        city="北京市",
        employer="华兴电子科技有限公司",
        reported_on=dt.date(2026, 4, 8),
    )
    rec_sun = add_host_record(
        organization=beijing,
        name="孙明",
        id_number=ID_SUN,
        phone="13800000023",
        sex="M",
        birth_date=dt.date(1990, 1, 1),
        home_village="泸县立石镇中咀村",
        city="北京市",
        employer="山西面食馆",
        reported_on=dt.date(2026, 5, 20),
    )
    rec_ma = add_host_record(
        organization=beijing,
        name="马文武",
        phone="13800000061",
        sex="M",
        birth_date=dt.date(1986, 3, 15),
        home_village=VILLAGE_TEXT,
        city="北京市",
        reported_on=dt.date(2026, 6, 1),
    )
    rec_huang = add_host_record(
        organization=beijing,
        name="黄梅",
        phone="13800000062",
        birth_date=dt.date(1977, 9, 9),
        home_village=VILLAGE_TEXT,
        city="北京市",
        reported_on=dt.date(2026, 6, 2),
    )
    return Scenario(
        world=world,
        zhang=zhang,
        chen=chen,
        zhou=zhou,
        zhou_host=zhou_host,
        zhao=zhao,
        liu=liu,
        liu_again=liu_again,
        wu=wu,
        ma=ma,
        huang=huang,
        rec_zhang=rec_zhang,
        rec_chen=rec_chen,
        rec_sun=rec_sun,
        rec_ma=rec_ma,
        rec_huang=rec_huang,
    )


def finished_run(scenario: Scenario, quarter: str = "") -> Run:
    """The county's run against the Beijing branch for the previous quarter, made at once (as
    the worker would)."""
    world = scenario.world
    run = start_run(
        actor=world.county_admin,
        home_org=world.county,
        hosts=[world.host],
        quarter=quarter or schedule.previous_quarter(),
    )
    return execute_run(run_id=run.pk)
