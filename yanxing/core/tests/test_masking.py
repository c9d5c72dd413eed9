"""Display masking of names, ID numbers and phone numbers."""

from __future__ import annotations

import pytest

from tests.conftest import ID_AWAY, ID_LOCAL, PHONE_AWAY
from yanxing.core.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("王建国", "王**"), ("欧阳娜娜", "欧***"), ("张", "张*"), ("", "")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_id_number() -> None:
    assert mask_id_number(ID_AWAY) == "1408**********0711"
    assert mask_id_number(ID_LOCAL) == "1408**********0029"
    assert mask_id_number("41162519850722123X") == "4116**********123X"
    assert len(mask_id_number(ID_AWAY)) == 18
    assert mask_id_number(ID_AWAY)[4:14] == "*" * 10


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("", ""), ("12345678", "********"), ("123", "***"), ("123456789", "1234*6789")],
)
def test_mask_id_number_short_values(raw: str, masked: str) -> None:
    assert mask_id_number(raw) == masked


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(PHONE_AWAY) == "139****0001"
    assert len(mask_phone(PHONE_AWAY)) == 11


@pytest.mark.parametrize(("raw", "masked"), [("", ""), ("123456", "******"), ("12", "**")])
def test_mask_phone_short_values(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


def test_masks_never_reveal_the_middle() -> None:
    for value in (ID_AWAY, ID_LOCAL):
        assert value[4:14] not in mask_id_number(value)
    assert PHONE_AWAY[3:7] not in mask_phone(PHONE_AWAY)
