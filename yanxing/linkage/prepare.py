"""Clean one table of person records and turn it into arrays the comparisons read.

Cleaning is done with polars expressions over whole columns; what the comparisons need per
record (ID digits, name characters and readings, dates, hashes of text fields) becomes numpy
arrays indexed by row number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .pinyin import NAME_WIDTH, ReadingTables, name_readings
from .types import COLUMNS

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK_CHARS = "10X98765432"
_FULL_WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "X"}
#: Words dropped from employer names before comparing them ("XX电子有限公司" ~ "XX电子").
_EMPLOYER_NOISE = r"(股份有限公司|有限责任公司|有限公司|责任公司|集团|分公司|总公司|公司|厂$)"
_PLACE_PREFIX = r"^(.{2,3}?(省|自治区|市))?(.{2,4}?市)?(.{2,4}?(区|县|镇))?"
_TOWNSHIP = r"^.*?(镇|乡|街道办事处|街道|办事处)"
_SEX = {"男": 1, "女": 2, "M": 1, "F": 2, "m": 1, "f": 2, "1": 1, "2": 2}


def read_table(source: Any) -> pl.DataFrame:
    """A DataFrame with every column of COLUMNS as text, from a DataFrame, rows or a CSV path."""
    if isinstance(source, pl.DataFrame):
        frame = source
    elif isinstance(source, str | bytes) or hasattr(source, "__fspath__"):
        frame = pl.read_csv(source, infer_schema=False, encoding="utf8-lossy")
    else:
        rows: Iterable[Mapping[str, Any]] = source
        frame = pl.DataFrame(
            [{c: _text(row.get(c)) for c in COLUMNS} for row in rows],
            schema=dict.fromkeys(COLUMNS, pl.String),
        )
    missing = [c for c in COLUMNS if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    return frame.select(pl.col(c).cast(pl.String) for c in COLUMNS)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_chars() > 0).then(expr).otherwise(None)


def _check_char(first17: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal(
        first17.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(_ID_WEIGHTS)
    )
    return (total % 11).replace_strict(
        list(range(11)), list(_CHECK_CHARS), default=None, return_dtype=pl.String
    )


def clean(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalised columns: name, id_number (18 characters when it can be), id_valid, phone,
    sex (1/2), birth (date), village, village_only, city, employer, employer_key."""
    raw_id = (
        pl.col("id_number")
        .str.replace_many(list(_FULL_WIDTH), list(_FULL_WIDTH.values()))
        .str.replace_all(r"[\s\-]", "")
        .str.to_uppercase()
    )
    frame = frame.with_columns(
        name=_blank_to_null(pl.col("name").str.replace_all(r"[\s\u3000·•.]", "")),
        id_number=_blank_to_null(raw_id),
        phone=_blank_to_null(
            pl.col("phone").str.replace_all(r"\D", "").str.replace(r"^(0086|86)(1\d{10})$", "$2")
        ),
        sex=pl.col("sex").str.strip_chars().replace_strict(_SEX, default=0, return_dtype=pl.Int8),
        birth=pl.col("birth_date")
        .str.strip_chars()
        .str.replace_all(r"[/.年月]", "-")
        .str.replace(r"日$", "")
        .str.to_date("%Y-%m-%d", strict=False),
        village=_blank_to_null(pl.col("home_village").str.replace_all(r"\s", "")),
        city=_blank_to_null(
            pl.col("city")
            .str.replace_all(r"\s", "")
            .str.replace(r"^.{2,3}?(省|自治区)", "")
            .str.replace(r"市$", "")
        ),
        employer=_blank_to_null(pl.col("employer").str.replace_all(r"[\s（）()]", "")),
    )
    # Old 15-digit numbers become 18 digits (century 19 and a computed check character).
    first17 = (
        pl.when(pl.col("id_number").str.contains(r"^\d{15}$"))
        .then(pl.col("id_number").str.slice(0, 6) + "19" + pl.col("id_number").str.slice(6, 9))
        .otherwise(pl.col("id_number").str.slice(0, 17))
    )
    frame = frame.with_columns(first17=first17).with_columns(
        id_number=pl.when(pl.col("id_number").str.contains(r"^\d{15}$"))
        .then(pl.col("first17") + _check_char(pl.col("first17")))
        .otherwise(pl.col("id_number"))
    )
    id_birth = pl.col("id_number").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    frame = frame.with_columns(
        id_valid=(
            pl.col("id_number").str.contains(r"^\d{17}[\dX]$")
            & (pl.col("id_number").str.slice(17, 1) == _check_char(pl.col("first17")))
        ).fill_null(False),
    ).with_columns(
        # Where a field is empty, a valid ID number tells the birth date and sex.
        birth=pl.when(pl.col("birth").is_null() & pl.col("id_valid"))
        .then(id_birth)
        .otherwise(pl.col("birth")),
        sex=pl.when((pl.col("sex") == 0) & pl.col("id_valid"))
        .then(2 - pl.col("id_number").str.slice(16, 1).cast(pl.Int8, strict=False) % 2)
        .otherwise(pl.col("sex"))
        .cast(pl.Int8),
        village_only=pl.col("village").str.replace(_TOWNSHIP, ""),
        employer_key=_blank_to_null(
            pl.col("employer").str.replace(_PLACE_PREFIX, "").str.replace_all(_EMPLOYER_NOISE, "")
        ),
    )
    return frame.drop("first17")


@dataclass
class Prepared:
    """One cleaned table and the arrays the comparisons read (row i is record i)."""

    frame: pl.DataFrame
    size: int
    name_hash: np.ndarray
    name_codes: np.ndarray  # (n, NAME_WIDTH) code points, 0 past the end
    name_len: np.ndarray
    readings: np.ndarray  # (n, NAME_WIDTH, MAX_READINGS)
    fuzzy_readings: np.ndarray
    id_digits: np.ndarray  # (n, 18) bytes, 0 where missing
    id_present: np.ndarray
    id_valid: np.ndarray
    id_hash: np.ndarray
    birth: np.ndarray  # days since 1970-01-01, INT32_MIN where missing
    birth_digits: np.ndarray  # (n, 8) bytes of YYYYMMDD
    sex: np.ndarray
    phone: np.ndarray  # uint64 hash, 0 where missing
    village: np.ndarray
    village_only: np.ndarray
    city: np.ndarray
    employer: np.ndarray
    employer_key: np.ndarray

    def __len__(self) -> int:
        return self.size


MISSING_DATE = np.iinfo(np.int32).min


def _hash(series: pl.Series) -> np.ndarray:
    """uint64 hash of each text value; 0 where the value is missing."""
    hashed = series.hash(seed=7).to_numpy()
    return np.where(series.is_null().to_numpy(), 0, np.maximum(hashed, 1)).astype(np.uint64)


def _fixed_bytes(series: pl.Series, width: int) -> np.ndarray:
    values = series.fill_null("").to_numpy().astype(f"S{width}")
    return values.view(np.uint8).reshape(len(values), width)


def name_codes(series: pl.Series) -> np.ndarray:
    values = series.fill_null("").to_numpy().astype(f"<U{NAME_WIDTH}")
    return values.view(np.uint32).reshape(len(values), NAME_WIDTH)


def prepare(frame: pl.DataFrame, tables: ReadingTables) -> Prepared:
    codes = name_codes(frame["name"])
    birth = frame["birth"]
    birth_days = birth.cast(pl.Int32).fill_null(MISSING_DATE).to_numpy()
    return Prepared(
        frame=frame,
        size=len(frame),
        name_hash=_hash(frame["name"]),
        name_codes=codes,
        name_len=frame["name"].str.len_chars().fill_null(0).to_numpy(),
        readings=name_readings(codes, tables, folded=False),
        fuzzy_readings=name_readings(codes, tables, folded=True),
        id_digits=_fixed_bytes(frame["id_number"], 18),
        id_present=frame["id_number"].is_not_null().to_numpy(),
        id_valid=frame["id_valid"].to_numpy(),
        id_hash=_hash(frame["id_number"]),
        birth=birth_days.astype(np.int32),
        birth_digits=_fixed_bytes(birth.dt.strftime("%Y%m%d"), 8),
        sex=frame["sex"].fill_null(0).to_numpy().astype(np.int8),
        phone=_hash(frame["phone"]),
        village=_hash(frame["village"]),
        village_only=_hash(frame["village_only"]),
        city=_hash(frame["city"]),
        employer=_hash(frame["employer"]),
        employer_key=_hash(frame["employer_key"]),
    )


def blocking_keys(frame: pl.DataFrame, tables: ReadingTables) -> pl.DataFrame:
    """Keys on which candidate pairs are looked for; a pair shares at least one of them.

    - the ID number; the phone;
    - the name as it sounds (fuzzy readings) with the birth date, and with the home village;
    - the surname character with the birth date (a given name typed wrongly).
    """
    chars = list(tables.key)
    sound = pl.col("name").str.slice(0, 1).replace_strict(
        tables.surname_key, default=pl.col("name").str.slice(0, 1), return_dtype=pl.String
    ) + pl.col("name").str.slice(1).str.replace_many(chars, [tables.key[c] + "'" for c in chars])
    birth = pl.col("birth").dt.strftime("%Y%m%d")
    return frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        pl.col("id_number").alias("k_id"),
        pl.col("phone").alias("k_phone"),
        (sound + "|" + birth).alias("k_sound_birth"),
        (sound + "|" + pl.col("village_only")).alias("k_sound_village"),
        (pl.col("name").str.slice(0, 1) + "|" + birth).alias("k_surname_birth"),
    )


BLOCKING_KEYS = ["k_id", "k_phone", "k_sound_birth", "k_sound_village", "k_surname_birth"]
