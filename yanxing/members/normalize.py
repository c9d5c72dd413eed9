"""Normalising what people type: names, phone numbers, pinyin."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

_PHONE = re.compile(r"^1[3-9]\d{9}$")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def normalize_name(name: str) -> str:
    return re.sub(r"\s+", "", (name or "").replace("·", "·")).strip()


def name_pinyin(name: str) -> str:
    return "".join(lazy_pinyin(name, errors="ignore")).lower()


def name_initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"[\s\-()]", "", (raw or "").translate(FULL_WIDTH_DIGITS))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def phone_error(phone: str) -> str:
    if phone and not _PHONE.match(phone):
        return "手机号应为11位、以1开头的数字。 / A mobile number has 11 digits starting with 1."
    return ""
