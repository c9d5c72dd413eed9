"""The people behind both ledgers: counties, townships and villages with their clans, and one
true record per person (name, ID number, phone, sex, birth date, village, city, employer).

Everything is a numpy array indexed by person; strings are made only when a ledger is written.
Names are three indices into ``Tables.chars`` (surname, first and second given character; 0 is
the empty string, so a two-character name has 0 in the last place).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import tables as t

# Shape of the population ---------------------------------------------------------------------

MALE_SHARE = 0.72
BIRTH_YEAR_MEAN, BIRTH_YEAR_SD = 1982.0, 11.0
BIRTH_YEAR_MIN, BIRTH_YEAR_MAX = 1956, 2005
#: Birth cohorts (upper bounds, exclusive) that share a generation character and a taste in names.
COHORT_BOUNDS = (1970, 1985, 1995)
#: Share of two-character names (surname + one character) per cohort.
TWO_CHAR_SHARE = (0.12, 0.25, 0.30, 0.18)
#: Share of clan members with a three-character name whose first given character is the
#: generation character, by sex (male, female).
GENERATION_USE = (0.60, 0.20)
#: A village has one clan surname (share ONE_CLAN_SHARE) or two; the clans hold this share of
#: its people (split 2:1 when there are two). The rest take surnames at national frequency.
ONE_CLAN_SHARE = 0.6
CLAN_POPULATION_SHARE = 0.62
#: Share of villages whose (first) clan surname is one of the heteronym surnames.
HETERONYM_CLAN_SHARE = 0.03
#: Share of people given the name of another person of the same sex in the same village, on top
#: of the namesakes that clan surnames and generation characters produce by themselves.
NAMESAKE_SHARE = 0.02
#: Geography and employers are sized for N = REFERENCE_SIZE home-ledger rows; for another N the
#: townships per county and the villages per township both scale by √(N / REFERENCE_SIZE), so a
#: village keeps about 95 people, and the companies per city by N / REFERENCE_SIZE.
REFERENCE_SIZE = 1_000_000
TOWNSHIPS_PER_COUNTY = (10, 25)
VILLAGES_PER_TOWNSHIP = (8, 22)
MIN_TOWNSHIPS, MIN_VILLAGES, MIN_COMPANIES = 2, 3, 100
#: Share of villages named after their clan (张家湾村); of townships called 乡 rather than 镇.
CLAN_NAMED_VILLAGE_SHARE = 0.3
XIANG_SHARE = 0.25
#: Each county sends most people to a few cities (chain migration): this share goes to its 3–5
#: favourite cities, the rest follows the national weights.
FAVOURITE_CITY_SHARE = 0.7
COMPANIES_PER_CITY = 2000
COMPANY_POPULARITY_EXPONENT = 0.9
GENERIC_EMPLOYER_SHARE = 0.05

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
#: Check value for each remainder mod 11 (10 stands for X).
ID_CHECK = np.array([1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.uint8)
EPOCH = np.datetime64("1970-01-01", "D")

IntArray = NDArray[np.int64]


def unique_chars(text: str) -> list[str]:
    return list(dict.fromkeys(text))


def zipf_weights(count: int, exponent: float) -> NDArray[np.float64]:
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def sample(rng: np.random.Generator, cumulative: NDArray[np.float64], size: int) -> IntArray:
    """Indices drawn with the probabilities whose running sum is ``cumulative``."""
    found = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return np.minimum(found, len(cumulative) - 1).astype(np.int64)


# Character and name tables ---------------------------------------------------------------------


@dataclass(frozen=True)
class Tables:
    chars: list[str]  # chars[0] == ""
    surname_index: IntArray  # per national surname: char index
    surname_cum: NDArray[np.float64]
    heteronym_index: IntArray
    given_index: tuple[IntArray, IntArray]  # male, female pools (char indices)
    given_cum: tuple[NDArray[np.float64], NDArray[np.float64]]
    typo_pool: IntArray  # any given-name character
    generation_index: IntArray
    homophones: NDArray[np.int32]  # (chars, k) partner char indices, -1 padded
    homophone_count: NDArray[np.int32]
    cities: list[str]
    city_cum: NDArray[np.float64]

    @classmethod
    def build(cls) -> Tables:
        chars: list[str] = [""]
        index: dict[str, int] = {"": 0}

        def idx(ch: str) -> int:
            if ch not in index:
                index[ch] = len(chars)
                chars.append(ch)
            return index[ch]

        surnames = [s for s, _ in t.SURNAMES]
        surname_index = np.array([idx(s) for s in surnames], dtype=np.int64)
        surname_cum = np.cumsum([w for _, w in t.SURNAMES], dtype=np.float64)
        male = unique_chars(t.MALE_GIVEN)
        female = unique_chars(t.FEMALE_GIVEN)
        given_index = (
            np.array([idx(c) for c in male], dtype=np.int64),
            np.array([idx(c) for c in female], dtype=np.int64),
        )
        given_cum = (
            np.cumsum(zipf_weights(len(male), 0.8)),
            np.cumsum(zipf_weights(len(female), 0.8)),
        )
        generation_index = np.array(
            [idx(c) for c in unique_chars(t.GENERATION_CHARS)], dtype=np.int64
        )
        partners: dict[int, list[int]] = {}
        for pair in t.HOMOPHONE_PAIRS:
            a, b = idx(pair[0]), idx(pair[1])
            partners.setdefault(a, []).append(b)
            partners.setdefault(b, []).append(a)
        width = max(len(v) for v in partners.values())
        homophones = np.full((len(chars), width), -1, dtype=np.int32)
        homophone_count = np.zeros(len(chars), dtype=np.int32)
        for a, bs in partners.items():
            homophones[a, : len(bs)] = bs
            homophone_count[a] = len(bs)
        typo_pool = np.unique(np.concatenate(given_index))
        return cls(
            chars=chars,
            surname_index=surname_index,
            surname_cum=surname_cum,
            heteronym_index=np.array([index[s] for s in t.HETERONYM_SURNAMES], dtype=np.int64),
            given_index=given_index,
            given_cum=given_cum,
            typo_pool=typo_pool,
            generation_index=generation_index,
            homophones=homophones,
            homophone_count=homophone_count,
            cities=[c for c, _ in t.CITIES],
            city_cum=np.cumsum([w for _, w in t.CITIES], dtype=np.float64),
        )


# Geography -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Geography:
    county_codes: list[str]
    county_names: list[str]
    county_cum: NDArray[np.float64]
    village_county: IntArray
    village_full: list[str]  # 石桥镇新华村
    village_short: list[str]  # 新华村
    village_cum: NDArray[np.float64]
    clan: IntArray  # (villages, 2) char index of clan surnames, 0 when none
    clan_cum_share: NDArray[np.float64]  # (villages, 2) running share of clan members
    generation: IntArray  # (villages, 2, cohorts) char index of generation characters
    county_city_cum: NDArray[np.float64]  # (counties, cities)


def place_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    """``count`` two-character place names not in ``taken`` (which is updated)."""
    first, second = unique_chars(t.PLACE_FIRST), unique_chars(t.PLACE_SECOND)
    names: list[str] = []
    while len(names) < count:
        name = first[int(rng.integers(len(first)))] + second[int(rng.integers(len(second)))]
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def scaled_count(rng: np.random.Generator, bounds: tuple[int, int], factor: float, low: int) -> int:
    return max(low, round(int(rng.integers(*bounds, endpoint=True)) * factor))


def make_geography(rng: np.random.Generator, tables: Tables, size: int) -> Geography:
    codes = [c for c, _, _ in t.COUNTIES]
    names = [n for _, n, _ in t.COUNTIES]
    county_weight = np.array([w for _, _, w in t.COUNTIES], dtype=np.float64)
    village_county: list[int] = []
    full: list[str] = []
    short: list[str] = []
    village_weight: list[float] = []
    clans: list[tuple[int, int]] = []
    shares: list[tuple[float, float]] = []
    factor = (size / REFERENCE_SIZE) ** 0.5
    for county in range(len(codes)):
        townships = scaled_count(rng, TOWNSHIPS_PER_COUNTY, factor, MIN_TOWNSHIPS)
        taken: set[str] = set()
        county_villages: list[tuple[str, str, tuple[int, int], tuple[float, float]]] = []
        for township in place_names(rng, townships, taken):
            town = township + ("乡" if rng.random() < XIANG_SHARE else "镇")
            count = scaled_count(rng, VILLAGES_PER_TOWNSHIP, factor, MIN_VILLAGES)
            village_taken: set[str] = set()
            for _ in range(count):
                if rng.random() < HETERONYM_CLAN_SHARE:
                    first = int(rng.choice(tables.heteronym_index))
                else:
                    first = int(tables.surname_index[sample(rng, tables.surname_cum, 1)[0]])
                if rng.random() < ONE_CLAN_SHARE:
                    clan, share = (first, 0), (CLAN_POPULATION_SHARE, 0.0)
                else:
                    second = first
                    while second == first:
                        second = int(tables.surname_index[sample(rng, tables.surname_cum, 1)[0]])
                    clan = (first, second)
                    share = (CLAN_POPULATION_SHARE * 2 / 3, CLAN_POPULATION_SHARE / 3)
                name = ""
                if rng.random() < CLAN_NAMED_VILLAGE_SHARE:
                    suffix = t.CLAN_VILLAGE_SUFFIX[int(rng.integers(len(t.CLAN_VILLAGE_SUFFIX)))]
                    name = tables.chars[first] + "家" + suffix
                if not name or name in village_taken:
                    name = place_names(rng, 1, village_taken)[0]
                village_taken.add(name)
                county_villages.append((town + name + "村", name + "村", clan, share))
        sizes = rng.lognormal(0.0, 0.5, len(county_villages))
        sizes *= county_weight[county] / sizes.sum()
        for (f, s, clan, share), size in zip(county_villages, sizes, strict=True):
            village_county.append(county)
            full.append(f)
            short.append(s)
            village_weight.append(float(size))
            clans.append(clan)
            shares.append(share)
    n_villages = len(full)
    cohorts = len(COHORT_BOUNDS) + 1
    generation = tables.generation_index[
        rng.integers(len(tables.generation_index), size=(n_villages, 2, cohorts))
    ]
    national = np.diff(tables.city_cum, prepend=0.0)
    national = national / national.sum()
    county_city = np.empty((len(codes), len(national)))
    for county in range(len(codes)):
        favourites = rng.choice(len(national), size=int(rng.integers(3, 6)), replace=False)
        focus = np.zeros(len(national))
        focus[favourites] = rng.dirichlet(np.ones(len(favourites)) * 2.0)
        county_city[county] = FAVOURITE_CITY_SHARE * focus + (1 - FAVOURITE_CITY_SHARE) * national
    return Geography(
        county_codes=codes,
        county_names=names,
        county_cum=np.cumsum(county_weight),
        village_county=np.array(village_county, dtype=np.int64),
        village_full=full,
        village_short=short,
        village_cum=np.cumsum(village_weight),
        clan=np.array(clans, dtype=np.int64),
        clan_cum_share=np.cumsum(np.array(shares, dtype=np.float64), axis=1),
        generation=generation,
        county_city_cum=np.cumsum(county_city, axis=1),
    )


# Employers ---------------------------------------------------------------------------------------

#: Ways an employer is written besides its registered name (index 0).
EMPLOYER_VARIANTS = (
    "registered name",
    "without the city",
    "city and trade only",
    "brand and trade only",
    "without the legal form",
    "city in brackets",
)


@dataclass(frozen=True)
class Employers:
    names: list[list[str]]  # names[variant][employer]
    per_city: int
    city: IntArray  # per employer; -1 for the generic values
    generic: IntArray  # employer ids of the generic values
    popularity_cum: NDArray[np.float64]

    @property
    def count(self) -> int:
        return len(self.names[0])


def make_employers(rng: np.random.Generator, tables: Tables, size: int) -> Employers:
    per_city = max(MIN_COMPANIES, round(COMPANIES_PER_CITY * size / REFERENCE_SIZE))
    brand_chars = unique_chars(t.BRAND_CHARS)
    forms = [f for f, _ in t.LEGAL_FORMS]
    form_cum = np.cumsum([w for _, w in t.LEGAL_FORMS])
    variants: list[list[str]] = [[] for _ in EMPLOYER_VARIANTS]
    cities: list[int] = []
    for city_index, city in enumerate(tables.cities):
        place = city.removesuffix("市")
        taken: set[str] = set()
        brands = rng.integers(len(brand_chars), size=(per_city * 2, 2))
        trades = rng.integers(len(t.TRADES), size=per_city * 2)
        legal = sample(rng, form_cum, per_city * 2)
        made = 0
        for (b1, b2), trade, form_index in zip(brands, trades, legal, strict=True):
            core = brand_chars[b1] + brand_chars[b2] + t.TRADES[trade]
            if b1 == b2 or core in taken:
                continue
            taken.add(core)
            form = forms[form_index]
            variants[0].append(f"{city}{core}{form}")
            variants[1].append(f"{core}{form}")
            variants[2].append(f"{place}{core}")
            variants[3].append(core)
            variants[4].append(f"{city}{core}")
            variants[5].append(f"{core}（{place}）{form}")
            cities.append(city_index)
            made += 1
            if made == per_city:
                break
    first_generic = len(cities)
    for value in t.GENERIC_EMPLOYERS:
        for names in variants:
            names.append(value)
        cities.append(-1)
    return Employers(
        names=variants,
        per_city=per_city,
        city=np.array(cities, dtype=np.int64),
        generic=np.arange(first_generic, len(cities), dtype=np.int64),
        popularity_cum=np.cumsum(zipf_weights(per_city, COMPANY_POPULARITY_EXPONENT)),
    )


def draw_employers(rng: np.random.Generator, employers: Employers, city: IntArray) -> IntArray:
    """An employer in each given city (a few generic values such as 个体经营)."""
    rank = sample(rng, employers.popularity_cum, len(city))
    chosen = city * employers.per_city + rank
    generic = rng.random(len(city)) < GENERIC_EMPLOYER_SHARE
    chosen[generic] = rng.choice(employers.generic, size=int(generic.sum()))
    return chosen


def draw_cities(rng: np.random.Generator, geo: Geography, county: IntArray) -> IntArray:
    """A destination city for each person, from their county's destinations."""
    city = np.empty(len(county), dtype=np.int64)
    for c in range(len(geo.county_codes)):
        members = np.flatnonzero(county == c)
        city[members] = sample(rng, geo.county_city_cum[c], len(members))
    return city


# People ------------------------------------------------------------------------------------------


@dataclass
class People:
    village: IntArray
    county: IntArray
    male: NDArray[np.bool_]
    birth: NDArray[np.datetime64]
    name: IntArray  # (people, 3) char indices
    id_digits: NDArray[np.uint8]  # (people, 18), 10 stands for X
    phone: IntArray
    city: IntArray
    employer: IntArray

    def __len__(self) -> int:
        return len(self.village)


def birth_parts(birth: NDArray[np.datetime64]) -> tuple[IntArray, IntArray, IntArray]:
    years = birth.astype("datetime64[Y]")
    months = birth.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (birth - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def days_in_month(y: IntArray, m: IntArray) -> IntArray:
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return lengths[np.clip(m, 1, 12) - 1] + ((m == 2) & leap)


def make_date(y: IntArray, m: IntArray, d: IntArray) -> NDArray[np.datetime64]:
    months = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return months.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")


def check_digits(digits: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """GB 11643 check value (10 = X) of the first 17 digits of each row."""
    remainder = (digits[:, :17].astype(np.int64) @ ID_WEIGHTS) % 11
    return ID_CHECK[remainder]


def id_numbers(
    rng: np.random.Generator, geo: Geography, county: IntArray, male: NDArray[np.bool_], birth: Any
) -> NDArray[np.uint8]:
    """Valid 18-digit ID numbers, unique per person: county code, birth date, a sequence number
    whose last digit is odd for men and even for women, and the check digit."""
    n = len(county)
    day = (birth - EPOCH).astype(np.int64)
    seq = rng.integers(500, size=n) * 2 + male
    pending = np.arange(n)
    while True:
        key = (county * 100_000 + day + 50_000) * 1000 + seq
        _, first = np.unique(key, return_index=True)
        taken = np.zeros(n, dtype=bool)
        taken[first] = True
        pending = np.flatnonzero(~taken)
        if len(pending) == 0:
            break
        seq[pending] = rng.integers(500, size=len(pending)) * 2 + male[pending]
    codes = np.array([int(c) for c in geo.county_codes], dtype=np.int64)[county]
    y, m, d = birth_parts(birth)
    number = ((codes * 10_000 + y) * 100 + m) * 100 + d
    number = number * 1000 + seq
    digits = np.empty((n, 18), dtype=np.uint8)
    for position in range(16, -1, -1):
        digits[:, position] = number % 10
        number //= 10
    digits[:, 17] = check_digits(digits)
    return digits


def draw_phones(rng: np.random.Generator, size: int) -> IntArray:
    prefix = np.array(t.PHONE_PREFIXES, dtype=np.int64)[
        rng.integers(len(t.PHONE_PREFIXES), size=size)
    ]
    return prefix * 100_000_000 + rng.integers(100_000_000, size=size)


def make_names(
    rng: np.random.Generator,
    tables: Tables,
    geo: Geography,
    village: IntArray,
    male: NDArray[np.bool_],
    cohort: IntArray,
) -> IntArray:
    n = len(village)
    u = rng.random(n)
    slot = np.where(
        u < geo.clan_cum_share[village, 0], 0, np.where(u < geo.clan_cum_share[village, 1], 1, -1)
    )
    clan_member = slot >= 0
    surname = tables.surname_index[sample(rng, tables.surname_cum, n)]
    surname[clan_member] = geo.clan[village[clan_member], slot[clan_member]]
    given = np.empty((n, 2), dtype=np.int64)
    for sex, mask in ((0, male), (1, ~male)):
        rows = np.flatnonzero(mask)
        picks = sample(rng, tables.given_cum[sex], 2 * len(rows))
        given[rows] = tables.given_index[sex][picks].reshape(-1, 2)
    two_char = rng.random(n) < np.array(TWO_CHAR_SHARE)[cohort]
    uses_generation = (
        clan_member
        & ~two_char
        & (rng.random(n) < np.where(male, GENERATION_USE[0], GENERATION_USE[1]))
    )
    rows = np.flatnonzero(uses_generation)
    given[rows, 0] = geo.generation[village[rows], slot[rows], cohort[rows]]
    given[two_char, 1] = 0
    return np.column_stack([surname, given])


def copy_names(
    rng: np.random.Generator, people: People, targets: IntArray, sources: IntArray
) -> int:
    """Give each target the name of a random source of the same sex in the same village (when
    there is one). Returns how many names were copied."""
    order = sources[np.argsort(people.village[sources], kind="stable")]
    sorted_village = people.village[order]
    start = np.searchsorted(sorted_village, people.village[targets], side="left")
    stop = np.searchsorted(sorted_village, people.village[targets], side="right")
    has = stop > start
    targets, start, stop = targets[has], start[has], stop[has]
    pick = order[start + (rng.random(len(targets)) * (stop - start)).astype(np.int64)]
    ok = (pick != targets) & (people.male[pick] == people.male[targets])
    people.name[targets[ok]] = people.name[pick[ok]]
    return int(ok.sum())


def make_people(
    rng: np.random.Generator, size: int, tables: Tables, geo: Geography, employers: Employers
) -> People:
    village = sample(rng, geo.village_cum, size)
    county = geo.village_county[village]
    male = rng.random(size) < MALE_SHARE
    year = np.clip(
        np.rint(rng.normal(BIRTH_YEAR_MEAN, BIRTH_YEAR_SD, size)), BIRTH_YEAR_MIN, BIRTH_YEAR_MAX
    ).astype(np.int64)
    year_start = make_date(year, np.ones_like(year), np.ones_like(year))
    year_length = (make_date(year + 1, np.ones_like(year), np.ones_like(year)) - year_start).astype(
        np.int64
    )
    birth = year_start + (rng.random(size) * year_length).astype(np.int64)
    cohort = np.searchsorted(np.array(COHORT_BOUNDS), year, side="right")
    name = make_names(rng, tables, geo, village, male, cohort)
    city = draw_cities(rng, geo, county)
    people = People(
        village=village,
        county=county,
        male=male,
        birth=birth,
        name=name,
        id_digits=id_numbers(rng, geo, county, male, birth),
        phone=draw_phones(rng, size),
        city=city,
        employer=draw_employers(rng, employers, city),
    )
    targets = np.flatnonzero(rng.random(size) < NAMESAKE_SHARE)
    copy_names(rng, people, targets, np.arange(size))
    return people
