"""Each comparison on hand-made pairs: the level it gives and why."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from yanxing.linkage.compare import (
    compare_birth,
    compare_equal,
    compare_id,
    compare_name,
    compare_two_forms,
)
from yanxing.linkage.pinyin import fuzzy, general_readings, surname_readings
from yanxing.linkage.prepare import Prepared, id_numbers, prepare_both, prepare_one, read_table

# Synthetic ID numbers with valid check characters (region 140822 万荣县).
ID_A = "140822199003150711"
ID_B = "140822198507020422"
ID_A_ONE_DIGIT = "140822199003150721"  # position 17 changed; check character now wrong
ID_A_SWAPPED = "140822199003510711"  # "15" → "51"


def pair(left: dict[str, str], right: dict[str, str]) -> tuple[Prepared, Prepared]:
    return prepare_both(
        [{"record_id": "1", "name": "某某"} | left], [{"record_id": "2", "name": "某某"} | right]
    )


ONE = np.array([0])


def level(compare, left: dict[str, str], right: dict[str, str]) -> int:
    a, b = pair(left, right)
    return int(compare(a, b, ONE, ONE)[0])


def test_check_characters_of_the_fixtures() -> None:
    numbers = pl.Series([ID_A, ID_B, ID_A_ONE_DIGIT, ID_A_SWAPPED, None, "14082219900315071X"])
    _, present, valid = id_numbers(numbers)
    assert present.tolist() == [True, True, True, True, False, True]
    assert valid.tolist() == [True, True, False, False, False, False]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (ID_A, ID_A, 1),
        (ID_A, ID_A.lower(), 1),
        (ID_A, " " + ID_A + " ", 1),
        (ID_A, ID_A_ONE_DIGIT, 2),
        (ID_A, ID_A_SWAPPED, 2),
        (ID_A, ID_B, 4),  # two different valid numbers: different people
        (ID_A, "140822199003159999", 3),  # different, one of them invalid
        (ID_A, "", 0),
        ("", "", 0),
    ],
)
def test_id_levels(left: str, right: str, expected: int) -> None:
    assert level(compare_id, {"id_number": left}, {"id_number": right}) == expected


def test_fifteen_digit_id_becomes_eighteen() -> None:
    digits, _present, valid = id_numbers(
        pl.Series(["140822900315071", "１４０８２２１９９００３１５０７１１"])
    )
    assert [bytes(row).decode() for row in digits] == [ID_A, ID_A]
    assert valid.tolist() == [True, True]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("曾丽", "曾丽", 1),
        ("曾丽", "增莉", 2),  # surname 曾 is zēng: the same as 增; 丽/莉 are both lì
        ("张静", "张婧", 2),
        ("单雄", "善雄", 2),  # surname 单 is shàn
        ("单雄", "丹雄", 4),  # never dān: 丹 is only "one character different" there
        ("刘宁", "刘林", 3),  # n/l and -ng/-n fold together in fuzzy readings
        ("陈成", "陈晨", 3),  # chéng/chén: -ng/-n folded
        ("王建国", "王建军", 4),  # one character different
        ("王建国", "李建国", 4),
        ("王建国", "王国", 5),
        ("王建国", "赵志刚", 5),
        ("王建国", "", 0),
    ],
)
def test_name_levels(left: str, right: str, expected: int) -> None:
    assert level(compare_name, {"name": left}, {"name": right}) == expected


def test_surname_readings() -> None:
    assert general_readings("曾")[0] == "ceng"
    assert surname_readings("曾") == ("zeng",)
    assert surname_readings("区") == ("ou",)
    assert surname_readings("解") == ("xie",)
    assert surname_readings("王") == general_readings("王")


@pytest.mark.parametrize(
    ("syllable", "folded"),
    [
        ("zhang", "zan"),
        ("chen", "cen"),
        ("shi", "si"),
        ("ning", "lin"),
        ("fu", "hu"),
        ("rong", "lon"),
    ],
)
def test_fuzzy_readings(syllable: str, folded: str) -> None:
    assert fuzzy(syllable) == folded


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("1990-03-15", "1990-03-15", 1),
        ("1990-03-15", "1990/3/15", 1),  # slashes and unpadded months are read too
        ("1990-03-15", "1990-03-16", 2),  # one digit typed wrong
        ("1990-03-15", "1990-08-15", 2),
        ("1990-04-05", "1990-05-04", 3),  # month and day swapped
        ("1990-03-15", "1990-02-10", 4),  # 33 days earlier: a lunar birthday written as solar
        ("1990-03-15", "1985-07-02", 5),
        ("1990-03-15", "", 0),
    ],
)
def test_birth_levels(left: str, right: str, expected: int) -> None:
    assert level(compare_birth, {"birth_date": left}, {"birth_date": right}) == expected


def test_birth_date_read_from_the_id_when_empty() -> None:
    assert level(compare_birth, {"id_number": ID_A}, {"birth_date": "1990-03-15"}) == 1


def test_sex_and_phone_levels() -> None:
    a, b = pair({"sex": "男", "phone": "139 1234 0001"}, {"sex": "女", "phone": "+86 13912340001"})
    assert compare_equal(a.sex[ONE], b.sex[ONE])[0] == 2
    assert compare_equal(a.phone[ONE], b.phone[ONE])[0] == 1


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("解店镇东庄村", "解店镇东庄村", 1),
        ("解店镇东庄村", "东庄村", 2),  # township left out
        ("解店镇东庄村", "汉薛镇东庄村", 2),
        ("解店镇东庄村", "解店镇西庄村", 3),
        ("解店镇东庄村", "", 0),
    ],
)
def test_village_levels(left: str, right: str, expected: int) -> None:
    a, b = pair({"home_village": left}, {"home_village": right})
    got = compare_two_forms(
        a.village[ONE], b.village[ONE], a.village_only[ONE], b.village_only[ONE]
    )
    assert got[0] == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("东莞市华星电子有限公司", "东莞市华星电子有限公司", 1),
        ("东莞市华星电子有限公司", "华星电子", 2),
        ("东莞市长安镇华星电子有限公司", "华星电子公司", 2),
        ("东莞市华星电子有限公司", "深圳市顺达物流有限公司", 3),
    ],
)
def test_employer_levels(left: str, right: str, expected: int) -> None:
    a, b = pair({"employer": left}, {"employer": right})
    got = compare_two_forms(
        a.employer[ONE], b.employer[ONE], a.employer_key[ONE], b.employer_key[ONE]
    )
    assert got[0] == expected


def test_city_names_compare_without_province_and_suffix() -> None:
    table = prepare_one(
        [
            {"record_id": str(i), "name": "甲", "city": c}
            for i, c in enumerate(["广东省东莞市", "东莞", "东莞市", "深圳市"])
        ]
    )
    assert len(set(table.city[:3].tolist())) == 1
    assert table.city[3] != table.city[0]


def test_read_table_from_dataframe_fills_missing_columns() -> None:
    frame = read_table(pl.DataFrame({"record_id": ["1"], "name": ["甲"]}))
    assert frame.columns == [
        "record_id",
        "name",
        "id_number",
        "phone",
        "sex",
        "birth_date",
        "home_village",
        "city",
        "employer",
    ]
