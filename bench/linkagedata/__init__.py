"""Synthetic ledgers for the record-linkage benchmark: a county's home ledger (LEFT, 流出地台账)
and the host-side ledger (RIGHT, 流入地台账) of the people who reported in, with the truth.

    .venv/bin/python -m bench.linkagedata --n 100000 --setting hard     # write one dataset
    ensure_dataset(Spec(n=1_000_000, setting="default", seed=2026))      # from code

Deterministic by seed. Files (git-ignored) in bench/data/linkage/, reused while their metadata
matches N, setting, seed and GENERATOR_VERSION (``--rebuild`` regenerates):

    left-n<N>-<setting>-s<seed>.csv    record_id,name,id_number,phone,sex,birth_date,
    right-n<N>-<setting>-s<seed>.csv     home_village,city,employer   (UTF-8, header; empty = missing)
    truth-n<N>-<setting>-s<seed>.csv   side,record_id,person_id,kind,noise
    meta-n<N>-<setting>-s<seed>.json   spec, counts, rates, realized rates, timings

A right record is the person of a left record when their ``person_id`` is equal (a person entered
twice on the home ledger has two left records). ``kind`` is original/duplicate on the left and
copy/unknown/duplicate on the right; ``noise`` is a bit mask of the errors applied to the row
(bit i = the i-th rate below, listed in the metadata under ``noise_bits``).

People (``population``)
    42 labour-exporting counties with their real 6-digit codes (140822 万荣县, 510521 泸县,
    341221 临泉县 …); per county 10–25 generated townships (XX镇 or XX乡) of 8–22 villages
    (XX村, some named after their clan: 张家湾村) at N = 1,000,000, both counts scaled by
    √(N/1,000,000) at other sizes (at least 2 and 3) so that a village keeps about 95 people.
    Each village has one or two clan surnames held by 62 % of its people (3 % of villages have
    a heteronym clan surname: 曾 单 解 区 仇 查 朴 盖 乐 覃 翟 缪); the rest take surnames at
    national frequency. Clan men with three-character names carry their cohort's generation
    character (辈分字) 60 % of the time, women 20 %. Two-character names are 12–30 % by birth
    cohort. 2 % of people are then given the name of someone of the same sex in their village,
    on top of the namesakes clans make by themselves (about 4 same-name groups per village).
    72 % men, born 1956–2005 (mean 1982). ID numbers: county code, birth date, sequence with
    odd/even last digit for men/women, GB 11643 check digit (X included); unique. Phones: 11
    digits with a valid 13x–19x prefix. Each county sends 70 % of its people to 3–5 favourite
    cities of 40. Employers: 2,000 companies per city at N = 1,000,000 (∝ N, at least 100),
    such as 东莞市华宏电子有限公司, popularity ∝ 1/rank^0.9, and 5 % generic values (个体经营,
    灵活就业 …).

Ledgers (``ledgers``)
    LEFT: N rows, of which 0.5 % are a second entry of a person already on it (with the
    LEFT_DUPLICATE_NOISE rates below), the others one row per person with few gaps (ID 0.5 %,
    phone 2 %, birth date 1 %, sex 0.5 %, city 8 %, employer 30 % missing).
    RIGHT: 0.86·N rows: 4 % people on no home ledger (30 % of them namesakes of a left person of
    the same sex and village), 0.5 % second report-ins of a person already on it, the rest one
    noisy copy each of distinct left people (82.5 % of the people on the left report in).

Errors on the right copies, share of rows (``noise.DEFAULT_NOISE`` / ``noise.HARD_NOISE``):

    ====================================================  ========  ========
    error                                                 default   hard
    ====================================================  ========  ========
    name: one character → homophone (76 pairs: 曾/增 …)       5 %      10 %
    name: one given-name character → unrelated one            1 %       1 %
    phone changed / missing                                  25 / 5    40 / 5
    ID missing / one wrong digit / adjacent digits swapped   5/1.5/1   33/3/2
    birth date missing / digit typo / month-day swapped      10/1/0.5  10/1/0.5
    birth date 20–50 days earlier (lunar birthday)            1 %       1 %
    sex missing                                               5 %       5 %
    village without township (新华村) / missing              20 / 10   20 / 10
    city moved / missing                                     10 / 10   10 / 10
    employer changed / missing / written differently        20/15/10  20/15/10
    ====================================================  ========  ========

"Written differently": without the city, city and trade only, brand and trade only, without
the legal form, or the city in brackets (华宏电子（东莞）有限公司).

Also here, for bench/linkage.py: ``score`` (a links file against the truth) and ``splinkmodel``
(the Splink model it compares with, run as ``python -m bench.linkagedata.splinkmodel``).
"""

from .ledgers import DATA_DIR, GENERATOR_VERSION, Dataset, Spec, ensure_dataset
from .noise import DEFAULT_NOISE, HARD_NOISE, NOISE_BITS, SETTINGS, NoiseRates

__all__ = [
    "DATA_DIR",
    "DEFAULT_NOISE",
    "GENERATOR_VERSION",
    "HARD_NOISE",
    "NOISE_BITS",
    "SETTINGS",
    "Dataset",
    "NoiseRates",
    "Spec",
    "ensure_dataset",
    "rates_table",
]


def rates_table(realized: dict[str, dict[str, float]] | None = None) -> str:
    """The error rates of every setting as a markdown table (with realized rates if given)."""
    names = list(SETTINGS)
    extra = list(realized or {})
    headers = ["error", *names, *(f"{x} (realized)" for x in extra)]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(["---", *["---:"] * (len(headers) - 1)]) + "|",
    ]
    for field in NOISE_BITS:
        cells = [field, *(f"{SETTINGS[s].as_dict()[field] * 100:g} %" for s in names)]
        cells += [f"{(realized or {})[x][field] * 100:.2f} %" for x in extra]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
