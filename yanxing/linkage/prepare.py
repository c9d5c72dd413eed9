"""Clean the tables and turn them into arrays the comparisons read.

Both tables are cleaned together, column by column. Values are compared through 64-bit hashes;
what must be worked out from a value (a date from its text, a village without its township,
the readings of a name) is worked out once per distinct value and spread back to the rows,
because a county's ledgers repeat the same villages, employers, birthdays and names many times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .pinyin import NAME_WIDTH, ReadingTables, name_readings, reading_tables
from .types import COLUMNS

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)
_FULL_WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "X"}
#: Words dropped from employer names before comparing them ("XX电子有限公司" ~ "XX电子").
_EMPLOYER_NOISE = r"(股份有限公司|有限责任公司|有限公司|责任公司|集团|分公司|总公司|公司|厂$)"
_PLACE_PREFIX = r"^(.{2,3}?(省|自治区)|.{2,4}?市|.{2,4}?(区|县|镇))+"
_TOWNSHIP = r"^.*?(镇|乡|街道办事处|街道|办事处)"
MISSING_DATE = np.iinfo(np.int32).min
_SEED = 0x5EED
_MIX = np.uint64(0x9E3779B97F4A7C15)


def read_table(source: Any) -> pl.DataFrame:
    """A DataFrame with every column of COLUMNS as text, from a DataFrame, rows or a CSV path."""
    if isinstance(source, str | bytes) or hasattr(source, "__fspath__"):
        # Empty fields are read as missing; values are taken as written (cleaning happens per
        # field, where it is needed).
        frame = pl.read_csv(source, infer_schema=False, encoding="utf8-lossy")
        if frame.columns and frame.columns[0].startswith("\ufeff"):
            frame = frame.rename({frame.columns[0]: frame.columns[0].lstrip("\ufeff")})
        missing = [c for c in COLUMNS if c not in frame.columns]
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
        return frame.select(COLUMNS)
    if isinstance(source, pl.DataFrame):
        frame = source
    else:
        rows: Iterable[Mapping[str, Any]] = source
        frame = pl.DataFrame(
            [{c: _text(row.get(c)) for c in COLUMNS} for row in rows],
            schema=dict.fromkeys(COLUMNS, pl.String),
        )
    missing = [c for c in COLUMNS if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    stripped = [pl.col(c).cast(pl.String).str.strip_chars() for c in COLUMNS]
    return frame.select(
        pl.when(value.str.len_bytes() > 0).then(value).alias(c)
        for c, value in zip(COLUMNS, stripped, strict=True)
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------------------------
# Column helpers
# --------------------------------------------------------------------------------------------


def hashes(series: pl.Series) -> np.ndarray:
    """uint64 hash per value; 0 where the value is missing."""
    hashed = series.hash(seed=_SEED).to_numpy()
    return np.where(series.is_null().to_numpy(), 0, np.maximum(hashed, 1)).astype(np.uint64)


def distinct(series: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """The distinct values and, per row, the position of its value among them (-1: missing)."""
    row_hashes = pl.Series(hashes(series))
    # Dense ranks of the hashes number the distinct values (rank 1 is "missing" when any is).
    rank = row_hashes.rank("dense").to_numpy().astype(np.int64) - 1
    missing = series.is_null().to_numpy()
    if missing.any():
        rank -= 1
        rank[missing] = -1
    count = int(rank.max()) + 1 if len(rank) else 0
    if count <= 0:
        return series.clear(), np.full(len(series), -1, dtype=np.int64)
    # Any row of each value will do to read the value from: the last one written wins.
    representative = np.zeros(count, dtype=np.int64)
    present = rank >= 0
    representative[rank[present]] = np.flatnonzero(present)
    return series.gather(representative), rank


def spread(
    series: pl.Series, derive: Callable[[pl.Series], np.ndarray], missing: Any
) -> np.ndarray:
    """``derive`` (distinct values → one number each) computed once per distinct value and
    spread back over the rows; ``missing`` where the value is missing."""
    values, index = distinct(series)
    if values.is_empty():
        return np.full(len(series), missing)
    derived = derive(values)
    return np.where(index >= 0, derived[np.maximum(index, 0)], missing)


def spread_hashes(series: pl.Series, *derive: Callable[[pl.Series], pl.Series]) -> list[np.ndarray]:
    """Hashes of texts derived from each distinct value (0 where missing or derived empty)."""
    values, index = distinct(series)
    found = []
    for function in derive:
        if values.is_empty():
            found.append(np.zeros(len(series), dtype=np.uint64))
            continue
        derived = hashes(function(values))
        found.append(np.where(index >= 0, derived[np.maximum(index, 0)], 0).astype(np.uint64))
    return found


def fix_rows(
    series: pl.Series, needs: pl.Series, fix: Callable[[pl.Series], pl.Series]
) -> pl.Series:
    """``fix`` applied only to the rows that need it (the rare dirty values)."""
    rows = needs.fill_null(False).arg_true()
    if rows.is_empty():
        return series
    return series.scatter(rows, fix(series.gather(rows)))


def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A key from two parts, with every bit depending on both (the splitmix64 finaliser);
    0 (no key) when either part is missing."""
    with np.errstate(over="ignore"):
        z = a.astype(np.uint64) * _MIX + b.astype(np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return np.where((a != 0) & (b != 0), np.maximum(z, np.uint64(1)), np.uint64(0))


# --------------------------------------------------------------------------------------------
# Fields
# --------------------------------------------------------------------------------------------


def _clean_id(values: pl.Series) -> pl.Series:
    cleaned = (
        values.str.replace_many(list(_FULL_WIDTH), list(_FULL_WIDTH.values()))
        .str.replace_all(r"[\s\-]", "")
        .str.to_uppercase()
    )
    return cleaned.replace("", None)


def id_numbers(series: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(digits (n, 18) bytes, present, valid). 15-digit numbers become 18 digits."""
    series = series.str.to_uppercase()
    series = fix_rows(series, series.str.len_bytes() != 18, _clean_id)
    lengths = series.str.len_bytes().fill_null(0).to_numpy()
    present = series.is_not_null().to_numpy()
    digits = _id_bytes(series, lengths)
    old = (
        present & (lengths == 15) & np.all((digits[:, :15] >= 48) & (digits[:, :15] <= 57), axis=1)
    )
    if old.any():
        short = digits[old]
        digits[old, 8:17] = short[:, 6:15]
        digits[old, 6:8] = np.frombuffer(b"19", dtype=np.uint8)
        digits[old, 17] = check_chars(digits[old])
        lengths = np.where(old, 18, lengths)
    numeric = np.all((digits[:, :17] >= 48) & (digits[:, :17] <= 57), axis=1)
    valid = present & (lengths == 18) & numeric & (digits[:, 17] == check_chars(digits))
    return digits, present, valid


def _id_bytes(series: pl.Series, lengths: np.ndarray) -> np.ndarray:
    """(n, 18) bytes of each number. Numbers of 17 digits and a check character are read as
    integers (fast, in polars); anything else goes through Python strings."""
    head = series.str.slice(0, 9).cast(pl.UInt64, strict=False)
    body = series.str.slice(9, 8).cast(pl.UInt64, strict=False)
    last = series.str.slice(17, 1)
    fast = (head.is_not_null() & body.is_not_null()).to_numpy() & (lengths == 18)
    digits = np.zeros((len(series), 18), dtype=np.uint8)
    h = head.fill_null(0).to_numpy().astype(np.int64)
    b = body.fill_null(0).to_numpy().astype(np.int64)
    for k in range(9):
        digits[:, 8 - k] = h % 10 + 48
        h //= 10
    for k in range(8):
        digits[:, 16 - k] = b % 10 + 48
        b //= 10
    check = last.fill_null("").to_numpy().astype("S1").view(np.uint8)
    digits[:, 17] = check
    slow = ~fast & (lengths > 0)
    if slow.any():
        rows = np.flatnonzero(slow)
        text = series.gather(rows).fill_null("").to_numpy().astype("S18")
        digits[rows] = text.view(np.uint8).reshape(-1, 18)
    digits[lengths == 0] = 0
    return digits


def words_hash(words: np.ndarray, present: np.ndarray) -> np.ndarray:
    """A 64-bit key per 18-character ID number (0 where missing), from its packed words."""
    one = np.uint64(1)
    key = mix(mix(words[:, 0] | one, words[:, 1] | one), words[:, 2] + one)
    return np.where(present, key, 0).astype(np.uint64)


def id_words(digits: np.ndarray) -> np.ndarray:
    words = np.zeros((len(digits), 3), dtype=np.uint64)
    words[:, 0] = np.ascontiguousarray(digits[:, :8]).view(np.uint64).ravel()
    words[:, 1] = np.ascontiguousarray(digits[:, 8:16]).view(np.uint64).ravel()
    words[:, 2] = np.ascontiguousarray(digits[:, 16:18]).view(np.uint16).ravel()
    return words


def ymd(days: np.ndarray) -> np.ndarray:
    """YYYYMMDD per row (0 where missing), worked out once per distinct date."""
    distinct_days, index = np.unique(days, return_inverse=True)
    dates = np.where(distinct_days == MISSING_DATE, 0, distinct_days).astype("datetime64[D]")
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    number = (
        (years.astype(np.int64) + 1970) * 10000
        + ((months - years).astype(np.int64) + 1) * 100
        + (dates - months).astype(np.int64)
        + 1
    )
    number = np.where(distinct_days == MISSING_DATE, 0, number)
    return number[index.ravel()]


def check_chars(digits: np.ndarray) -> np.ndarray:
    """GB 11643 check character (as a byte) of each row's first 17 digits."""
    total = np.zeros(len(digits), dtype=np.int32)
    for position, weight in enumerate(_ID_WEIGHTS.tolist()):
        total += (digits[:, position].astype(np.int32) - 48) * weight
    return _CHECK_CHARS[total % 11]


def _parse_dates(values: pl.Series) -> np.ndarray:
    normalized = values.str.replace_all(r"[/.年月]", "-").str.replace(r"日$", "")
    parsed = normalized.str.to_date("%Y-%m-%d", strict=False)
    compact = values.str.to_date("%Y%m%d", strict=False)
    days = parsed.fill_null(compact).cast(pl.Int32).fill_null(MISSING_DATE)
    return days.to_numpy().astype(np.int32)


def birth_days(series: pl.Series, digits: np.ndarray, valid_id: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01; from a valid ID number where the field is empty."""
    days = spread(series, _parse_dates, MISSING_DATE).astype(np.int32)
    use_id = (days == MISSING_DATE) & valid_id
    if use_id.any():
        part = digits[use_id, 6:14].astype(np.int64) - 48
        year = part[:, 0] * 1000 + part[:, 1] * 100 + part[:, 2] * 10 + part[:, 3]
        month, day = part[:, 4] * 10 + part[:, 5], part[:, 6] * 10 + part[:, 7]
        sane = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
        months = (year - 1970) * 12 + np.clip(month, 1, 12) - 1
        date = months.astype("datetime64[M]").astype("datetime64[D]") + (np.clip(day, 1, 31) - 1)
        days[use_id] = np.where(sane, date.astype(np.int64), MISSING_DATE)
    return days


def sexes(series: pl.Series, digits: np.ndarray, valid_id: np.ndarray) -> np.ndarray:
    """1 male, 2 female, 0 unknown; from a valid ID number where the field is empty."""
    sex = (
        pl.select(
            pl.when(series.is_in(["男", "M", "m", "1"]))
            .then(1)
            .when(series.is_in(["女", "F", "f", "2"]))
            .then(2)
            .otherwise(0)
        )
        .to_series()
        .to_numpy()
        .astype(np.int8)
    )
    from_id = np.where((digits[:, 16] - 48) % 2 == 1, 1, 2).astype(np.int8)
    return np.where((sex == 0) & valid_id, from_id, sex)


def phones(series: pl.Series) -> np.ndarray:
    def fix(values: pl.Series) -> pl.Series:
        digits = values.str.replace_all(r"\D", "").str.replace(r"^(0086|86)(1\d{10})$", "$2")
        return digits.replace("", None)

    return hashes(fix_rows(series, series.str.len_bytes() != 11, fix))


def _nonempty(values: pl.Series) -> pl.Series:
    return pl.select(pl.when(values.str.len_bytes() > 0).then(values)).to_series()


def _city(values: pl.Series) -> pl.Series:
    return _nonempty(
        values.str.replace_all(r"\s", "")
        .str.replace(r"^.{2,3}?(省|自治区)", "")
        .str.replace(r"市$", "")
    )


def _village_only(values: pl.Series) -> pl.Series:
    return _nonempty(values.str.replace_all(r"\s", "").str.replace(_TOWNSHIP, ""))


def _employer(values: pl.Series) -> pl.Series:
    return _nonempty(values.str.replace_all(r"[\s（）()]", ""))


def _employer_key(values: pl.Series) -> pl.Series:
    return _nonempty(
        _employer(values).str.replace(_PLACE_PREFIX, "").str.replace_all(_EMPLOYER_NOISE, "")
    )


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


@dataclass
class Names:
    """The distinct names of both tables: characters, readings and the sound key."""

    text: pl.Series
    codes: np.ndarray  # (k, NAME_WIDTH) code points, 0 past the end
    length: np.ndarray
    tables: ReadingTables
    sound: np.ndarray  # uint64 hash of the name as it sounds (fuzzy readings)
    surname: np.ndarray  # code point of the first character

    def readings(self, ids: np.ndarray, *, folded: bool) -> np.ndarray:
        """(len(ids), NAME_WIDTH, MAX_READINGS) readings of those names (worked out only for
        the names a comparison needs)."""
        return name_readings(self.codes[ids], self.tables, folded=folded)


def names_table(values: pl.Series) -> Names:
    codes = values.to_numpy().astype(f"<U{NAME_WIDTH}").view(np.uint32).reshape(-1, NAME_WIDTH)
    tables = reading_tables(codes)
    chars = list(tables.key)
    first = values.str.slice(0, 1)
    sound = first.replace_strict(tables.surname_key, default=first, return_dtype=pl.String) + (
        values.str.slice(1).str.replace_many(chars, [tables.key[c] + "'" for c in chars])
    )
    return Names(
        text=values,
        codes=codes,
        length=values.str.len_chars().to_numpy(),
        tables=tables,
        sound=hashes(sound),
        surname=codes[:, 0].astype(np.uint64),
    )


# --------------------------------------------------------------------------------------------
# The prepared tables
# --------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """One table's arrays (row i is record i). ``names`` is shared by both tables."""

    frame: pl.DataFrame  # the text as read (for reasons and conflicts)
    names: Names
    name: np.ndarray  # row → index into names (-1: no name)
    name_hash: np.ndarray
    id_digits: np.ndarray  # (n, 18) bytes
    id_words: np.ndarray  # (n, 3) the same bytes packed into integers, for fast differences
    id_present: np.ndarray
    id_valid: np.ndarray
    id_hash: np.ndarray
    birth: np.ndarray  # days since 1970-01-01, MISSING_DATE where missing
    birth_ymd: np.ndarray  # YYYYMMDD as an integer
    sex: np.ndarray
    phone: np.ndarray
    village: np.ndarray
    village_only: np.ndarray
    city: np.ndarray
    employer: np.ndarray
    employer_key: np.ndarray
    keys: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.frame)

    def slice(self, start: int, stop: int) -> Prepared:
        def cut(value: Any) -> Any:
            return value[start:stop] if isinstance(value, np.ndarray) else value

        return Prepared(
            frame=self.frame[start:stop],
            names=self.names,
            keys={k: v[start:stop] for k, v in self.keys.items()},
            **{
                f: cut(getattr(self, f))
                for f in self.__dataclass_fields__
                if f not in ("frame", "names", "keys")
            },
        )


#: Candidate pairs share one of these: the ID number, or its first 14 or last 8 characters
#: with the surname (a digit typed wrongly); the phone; the name as it sounds with
#: the year of birth, the home village or the city; the surname with the birth date and
#: village (a given name typed wrongly).
BLOCKING_KEYS = [
    "id",
    "id_head",
    "id_tail",
    "phone",
    "sound_year",
    "sound_village",
    "sound_city",
    "surname_birth_village",
]


def prepare(frame: pl.DataFrame) -> Prepared:
    """Arrays for one table (call on the concatenation of both tables, then ``slice``)."""
    name_text = fix_rows(
        frame["name"],
        frame["name"].str.contains(" ", literal=True)
        | frame["name"].str.contains("\u3000", literal=True),
        lambda values: values.str.replace_all(r"[\s\u3000]", ""),
    )

    def name_part() -> tuple[Names, np.ndarray]:
        distinct_names, index = distinct(name_text)
        return names_table(distinct_names), index

    def id_part() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        digits, present, valid = id_numbers(frame["id_number"])
        return digits, present, valid, birth_days(frame["birth_date"], digits, present & valid)

    def place_part() -> tuple[np.ndarray, ...]:
        (village_only,) = spread_hashes(frame["home_village"], _village_only)
        (employer_key,) = spread_hashes(frame["employer"], _employer_key)
        (city,) = spread_hashes(frame["city"], _city)
        return village_only, employer_key, city

    # Three independent parts on two cores: numpy and polars let go of the interpreter lock
    # while they work, so the parts overlap.
    with ThreadPoolExecutor(max_workers=3) as pool:
        names_future = pool.submit(name_part)
        id_future = pool.submit(id_part)
        place_future = pool.submit(place_part)
        names, name_index = names_future.result()
        digits, id_present, id_valid, birth = id_future.result()
        village_only, employer_key, city = place_future.result()
    sound = np.where(name_index >= 0, names.sound[np.maximum(name_index, 0)], 0).astype(np.uint64)
    surname = np.where(name_index >= 0, names.surname[np.maximum(name_index, 0)], 0).astype(
        np.uint64
    )
    birth_key = np.where(birth == MISSING_DATE, 0, birth.astype(np.int64) + 100_000).astype(
        np.uint64
    )
    year = birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    year_key = np.where(birth == MISSING_DATE, 0, year + 100_000).astype(np.uint64)
    phone = phones(frame["phone"])
    words = id_words(digits)
    id_hash = words_hash(words, id_present)
    # Characters 1–14 (region and birth date) and 11–18 (birth month and day, sequence, check).
    low48, one = np.uint64(0xFFFFFFFFFFFF), np.uint64(1)
    head = mix(words[:, 0] | one, (words[:, 1] & low48) | one)
    tail = mix((words[:, 1] >> np.uint64(16)) | one, words[:, 2] | one)
    id_head = np.where(id_present, mix(head, surname), 0)
    id_tail = np.where(id_present, mix(tail, surname), 0)
    return Prepared(
        frame=frame,
        names=names,
        name=name_index,
        name_hash=hashes(name_text),
        id_digits=digits,
        id_words=words,
        id_present=id_present,
        id_valid=id_valid,
        id_hash=id_hash,
        birth=birth,
        birth_ymd=ymd(birth),
        sex=sexes(frame["sex"], digits, id_valid),
        phone=phone,
        village=hashes(frame["home_village"]),
        village_only=village_only,
        city=city,
        employer=hashes(frame["employer"]),
        employer_key=employer_key,
        keys={
            "id": id_hash,
            "id_head": id_head.astype(np.uint64),
            "id_tail": id_tail.astype(np.uint64),
            "phone": phone,
            "sound_year": mix(sound, year_key),
            "sound_village": mix(sound, village_only),
            "sound_city": mix(sound, city),
            "surname_birth_village": mix(mix(surname, birth_key), village_only),
        },
    )


def prepare_both(left: Any, right: Any) -> tuple[Prepared, Prepared]:
    """Read and prepare two tables together (one pass over each column)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        left_future, right_future = pool.submit(read_table, left), pool.submit(read_table, right)
        left_frame, right_frame = left_future.result(), right_future.result()
    both = prepare(pl.concat([left_frame, right_frame]))
    return both.slice(0, len(left_frame)), both.slice(len(left_frame), len(both))


def prepare_one(table: Any) -> Prepared:
    return prepare(read_table(table))
