"""Checking one row: every problem, with the exact words the preview shows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from tests.conftest import World
from yanxing.core.idnumber import check_char
from yanxing.ledgers.cleaning import CleanContext, clean_row, excel_mangled_id, parse_date
from yanxing.ledgers.kinds import HOST_ROSTER, MEMBERS, LedgerKind
from yanxing.ledgers.reading import TableRow
from yanxing.regions.models import Division

from .files import HOST_HEADERS, MEMBER_HEADERS, host_row, member_row, sid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def clean(world: World, row: list, numeric=(), kind: LedgerKind = MEMBERS, line: int = 2):
    headers = MEMBER_HEADERS if kind is MEMBERS else HOST_HEADERS
    org = world.village if kind is MEMBERS else world.host
    table_row = TableRow(
        line=line,
        values=["" if v is None else str(v) for v in row],
        numeric=frozenset(headers.index(h) for h in numeric),
    )
    return clean_row(kind, table_row, kind.match_headers(headers), CleanContext(kind, org))


def problems(result) -> list[str]:
    return [str(issue) for issue in result.issues]


def test_a_valid_members_row(world: World) -> None:
    result = clean(world, member_row(1))
    assert result.ok and result.issues == []
    values = dict(result.values)
    check = values.pop("id_number")
    assert (check.number, check.sex, check.birth_date) == (sid(1), "M", dt.date(1980, 1, 1))
    assert values == {
        "name": "测试党员1",
        "phone": "13912340001",
        "sex": "M",
        "birth_date": dt.date(1980, 1, 1),
        "category": "full",
        "joined_on": dt.date(2005, 7, 1),
        "home_division": Division.objects.get(code="140822100201"),
        "mobility_status": "away",
        "destination": Division.objects.get(code="110000000000"),
        "left_on": dt.date(2020, 3, 1),
        "employer": "建工集团第1项目部",
        "industry": "E",
        "wish_return_business": "yes",
        "wish_village_cadre": "undecided",
    }


def test_other_spellings_are_accepted(world: World) -> None:
    row = member_row(
        2,
        性别="男性",
        党员类别="预备",
        入党日期="2005年7月",
        户籍所在村="140822100201",
        流动状态="外出",
        流向地="广东省东莞市",
        外出日期="2020/3/1",
        从事行业="e",
        返乡创业意愿="否",
        担任村干部意愿="有",
        手机号="+86 139-1234-0002",
        身份证号=sid(2).lower() if sid(2).endswith("X") else f" {sid(2)} ",
    )
    result = clean(world, row)
    assert result.issues == []
    assert result.values["category"] == "probationary"
    assert result.values["joined_on"] == dt.date(2005, 7, 1)
    assert result.values["home_division"].code == "140822100201"
    assert result.values["destination"].code == "441900000000"
    assert result.values["left_on"] == dt.date(2020, 3, 1)
    assert result.values["industry"] == "E"
    assert result.values["wish_return_business"] == "no"
    assert result.values["wish_village_cadre"] == "yes"
    assert result.values["phone"] == "13912340002"
    assert result.values["id_number"].number == sid(2)


def test_every_problem_of_a_row_in_words(world: World) -> None:
    bad_check = sid(3)[:17] + ("0" if sid(3)[17] != "0" else "1")
    row = member_row(
        3,
        姓名="",
        身份证号=bad_check,
        手机号="2391234",
        党员类别="党员",
        入党日期="2005-13-01",
        户籍所在村="火星村",
        流向地="解店镇",
        外出日期="2999-01-01",
        从事行业="挖矿",
        工作单位="很" * 121,
    )
    result = clean(world, row, line=12)
    assert not result.ok
    assert problems(result) == [
        "第 12 行 姓名：不能为空，请填写。",
        f"第 12 行 身份证号：校验位错误：最后一位应为 {sid(3)[17]}，请核对每一位数字。",
        "第 12 行 手机号：应为11位、以1开头的数字。",
        "第 12 行 党员类别：“党员”不是可选的值，请从下拉列表中选择：正式党员、预备党员。",
        "第 12 行 入党日期：无法识别的日期“2005-13-01”，请写成 2024-03-01 这样的格式。",
        "第 12 行 户籍所在村：找不到行政区划“火星村”，请填写完整名称（如“山西省运城市万荣县”）或12位区划代码。",
        "第 12 行 流向地：“解店镇”过细，请填写到省、市或县一级。",
        "第 12 行 外出日期：日期晚于今天，请核对。",
        "第 12 行 工作单位：内容过长（最多 120 个字），请删减。",
        "第 12 行 从事行业：“挖矿”不是可选的值，请从下拉列表中选择：农、林、牧、渔业、制造业、建筑业、批发和零售业、交通运输、仓储和邮政业、住宿和餐饮业、信息传输、软件和信息技术服务业、房地产业、租赁和商务服务业、居民服务、修理和其他服务业、教育、卫生和社会工作、其他。",
    ]
    assert [issue.col for issue in result.issues] == [0, 1, 2, 5, 6, 7, 9, 10, 11, 12]


def test_id_number_length_birth_date_and_region(world: World) -> None:
    assert problems(clean(world, member_row(4, 身份证号="14082219800101041"))) == [
        "第 2 行 身份证号：应为18位：前17位是数字，最后一位是数字或X。"
    ]
    no_date = "14082219800231041"
    assert problems(clean(world, member_row(4, 身份证号=no_date + check_char(no_date)))) == [
        "第 2 行 身份证号：身份证号中的出生日期 19800231 不存在。"
    ]
    unknown = "99082219800101041"
    assert problems(clean(world, member_row(4, 身份证号=unknown + check_char(unknown)))) == [
        "第 2 行 身份证号：前6位地区码 990822 不存在。"
    ]


@pytest.mark.parametrize(
    ("cell", "numeric"),
    [
        ("110105194912310000", True),  # a float cell from .xlsx
        ("1.1010519491231e+17", False),  # what a CSV holds after Excel showed it as a number
        ("1.10105E+17", False),
        ("110105194912310000", False),  # precision lost, then saved as text
        ("110105194912310021.0", False),
    ],
)
def test_id_turned_into_a_number_by_excel(world: World, cell: str, numeric: bool) -> None:
    result = clean(world, member_row(5, 身份证号=cell), numeric=["身份证号"] if numeric else [])
    assert problems(result) == [
        "第 2 行 身份证号：被 Excel 转成了数字，末几位已丢失：请把该列设为文本后重新填写。"
    ]


def test_excel_mangled_id() -> None:
    valid_with_zeros = "14082219800101000"
    valid = valid_with_zeros + check_char(valid_with_zeros)
    assert not excel_mangled_id(valid, False)
    assert not excel_mangled_id("140822800101041", True)  # a 15-digit number is exact
    assert excel_mangled_id("140822198001010410", True)
    assert not excel_mangled_id(sid(1), False)


def test_sex_and_birth_date_must_agree_with_the_id(world: World) -> None:
    result = clean(world, member_row(6, 性别="女", 出生日期="1981-01-01"))
    assert problems(result) == [
        "第 2 行 性别：与身份证号中的性别不符，请核对。",
        "第 2 行 出生日期：与身份证号中的出生日期不符，请核对。",
    ]


def test_ambiguous_and_nearest_division(world: World) -> None:
    township = Division.objects.get(code="140822100000")
    for code in ("140822100202", "140822100203"):
        Division.objects.create(
            code=code, name="新村", full_name=f"{township.full_name}新村", level=5, parent=township
        )
    Division.objects.create(
        code="510521100201", name="城西村委会", full_name="四川省泸州市泸县某镇城西村委会", level=5
    )
    assert problems(clean(world, member_row(7, 户籍所在村="新村"))) == [
        "第 2 行 户籍所在村：“新村”对应多个行政区划，请填写完整名称或12位区划代码。"
    ]
    # Two villages called 城西村委会: the one in the organization's own township wins.
    result = clean(world, member_row(7, 户籍所在村="城西村委会"))
    assert result.values["home_division"].code == "140822100201"
    result = clean(world, member_row(7, 户籍所在村="城西村"))
    assert result.values["home_division"].code == "140822100201"


@pytest.mark.parametrize(
    ("text", "numeric", "expected"),
    [
        ("2005-07-01", False, dt.date(2005, 7, 1)),
        ("2005/7/1", False, dt.date(2005, 7, 1)),
        ("2005.7.1", False, dt.date(2005, 7, 1)),
        ("2005年7月1日", False, dt.date(2005, 7, 1)),
        ("20050701", False, dt.date(2005, 7, 1)),
        ("2005-07-01 00:00:00", False, dt.date(2005, 7, 1)),
        ("2005.07", False, dt.date(2005, 7, 1)),
        ("2005年7月", False, dt.date(2005, 7, 1)),
        ("38534", True, dt.date(2005, 7, 1)),  # an Excel serial in a number cell
        ("20050701", True, dt.date(2005, 7, 1)),
        ("2005.07", True, dt.date(2005, 7, 1)),
        ("2005.1", True, None),  # January or October? Ask.
        ("2005-02-30", False, None),
        ("七月一日", False, None),
    ],
)
def test_parse_date(text: str, numeric: bool, expected: dt.date | None) -> None:
    assert parse_date(text, numeric) == expected


def test_host_roster_row(world: World) -> None:
    result = clean(world, host_row(1), kind=HOST_ROSTER)
    assert result.ok
    assert result.values["sex"] == "M"
    assert result.values["birth_date"] == dt.date(1980, 1, 1)
    assert (result.values["home_village"], result.values["city"]) == ("四川省泸县", "北京")
    nothing = clean(world, host_row(2, 身份证号="", 手机号=""), kind=HOST_ROSTER)
    assert problems(nothing) == ["第 2 行 身份证号：身份证号和手机号至少填写一项。"]
    phone_only = clean(world, host_row(3, 身份证号="", 性别="女"), kind=HOST_ROSTER)
    assert phone_only.ok and phone_only.values["sex"] == "F"
    bad_id = clean(world, host_row(4, 身份证号="1.10105E+17", 手机号=""), kind=HOST_ROSTER)
    assert problems(bad_id) == [
        "第 2 行 身份证号：被 Excel 转成了数字，末几位已丢失：请把该列设为文本后重新填写。"
    ]


def test_problems_in_english(world: World) -> None:
    result = clean(world, member_row(8, 姓名="", 入党日期="soon", 手机号="123"))
    with translation.override("en"):
        assert problems(result) == [
            "Row 2, Name: Required; please fill it in.",
            "Row 2, Mobile number: A mobile number has 11 digits starting with 1.",
            "Row 2, Joined the Party on: Unrecognised date “soon”; write it like 2024-03-01.",
        ]
