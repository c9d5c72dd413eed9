"""Field comparisons on candidate pairs, whole columns at a time.

Each comparison gives every pair a level: 0 when either side is missing (no evidence either
way), then 1 for the strongest agreement down to the last level for disagreement. The level
names below are what the reasons say to a secretary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pinyin import MAX_READINGS, NAME_WIDTH
from .prepare import MISSING_DATE, Prepared


@dataclass(frozen=True)
class Comparison:
    field: str
    #: Level names, index = level (0 = missing).
    levels: tuple[str, ...]


ID = Comparison("id_number", ("missing", "exact", "near", "different", "different_valid"))
NAME = Comparison("name", ("missing", "exact", "homophone", "fuzzy", "one_char", "different"))
BIRTH = Comparison(
    "birth_date", ("missing", "exact", "typo", "month_day_swapped", "lunar", "different")
)
SEX = Comparison("sex", ("missing", "same", "different"))
PHONE = Comparison("phone", ("missing", "same", "different"))
VILLAGE = Comparison("home_village", ("missing", "exact", "village_only", "different"))
CITY = Comparison("city", ("missing", "same", "different"))
EMPLOYER = Comparison("employer", ("missing", "exact", "similar", "different"))

COMPARISONS = (ID, NAME, BIRTH, SEX, PHONE, VILLAGE, CITY, EMPLOYER)


def _both(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (left != 0) & (right != 0)


def compare_id(a: Prepared, b: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    present = a.id_present[li] & b.id_present[ri]
    level = np.zeros(len(li), dtype=np.int8)
    same = present & (a.id_hash[li] == b.id_hash[ri])
    da, db = a.id_digits[li], b.id_digits[ri]
    differs = da != db
    hamming = differs.sum(axis=1)
    # Two neighbouring characters swapped: exactly two differences, next to each other, crossed.
    first = differs.argmax(axis=1)
    second = np.minimum(first + 1, 17)
    rows = np.arange(len(li))
    swapped = (
        (hamming == 2)
        & differs[rows, second]
        & (da[rows, first] == db[rows, second])
        & (da[rows, second] == db[rows, first])
    )
    near = present & ~same & ((hamming == 1) | swapped)
    both_valid = a.id_valid[li] & b.id_valid[ri]
    level[present] = 3
    level[present & both_valid] = 4
    level[near] = 2
    level[same] = 1
    return level


def _positions_agree(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    """(pairs, NAME_WIDTH): the characters at that position share a reading."""
    agree = np.zeros(ra.shape[:2], dtype=bool)
    for i in range(MAX_READINGS):
        for j in range(MAX_READINGS):
            agree |= (ra[:, :, i] == rb[:, :, j]) & (ra[:, :, i] != 0)
    return agree


def compare_name(a: Prepared, b: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    present = _both(a.name_hash[li], b.name_hash[ri])
    level = np.full(len(li), 5, dtype=np.int8)
    length = a.name_len[li]
    same_length = length == b.name_len[ri]
    width = np.minimum(length, NAME_WIDTH)
    in_name = np.arange(NAME_WIDTH)[None, :] < width[:, None]
    ca, cb = a.name_codes[li], b.name_codes[ri]
    same_char = ca == cb
    # Longer names (minority names) only compare exactly; their tails are not in the arrays.
    short = same_length & (length <= NAME_WIDTH)
    homophone = short & np.all(
        same_char | _positions_agree(a.readings[li], b.readings[ri]) | ~in_name, axis=1
    )
    fuzzy = short & np.all(
        same_char | _positions_agree(a.fuzzy_readings[li], b.fuzzy_readings[ri]) | ~in_name,
        axis=1,
    )
    one_char = short & (length >= 2) & ((~same_char & in_name).sum(axis=1) == 1)
    level[one_char] = 4
    level[fuzzy] = 3
    level[homophone] = 2
    level[a.name_hash[li] == b.name_hash[ri]] = 1
    level[~present] = 0
    return level


def compare_birth(a: Prepared, b: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    da, db = a.birth[li], b.birth[ri]
    present = (da != MISSING_DATE) & (db != MISSING_DATE)
    level = np.zeros(len(li), dtype=np.int8)
    ga, gb = a.birth_digits[li], b.birth_digits[ri]
    typo = (ga != gb).sum(axis=1) == 1
    # YYYYMMDD: month is bytes 4–5, day 6–7.
    swapped = (
        np.all(ga[:, :4] == gb[:, :4], axis=1)
        & np.all(ga[:, 4:6] == gb[:, 6:8], axis=1)
        & np.all(ga[:, 6:8] == gb[:, 4:6], axis=1)
    )
    gap = np.abs(da.astype(np.int64) - db.astype(np.int64))
    lunar = (gap >= 15) & (gap <= 60)
    level[present] = 5
    level[present & lunar] = 4
    level[present & swapped] = 3
    level[present & typo] = 2
    level[present & (da == db)] = 1
    return level


def compare_equal(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    present = _both(left, right)
    level = np.where(left == right, 1, 2).astype(np.int8)
    level[~present] = 0
    return level


def compare_two_forms(
    full_l: np.ndarray, full_r: np.ndarray, part_l: np.ndarray, part_r: np.ndarray
) -> np.ndarray:
    """exact on the full text, else agreement on the reduced form (village without township,
    employer without place and company words), else different."""
    present = _both(full_l, full_r)
    level = np.full(len(full_l), 3, dtype=np.int8)
    level[_both(part_l, part_r) & (part_l == part_r)] = 2
    level[full_l == full_r] = 1
    level[~present] = 0
    return level


def compare_all(a: Prepared, b: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """(pairs, len(COMPARISONS)) levels, in the order of COMPARISONS."""
    columns = [
        compare_id(a, b, li, ri),
        compare_name(a, b, li, ri),
        compare_birth(a, b, li, ri),
        compare_equal(a.sex[li], b.sex[ri]),
        compare_equal(a.phone[li], b.phone[ri]),
        compare_two_forms(a.village[li], b.village[ri], a.village_only[li], b.village_only[ri]),
        compare_equal(a.city[li], b.city[ri]),
        compare_two_forms(a.employer[li], b.employer[ri], a.employer_key[li], b.employer_key[ri]),
    ]
    return np.stack(columns, axis=1)
