"""Ledger records made from people, with errors and gaps at stated rates.

Each rate is the share of records it applies to. Alternatives for one field are exclusive and
drawn together (a phone is missing, or changed, or kept), so the rates of a field add up. An
error that cannot apply to a record (a month/day swap when the day is above 12, a homophone when
no character of the name has one, another written form of a generic employer) leaves the record
unchanged and unflagged; the realized rates are counted in the dataset's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from .population import (
    EMPLOYER_VARIANTS,
    Employers,
    Geography,
    IntArray,
    People,
    Tables,
    birth_parts,
    days_in_month,
    draw_employers,
    draw_phones,
    make_date,
    sample,
)


@dataclass(frozen=True)
class NoiseRates:
    name_homophone: float = 0.0  # one character replaced by a homophone (曾→增, 丽→莉)
    name_typo: float = 0.0  # one given-name character replaced by an unrelated one
    phone_changed: float = 0.0  # a different number
    phone_missing: float = 0.0
    id_missing: float = 0.0
    id_wrong_digit: float = 0.0  # one digit (or the check character) wrong
    id_transposed: float = 0.0  # two adjacent, different digits swapped
    birth_missing: float = 0.0
    birth_typo: float = 0.0  # one digit of the year, month or day wrong (still a valid date)
    birth_swapped: float = 0.0  # month and day swapped (only when the day is 12 or less)
    birth_lunar: float = 0.0  # lunar-calendar birthday written: 20–50 days earlier
    sex_missing: float = 0.0
    village_short: float = 0.0  # 新华村 instead of 石桥镇新华村
    village_missing: float = 0.0
    city_moved: float = 0.0  # another destination city
    city_missing: float = 0.0
    employer_changed: float = 0.0  # another employer (in the record's city)
    employer_missing: float = 0.0
    employer_variant: float = 0.0  # the same employer written differently

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Host-side copies, default setting.
DEFAULT_NOISE = NoiseRates(
    name_homophone=0.05,
    name_typo=0.01,
    phone_changed=0.25,
    phone_missing=0.05,
    id_missing=0.05,
    id_wrong_digit=0.015,
    id_transposed=0.01,
    birth_missing=0.10,
    birth_typo=0.01,
    birth_swapped=0.005,
    birth_lunar=0.01,
    sex_missing=0.05,
    village_short=0.20,
    village_missing=0.10,
    city_moved=0.10,
    city_missing=0.10,
    employer_changed=0.20,
    employer_missing=0.15,
    employer_variant=0.10,
)
#: Host-side copies, hard setting: a third of the ID numbers missing, ID errors doubled, twice
#: the homophones, more changed phones.
HARD_NOISE = replace(
    DEFAULT_NOISE,
    id_missing=0.33,
    id_wrong_digit=0.03,
    id_transposed=0.02,
    name_homophone=0.10,
    phone_changed=0.40,
)
#: The home ledger itself: complete names and villages, a few gaps elsewhere.
LEFT_LEDGER_NOISE = NoiseRates(
    id_missing=0.005,
    phone_missing=0.02,
    birth_missing=0.01,
    sex_missing=0.005,
    city_missing=0.08,
    employer_missing=0.30,
)
#: The second home-ledger row of a person entered twice (by two branches, or again after a
#: change): mostly other contact and work details.
LEFT_DUPLICATE_NOISE = NoiseRates(
    name_homophone=0.03,
    name_typo=0.005,
    phone_changed=0.50,
    phone_missing=0.05,
    id_missing=0.10,
    id_wrong_digit=0.01,
    id_transposed=0.005,
    birth_missing=0.05,
    birth_typo=0.01,
    birth_swapped=0.005,
    birth_lunar=0.05,
    sex_missing=0.02,
    village_short=0.30,
    city_moved=0.30,
    city_missing=0.10,
    employer_changed=0.40,
    employer_missing=0.20,
    employer_variant=0.10,
)
SETTINGS: dict[str, NoiseRates] = {"default": DEFAULT_NOISE, "hard": HARD_NOISE}

#: Bit of each applied error in the truth file's ``noise`` column (bit i has value 2**i).
NOISE_BITS: tuple[str, ...] = tuple(f.name for f in fields(NoiseRates))
BIT = {name: 1 << i for i, name in enumerate(NOISE_BITS)}

VILLAGE_MISSING, VILLAGE_FULL, VILLAGE_SHORT = 0, 1, 2


@dataclass
class Records:
    """Ledger rows before they become strings; one row per entry of ``person``."""

    person: IntArray
    name: IntArray  # (rows, 3) char indices
    id_digits: NDArray[np.uint8]
    id_present: NDArray[np.bool_]
    phone: IntArray  # 0 when missing
    sex: IntArray  # 0 missing, 1 男, 2 女
    birth: NDArray[np.datetime64]  # NaT when missing
    village: IntArray
    village_form: IntArray
    city: IntArray  # -1 when missing
    employer: IntArray  # -1 when missing
    employer_variant: IntArray  # index into EMPLOYER_VARIANTS
    noise: IntArray  # bit mask of NOISE_BITS

    def __len__(self) -> int:
        return len(self.person)

    @classmethod
    def concat(cls, parts: list[Records], order: IntArray | None = None) -> Records:
        values = {}
        for f in fields(cls):
            joined = np.concatenate([getattr(p, f.name) for p in parts])
            values[f.name] = joined if order is None else joined[order]
        return cls(**values)


def choose(rng: np.random.Generator, size: int, *rates: float) -> IntArray:
    """0 for none, i for the i-th of mutually exclusive alternatives with these rates."""
    u = rng.random(size)
    result = np.zeros(size, dtype=np.int64)
    low = 0.0
    for i, rate in enumerate(rates, start=1):
        result[(u >= low) & (u < low + rate)] = i
        low += rate
    return result


def random_position(rng: np.random.Generator, eligible: NDArray[np.bool_]) -> IntArray:
    """A random eligible column in each row (rows without one get column 0)."""
    keys = rng.random(eligible.shape) * eligible
    return np.argmax(keys, axis=1)


def scaled(rng: np.random.Generator, eligible: NDArray[np.bool_], rate: float) -> NDArray[np.bool_]:
    """Rows chosen among the eligible ones so that ``rate`` of all rows are chosen (as far as
    there are enough eligible rows)."""
    share = float(eligible.mean()) if len(eligible) else 0.0
    if share == 0.0:
        return np.zeros(len(eligible), dtype=bool)
    return eligible & (rng.random(len(eligible)) < min(rate / share, 1.0))


def noisy_names(
    rng: np.random.Generator, tables: Tables, names: IntArray, rates: NoiseRates, noise: IntArray
) -> IntArray:
    names = names.copy()
    counts = tables.homophone_count[names]
    has_homophone: NDArray[np.bool_] = np.any(counts > 0, axis=1)
    homophone = scaled(rng, has_homophone, rates.name_homophone)
    rest = max(1.0 - rates.name_homophone, 1e-9)
    typo = ~homophone & (rng.random(len(names)) < rates.name_typo / rest)
    rows = np.flatnonzero(homophone)
    count = counts[rows]
    column = random_position(rng, count > 0)
    current = names[rows, column]
    pick = (rng.random(len(rows)) * count[np.arange(len(rows)), column]).astype(np.int64)
    names[rows, column] = tables.homophones[current, pick]
    noise[rows] |= BIT["name_homophone"]
    rows = np.flatnonzero(typo)
    column = random_position(rng, names[rows, 1:] > 0) + 1
    current = names[rows, column]
    replacement = tables.typo_pool[rng.integers(len(tables.typo_pool), size=len(rows))]
    same = replacement == current
    replacement[same] = tables.typo_pool[
        (np.searchsorted(tables.typo_pool, replacement[same]) + 1) % len(tables.typo_pool)
    ]
    names[rows, column] = replacement
    noise[rows] |= BIT["name_typo"]
    return names


def noisy_ids(
    rng: np.random.Generator,
    digits: NDArray[np.uint8],
    rates: NoiseRates,
    noise: IntArray,
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    digits = digits.copy()
    kind = choose(rng, len(digits), rates.id_missing, rates.id_wrong_digit, rates.id_transposed)
    present = kind != 1
    noise[kind == 1] |= BIT["id_missing"]
    rows = np.flatnonzero(kind == 2)
    position = rng.integers(18, size=len(rows))
    old = digits[rows, position].astype(np.int64)
    body = position < 17
    new = np.where(
        body,
        (old + rng.integers(1, 10, size=len(rows))) % 10,
        (old + rng.integers(1, 11, size=len(rows))) % 11,
    )
    digits[rows, position] = new
    noise[rows] |= BIT["id_wrong_digit"]
    rows = np.flatnonzero(kind == 3)
    block = digits[rows].astype(np.int64)
    eligible = (block[:, :17] != block[:, 1:]) & (block[:, 1:] < 10)
    possible = eligible.any(axis=1)
    rows, block, eligible = rows[possible], block[possible], eligible[possible]
    position = random_position(rng, eligible)
    index = np.arange(len(rows))
    digits[rows, position] = block[index, position + 1]
    digits[rows, position + 1] = block[index, position]
    noise[rows] |= BIT["id_transposed"]
    return digits, present


def noisy_births(
    rng: np.random.Generator,
    birth: NDArray[np.datetime64],
    rates: NoiseRates,
    noise: IntArray,
) -> NDArray[np.datetime64]:
    birth = birth.copy()
    kind = choose(rng, len(birth), rates.birth_missing, rates.birth_typo, rates.birth_lunar)
    # A month/day swap needs a day of 12 or less (and not equal to the month): drawn among the
    # rows left untouched that have one, so that the stated share of all rows is swapped.
    _, m, d = birth_parts(birth)
    swap = scaled(rng, (kind == 0) & (d <= 12) & (d != m), rates.birth_swapped)
    kind[swap] = 4
    # Typo: one digit of YYYYMMDD (year units, month units, day tens or units) retyped, retried
    # until the date is valid.
    rows = np.flatnonzero(kind == 2)
    y, m, d = birth_parts(birth[rows])
    done = np.zeros(len(rows), dtype=bool)
    for _ in range(6):
        todo = np.flatnonzero(~done)
        if len(todo) == 0:
            break
        part = rng.integers(4, size=len(todo))
        shift = rng.integers(1, 10, size=len(todo))
        ny, nm, nd = y[todo].copy(), m[todo].copy(), d[todo].copy()
        ny = np.where(part == 0, ny - ny % 10 + (ny % 10 + shift) % 10, ny)
        nm = np.where(part == 1, nm - nm % 10 + (nm % 10 + shift) % 10, nm)
        nd = np.where(part == 2, nd % 10 + ((nd // 10 + shift) % 4) * 10, nd)
        nd = np.where(part == 3, nd - nd % 10 + (nd % 10 + shift) % 10, nd)
        valid = (nm >= 1) & (nm <= 12) & (nd >= 1) & (nd <= days_in_month(ny, nm))
        valid &= (ny != y[todo]) | (nm != m[todo]) | (nd != d[todo])
        accept = todo[valid]
        birth[rows[accept]] = make_date(ny[valid], nm[valid], nd[valid])
        done[accept] = True
    noise[rows[done]] |= BIT["birth_typo"]
    rows = np.flatnonzero(kind == 4)
    y, m, d = birth_parts(birth[rows])
    birth[rows] = make_date(y, d, m)
    noise[rows] |= BIT["birth_swapped"]
    rows = np.flatnonzero(kind == 3)
    birth[rows] -= rng.integers(20, 51, size=len(rows))
    noise[rows] |= BIT["birth_lunar"]
    rows = np.flatnonzero(kind == 1)
    birth[rows] = np.datetime64("NaT")
    noise[rows] |= BIT["birth_missing"]
    return birth


def make_records(
    rng: np.random.Generator,
    people: People,
    person: IntArray,
    rates: NoiseRates,
    tables: Tables,
    geo: Geography,
    employers: Employers,
) -> Records:
    """One ledger row for each entry of ``person`` (indices into ``people``), with errors."""
    n = len(person)
    noise = np.zeros(n, dtype=np.int64)
    name = noisy_names(rng, tables, people.name[person], rates, noise)
    id_digits, id_present = noisy_ids(rng, people.id_digits[person], rates, noise)

    phone = people.phone[person].copy()
    kind = choose(rng, n, rates.phone_missing, rates.phone_changed)
    phone[kind == 1] = 0
    phone[kind == 2] = draw_phones(rng, int((kind == 2).sum()))
    noise[kind == 1] |= BIT["phone_missing"]
    noise[kind == 2] |= BIT["phone_changed"]

    sex = np.where(people.male[person], 1, 2)
    missing = rng.random(n) < rates.sex_missing
    sex[missing] = 0
    noise[missing] |= BIT["sex_missing"]

    birth = noisy_births(rng, people.birth[person], rates, noise)

    village = people.village[person]
    kind = choose(rng, n, rates.village_missing, rates.village_short)
    village_form = np.where(
        kind == 1, VILLAGE_MISSING, np.where(kind == 2, VILLAGE_SHORT, VILLAGE_FULL)
    )
    noise[kind == 1] |= BIT["village_missing"]
    noise[kind == 2] |= BIT["village_short"]

    city = people.city[person].copy()
    kind = choose(rng, n, rates.city_missing, rates.city_moved)
    rows = np.flatnonzero(kind == 2)
    moved = sample(rng, tables.city_cum, len(rows))
    moved = np.where(moved == city[rows], (moved + 1) % len(tables.cities), moved)
    city[rows] = moved
    noise[rows] |= BIT["city_moved"]
    employer_city = city.copy()  # a changed employer is in the city the record gives
    employer_city[kind == 1] = people.city[person][kind == 1]
    city[kind == 1] = -1
    noise[kind == 1] |= BIT["city_missing"]

    employer = people.employer[person].copy()
    kind = choose(rng, n, rates.employer_missing, rates.employer_changed, rates.employer_variant)
    rows = np.flatnonzero(kind == 2)
    changed = draw_employers(rng, employers, employer_city[rows])
    same = changed == employer[rows]
    changed[same] = draw_employers(rng, employers, employer_city[rows][same])
    employer[rows] = changed
    noise[rows[changed != people.employer[person][rows]]] |= BIT["employer_changed"]
    variant = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero((kind == 3) & (employers.city[employer] >= 0))
    variant[rows] = rng.integers(1, len(EMPLOYER_VARIANTS), size=len(rows))
    noise[rows] |= BIT["employer_variant"]
    employer[kind == 1] = -1
    noise[kind == 1] |= BIT["employer_missing"]

    return Records(
        person=person.astype(np.int64),
        name=name,
        id_digits=id_digits,
        id_present=id_present,
        phone=phone,
        sex=sex,
        birth=birth,
        village=village,
        village_form=village_form,
        city=city,
        employer=employer,
        employer_variant=variant,
        noise=noise,
    )


def realized(noise: IntArray) -> dict[str, float]:
    """Share of rows carrying each error."""
    n = max(len(noise), 1)
    return {name: float(((noise & BIT[name]) != 0).sum()) / n for name in NOISE_BITS}
