"""GB 11643-1999 identity numbers: normalisation, checksum, dates, sex and region status."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.conftest import ID_AWAY, ID_LOCAL, ID_OTHER
from yanxing.core.idnumber import CHECK_CHARS, WEIGHTS, check_char, normalize, validate
from yanxing.demo.synthetic import synthetic_id

TODAY = dt.date(2025, 6, 1)


def with_check(first17: str) -> str:
    return first17 + check_char(first17)


class Regions:
    """A region_status callable that answers from a mapping and records what it was asked."""

    def __init__(self, mapping: dict[str, str], default: str = "unknown") -> None:
        self.mapping = mapping
        self.default = default
        self.calls: list[str] = []

    def __call__(self, code6: str) -> str:
        self.calls.append(code6)
        return self.mapping.get(code6, self.default)


class TestCheckChar:
    def test_known_numbers(self) -> None:
        assert check_char(ID_AWAY[:17]) == "1"
        assert check_char(ID_LOCAL[:17]) == "9"
        assert check_char(ID_OTHER[:17]) == "4"

    def test_weighted_sum_mod_11(self) -> None:
        first17 = "11010519491231002"
        total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
        assert check_char(first17) == CHECK_CHARS[total % 11]
        assert check_char(first17) == "X"

    def test_every_remainder_maps_to_its_character(self) -> None:
        seen: dict[int, str] = {}
        rng = random.Random(11643)
        while len(seen) < 11:
            first17 = f"{rng.randrange(10**17):017d}"
            total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
            seen[total % 11] = check_char(first17)
        assert "".join(seen[r] for r in range(11)) == "10X98765432"

    def test_synthetic_ids_validate(self) -> None:
        rng = random.Random(7)
        for _ in range(50):
            number = synthetic_id(rng, "140822")
            result = validate(number, today=TODAY)
            assert result.errors == []
            assert result.number == number

    def test_wrong_check_digit_names_the_expected_one(self) -> None:
        result = validate(ID_AWAY[:17] + "2", today=TODAY)
        assert result.ok is False
        assert len(result.errors) == 1
        assert "最后一位应为 1" in result.errors[0]
        assert "the last character should be 1" in result.errors[0]

    def test_lower_case_x_is_accepted(self) -> None:
        number = with_check("11010519491231002")
        assert number.endswith("X")
        result = validate(number.lower(), today=TODAY)
        assert result.errors == []
        assert result.number == number


class TestNormalize:
    def test_strips_spaces_and_upper_cases(self) -> None:
        assert normalize(" 140822 19900315 0711 ") == ID_AWAY
        assert normalize("11010519491231002x") == "11010519491231002X"

    def test_full_width_digits(self) -> None:
        full = ID_AWAY.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        assert full != ID_AWAY
        assert normalize(full) == ID_AWAY
        assert normalize("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
        assert validate(full, today=TODAY).errors == []

    def test_fifteen_digit_upgrade(self) -> None:
        # 15 digits: region, yymmdd, sequence and sex; the century 19 and a check digit are added.
        assert normalize("140822900315071") == ID_AWAY
        result = validate("140822900315071", today=TODAY)
        assert result.errors == []
        assert result.number == ID_AWAY
        assert result.birth_date == dt.date(1990, 3, 15)
        assert result.sex == "M"

    def test_empty_and_none(self) -> None:
        assert normalize("") == ""
        assert normalize(None) == ""  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "1408221990031507",
            "14082219900315071",
            "1408221990031507111",
            "14082219900315071A",
            "X40822199003150711",
        ],
    )
    def test_shape_errors(self, raw: str) -> None:
        result = validate(raw, today=TODAY)
        assert result.ok is False
        assert result.errors == [
            "身份证号应为18位：前17位是数字，最后一位是数字或X。 / An ID number has 18 characters: 17 digits, then a digit or X."
        ]
        assert result.birth_date is None
        assert result.sex == ""


class TestBirthDate:
    def test_impossible_date(self) -> None:
        number = with_check("14082219900230071")  # 30 February
        result = validate(number, today=TODAY)
        assert result.errors == [
            "身份证号中的出生日期 19900230 不存在。 / The birth date 19900230 does not exist."
        ]
        assert result.birth_date is None

    def test_month_13(self) -> None:
        result = validate(with_check("14082219901301071"), today=TODAY)
        assert result.errors == [
            "身份证号中的出生日期 19901301 不存在。 / The birth date 19901301 does not exist."
        ]

    def test_before_1900_is_implausible(self) -> None:
        result = validate(with_check("14082218991231071"), today=TODAY)
        assert len(result.errors) == 1
        assert "1899-12-31 不合理" in result.errors[0]
        assert "implausible" in result.errors[0]

    def test_younger_than_14_is_implausible(self) -> None:
        too_young = with_check("14082220110602071")  # 13 years, 364 days on TODAY
        result = validate(too_young, today=TODAY)
        assert len(result.errors) == 1
        assert "2011-06-02 不合理" in result.errors[0]

    def test_exactly_14_is_accepted(self) -> None:
        result = validate(with_check("14082220110601071"), today=TODAY)
        assert result.errors == []
        assert result.birth_date == dt.date(2011, 6, 1)

    def test_future_date(self) -> None:
        result = validate(with_check("14082230000101071"), today=TODAY)
        assert result.ok is False
        assert "3000-01-01" in result.errors[0]

    def test_default_today_is_the_real_date(self) -> None:
        assert validate(ID_AWAY).errors == []


class TestSexAndBirth:
    def test_derived_from_digits(self) -> None:
        away = validate(ID_AWAY, today=TODAY)
        assert (away.birth_date, away.sex) == (dt.date(1990, 3, 15), "M")
        local = validate(ID_LOCAL, today=TODAY)
        assert (local.birth_date, local.sex) == (dt.date(1985, 7, 22), "F")
        other = validate(ID_OTHER, today=TODAY)
        assert (other.birth_date, other.sex) == (dt.date(1992, 11, 30), "M")

    @pytest.mark.parametrize(("digit", "sex"), [(str(d), "M" if d % 2 else "F") for d in range(10)])
    def test_seventeenth_digit_parity(self, digit: str, sex: str) -> None:
        number = with_check("1408221990031507" + digit)
        assert validate(number, today=TODAY).sex == sex

    def test_synthetic_sex_is_respected(self) -> None:
        rng = random.Random(3)
        assert {
            validate(synthetic_id(rng, "510521", sex="F"), today=TODAY).sex for _ in range(20)
        } == {"F"}
        assert {
            validate(synthetic_id(rng, "510521", sex="M"), today=TODAY).sex for _ in range(20)
        } == {"M"}


class TestRegion:
    def test_no_lookup_means_no_region_check(self) -> None:
        result = validate(with_check("99082219900315071"), today=TODAY)
        assert result.errors == []
        assert result.warnings == []

    def test_current_code(self) -> None:
        lookup = Regions({"140822": "current"})
        result = validate(ID_AWAY, region_status=lookup, today=TODAY)
        assert result.errors == []
        assert result.warnings == []
        assert lookup.calls == ["140822"]

    def test_retired_code_is_a_warning_not_a_refusal(self) -> None:
        retired = with_check("14272519900315071")  # a retired county code under province 14
        result = validate(retired, region_status=Regions({"142725": "province"}), today=TODAY)
        assert result.ok is True
        assert result.errors == []
        assert result.warnings == [
            "地区码 142725 不在现行行政区划中，可能是已撤销的旧代码；已接受，请核实。"
            " / Region code 142725 is not current (possibly retired); accepted, please verify."
        ]
        assert result.birth_date == dt.date(1990, 3, 15)

    def test_unknown_code_is_an_error(self) -> None:
        unknown = with_check("99082219900315071")
        result = validate(unknown, region_status=Regions({}), today=TODAY)
        assert result.ok is False
        assert result.errors == [
            "身份证号前6位地区码 990822 不存在。 / Region code 990822 does not exist."
        ]
        assert result.warnings == []

    def test_region_not_looked_up_when_shape_is_wrong(self) -> None:
        lookup = Regions({})
        validate("12345", region_status=lookup, today=TODAY)
        assert lookup.calls == []

    @pytest.mark.django_db
    def test_region_status_selector(self) -> None:
        from tests.conftest import make_divisions
        from yanxing.regions.selectors import region_status

        make_divisions()
        assert region_status("140822") == "current"
        assert region_status("142725") == "province"
        assert region_status("990822") == "unknown"
        retired = validate(
            with_check("14272519900315071"), region_status=region_status, today=TODAY
        )
        assert retired.errors == []
        assert len(retired.warnings) == 1


def test_leap_day_today_does_not_crash() -> None:
    leap = dt.date(2028, 2, 29)
    assert validate(ID_AWAY, today=leap).errors == []
    assert validate(with_check("14082220140228071"), today=leap).errors == []
    too_young = validate(with_check("14082220140301071"), today=leap)
    assert len(too_young.errors) == 1
    assert "2014-03-01 不合理" in too_young.errors[0]
