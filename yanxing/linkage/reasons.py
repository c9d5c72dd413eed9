"""Reasons in words a branch secretary reads: which fields agreed, which disagreed."""

from __future__ import annotations

import numpy as np
import polars as pl

from .compare import COMPARISONS, ID, NAME
from .model import decode, encode

#: Phrase per comparison and level; ``{l}`` and ``{r}`` are the two values where shown.
PHRASES: dict[str, dict[int, str]] = {
    "id_number": {
        1: "身份证号一致",
        2: "身份证号仅差一位或两位颠倒（疑似录入错误）",
        3: "身份证号不同",
        4: "身份证号不同且均为有效号码",
    },
    "name": {
        1: "姓名一致",
        2: "姓名同音（{l}/{r}）",
        3: "姓名近音（{l}/{r}）",
        4: "姓名差一个字（{l}/{r}）",
        5: "姓名不同（{l}/{r}）",
    },
    "birth_date": {
        1: "出生日期一致",
        2: "出生日期差一位数字",
        3: "出生日期月、日颠倒",
        4: "出生日期相差一两个月（疑似农历）",
        5: "出生日期不同",
    },
    "sex": {1: "性别一致", 2: "性别不同"},
    "phone": {1: "手机号一致", 2: "手机号不同（可能已换号）"},
    "home_village": {1: "户籍地一致", 2: "户籍村一致（一方未写乡镇）", 3: "户籍地不同"},
    "city": {1: "所在城市一致", 2: "所在城市不同"},
    "employer": {1: "工作单位一致", 2: "工作单位相近", 3: "工作单位不同"},
}
MISSING_ID = "一方未填身份证号"
AMBIGUOUS = "另有一条记录得分相近，请人工核对"
HELD_ID = "两个有效身份证号不同，应是不同的人"
HELD_NAME = "姓名读音不同，又无身份证号印证，请人工核对"
COMMON_NAME = "同名者较多（{n} 人），姓名一致的证据已降低"
#: Names held by at least this many left records get the COMMON_NAME note.
COMMON_NAME_COUNT = 3


def template(
    levels: tuple[int, ...], *, common_name: bool, ambiguous: bool, held: bool = False
) -> str:
    """The reasons for one comparison pattern; {l}/{r} stand for the two names, {n} for how
    many left records share the name."""
    parts = []
    for comparison, level in zip(COMPARISONS, levels, strict=True):
        phrase = PHRASES[comparison.field].get(level)
        if phrase:
            parts.append(phrase)
        elif comparison.field == "id_number" and level == 0:
            parts.append(MISSING_ID)
    if common_name and levels[COMPARISONS.index(NAME)] == 1:
        parts.append(COMMON_NAME)
    if ambiguous:
        parts.append(AMBIGUOUS)
    if held:
        # A score high enough for a match that a rule sends to review instead.
        parts.append(HELD_ID if levels[COMPARISONS.index(ID)] == 4 else HELD_NAME)
    return "；".join(parts)


def reason_column(
    levels: np.ndarray,
    ambiguous: np.ndarray,
    held: np.ndarray,
    name_count: np.ndarray,
    left_name: pl.Series,
    right_name: pl.Series,
) -> pl.Series:
    """Reasons per pair: one template per distinct pattern, then names filled in where the
    names differ (a small share of pairs)."""
    common = name_count >= COMMON_NAME_COUNT
    code = (
        encode(levels)
        | (ambiguous.astype(np.int64) << 40)
        | (common.astype(np.int64) << 41)
        | (held.astype(np.int64) << 42)
    )
    distinct, inverse = np.unique(code, return_inverse=True)
    patterns = decode(distinct, levels.shape[1])
    texts = pl.Series(
        [
            template(
                tuple(row),
                common_name=bool(c >> 41 & 1),
                ambiguous=bool(c >> 40 & 1),
                held=bool(c >> 42 & 1),
            )
            for row, c in zip(patterns.tolist(), distinct.tolist(), strict=True)
        ],
        dtype=pl.String,
    )
    reasons = texts.gather(inverse.ravel())
    filled = pl.DataFrame(
        {"r": reasons, "l": left_name, "rn": right_name, "n": name_count.astype(np.int64)}
    )
    needs = reasons.str.contains("{", literal=True)
    rows = needs.arg_true()
    if rows.is_empty():
        return reasons
    part = filled[rows].select(
        pl.col("r")
        .str.replace("{l}", pl.col("l"), literal=True)
        .str.replace("{r}", pl.col("rn"), literal=True)
        .str.replace("{n}", pl.col("n").cast(pl.String), literal=True)
    )
    return reasons.scatter(rows, part.to_series())
