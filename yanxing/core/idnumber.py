"""Resident identity numbers (GB 11643-1999): normalisation, checksum, birth date, sex, region.

Validation returns errors (refuse) and warnings (accept, but tell the user). Messages are Chinese
first with English after, and say what to fix.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    """Strip spaces, full-width digits and lower-case x; upgrade a 15-digit number to 18 digits."""
    value = re.sub(r"\s+", "", (raw or "").translate(FULL_WIDTH)).upper()
    if _ID15.match(value):
        first17 = value[:6] + "19" + value[6:]
        value = first17 + check_char(first17)
    return value


@dataclass
class IdCheck:
    number: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    birth_date: dt.date | None = None
    sex: str = ""  # "M" or "F"

    @property
    def ok(self) -> bool:
        return not self.errors


RegionLookup = Callable[[str], str]
"""Given a 6-digit region code, returns "current", "province" (only the province is known, e.g. a
retired county code) or "unknown"."""


def validate(
    raw: str, region_status: RegionLookup | None = None, today: dt.date | None = None
) -> IdCheck:
    number = normalize(raw)
    result = IdCheck(number=number)
    if not _ID18.match(number):
        result.errors.append(
            "身份证号应为18位：前17位是数字，最后一位是数字或X。"
            " / An ID number has 18 characters: 17 digits, then a digit or X."
        )
        return result
    expected = check_char(number[:17])
    if number[17] != expected:
        result.errors.append(
            f"身份证号校验位错误：最后一位应为 {expected}，请核对每一位数字。"
            f" / Check digit is wrong: the last character should be {expected}; check every digit."
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        result.errors.append(
            f"身份证号中的出生日期 {number[6:14]} 不存在。 / The birth date {number[6:14]} does not exist."
        )
        return result
    today = today or dt.date.today()
    if today.month == 2 and today.day == 29:  # 14 years before 29 February is 28 February
        today = today.replace(day=28)
    if birth.year < 1900 or birth > today.replace(year=today.year - 14):
        result.errors.append(
            f"身份证号中的出生日期 {birth:%Y-%m-%d} 不合理（应早于14年前、晚于1900年）。"
            f" / Birth date {birth:%Y-%m-%d} is implausible for a member."
        )
    result.birth_date = birth
    result.sex = "M" if int(number[16]) % 2 else "F"
    if region_status is not None:
        status = region_status(number[:6])
        if status == "province":
            result.warnings.append(
                f"地区码 {number[:6]} 不在现行行政区划中，可能是已撤销的旧代码；已接受，请核实。"
                f" / Region code {number[:6]} is not current (possibly retired); accepted, please verify."
            )
        elif status == "unknown":
            result.errors.append(
                f"身份证号前6位地区码 {number[:6]} 不存在。 / Region code {number[:6]} does not exist."
            )
    return result
