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


_LOW_BITS = np.uint64(0x0101010101010101)


def _bytes_differing(x: np.ndarray) -> np.ndarray:
    """Number of non-zero bytes in each uint64."""
    y = x | (x >> np.uint64(4))
    y |= y >> np.uint64(2)
    y |= y >> np.uint64(1)
    y &= _LOW_BITS
    with np.errstate(over="ignore"):
        return ((y * _LOW_BITS) >> np.uint64(56)).astype(np.int64)


def compare_id(a: Prepared, b: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    present = a.id_present[li] & b.id_present[ri]
    same = present & (a.id_hash[li] == b.id_hash[ri])
    level = np.where(present, 3, 0).astype(np.int8)
    level[present & a.id_valid[li] & b.id_valid[ri]] = 4
    level[same] = 1
    # Near misses: count differing characters on packed words; look closer only at two.
    rows = np.flatnonzero(present & ~same)
    wa, wb = a.id_words[li[rows]], b.id_words[ri[rows]]
    hamming = sum(_bytes_differing(wa[:, k] ^ wb[:, k]) for k in range(3))
    two = rows[hamming == 2]
    da, db = a.id_digits[li[two]], b.id_digits[ri[two]]
    differs = da != db
    # Two neighbouring characters swapped: the two differences are next to each other, crossed.
    first = differs.argmax(axis=1)
    second = np.minimum(first + 1, 17)
    at = np.arange(len(two))
    swapped = (
        differs[at, second] & (da[at, first] == db[at, second]) & (da[at, second] == db[at, first])
    )
    level[rows[hamming == 1]] = 2
    level[two[swapped]] = 2
    return level


def _positions_agree(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    """(pairs, NAME_WIDTH): the characters at that position share a reading."""
    agree = np.zeros(ra.shape[:2], dtype=bool)
    for i in range(MAX_READINGS):
        for j in range(MAX_READINGS):
            agree |= (ra[:, :, i] == rb[:, :, j]) & (ra[:, :, i] != 0)
    return agree


def compare_name(a: Prepared, b: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    na, nb = a.name[li], b.name[ri]
    present = (na >= 0) & (nb >= 0)
    level = np.where(present, 5, 0).astype(np.int8)
    same = present & (na == nb)
    level[same] = 1
    # Distinct names are compared through the shared table of names, once per pair of names.
    rows = np.flatnonzero(present & ~same)
    names = a.names
    x, y = na[rows], nb[rows]
    length = names.length[x]
    short = (length == names.length[y]) & (length <= NAME_WIDTH)
    in_name = np.arange(NAME_WIDTH)[None, :] < np.minimum(length, NAME_WIDTH)[:, None]
    same_char = names.codes[x] == names.codes[y]
    # Readings of just the names met here, looked up by their place among them.
    needed, where = np.unique(np.concatenate([x, y]), return_inverse=True)
    wx, wy = where[: len(x)], where[len(x) :]
    exact, folded = names.readings(needed, folded=False), names.readings(needed, folded=True)
    homophone = short & np.all(
        same_char | _positions_agree(exact[wx], exact[wy]) | ~in_name, axis=1
    )
    fuzzy = short & np.all(same_char | _positions_agree(folded[wx], folded[wy]) | ~in_name, axis=1)
    # Longer names (minority names) only compare exactly; their tails are not in the arrays.
    one_char = short & (length >= 2) & ((~same_char & in_name).sum(axis=1) == 1)
    sub = np.full(len(rows), 5, dtype=np.int8)
    sub[one_char] = 4
    sub[fuzzy] = 3
    sub[homophone] = 2
    level[rows] = sub
    return level


def _digits_differing(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """How many of the eight digits of two YYYYMMDD integers differ."""
    x, y = x.astype(np.int64), y.astype(np.int64)
    count = np.zeros(len(x), dtype=np.int8)
    for _ in range(8):
        count += (x % 10) != (y % 10)
        x //= 10
        y //= 10
    return count


def compare_birth(a: Prepared, b: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    da, db = a.birth[li], b.birth[ri]
    present = (da != MISSING_DATE) & (db != MISSING_DATE)
    same = present & (da == db)
    level = np.where(present, 5, 0).astype(np.int8)
    level[same] = 1
    rows = np.flatnonzero(present & ~same)
    ya, yb = a.birth_ymd[li[rows]], b.birth_ymd[ri[rows]]
    typo = _digits_differing(ya, yb) == 1
    # YYYYMMDD: the month and the day swapped within the same year.
    swapped = (
        (ya // 10000 == yb // 10000) & (ya // 100 % 100 == yb % 100) & (ya % 100 == yb // 100 % 100)
    )
    gap = np.abs(da[rows].astype(np.int64) - db[rows].astype(np.int64))
    lunar = (gap >= 15) & (gap <= 60)
    sub = np.full(len(rows), 5, dtype=np.int8)
    sub[lunar] = 4
    sub[swapped] = 3
    sub[typo] = 2
    level[rows] = sub
    return level


def compare_equal(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    level = np.where(left == right, 1, 2).astype(np.int8)
    level[~_both(left, right)] = 0
    return level


def compare_two_forms(
    full_l: np.ndarray, full_r: np.ndarray, part_l: np.ndarray, part_r: np.ndarray
) -> np.ndarray:
    """exact on the full text, else agreement on the reduced form (village without township,
    employer without place and company words), else different."""
    level = np.full(len(full_l), 3, dtype=np.int8)
    level[_both(part_l, part_r) & (part_l == part_r)] = 2
    level[full_l == full_r] = 1
    level[~_both(full_l, full_r)] = 0
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
