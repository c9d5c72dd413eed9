"""Reasons in words a branch secretary reads: which fields agreed, which disagreed."""

from __future__ import annotations

from typing import Any

import polars as pl

from .compare import COMPARISONS

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
COMMON_NAME = "同名者较多（{n} 人），姓名一致的证据已降低"
#: Names held by at least this many left records get the COMMON_NAME note.
COMMON_NAME_COUNT = 3


def _phrase(field: str, level: pl.Expr) -> pl.Expr:
    expr: Any = None
    for value, text in PHRASES[field].items():
        if "{l}" in text:
            before, _, rest = text.replace("{r}", "\0").partition("{l}")
            mid, _, tail = rest.partition("\0")
            piece = pl.concat_str(
                [
                    pl.lit(before),
                    pl.col("left_name"),
                    pl.lit(mid),
                    pl.col("right_name"),
                    pl.lit(tail),
                ]
            )
        else:
            piece = pl.lit(text)
        expr = (pl.when if expr is None else expr.when)(level == value).then(piece)
    return expr.otherwise(None)


def reason_column(frame: pl.DataFrame) -> pl.Series:
    """``frame`` holds one column per comparison (its level), left_name, right_name,
    name_count (how many left records share the left name) and ambiguous (bool)."""
    parts: list[pl.Expr] = []
    for comparison in COMPARISONS:
        level = pl.col(comparison.field)
        parts.append(_phrase(comparison.field, level))
        if comparison.field == "id_number":
            parts.append(pl.when(level == 0).then(pl.lit(MISSING_ID)).otherwise(None))
    head, _, tail = COMMON_NAME.partition("{n}")
    parts.append(
        pl.when((pl.col("name") == 1) & (pl.col("name_count") >= COMMON_NAME_COUNT))
        .then(pl.concat_str([pl.lit(head), pl.col("name_count").cast(pl.String), pl.lit(tail)]))
        .otherwise(None)
    )
    parts.append(pl.when(pl.col("ambiguous")).then(pl.lit(AMBIGUOUS)).otherwise(None))
    return frame.select(
        pl.concat_str(parts, separator="；", ignore_nulls=True).alias("reasons")
    ).to_series()
