"""Compose the two ledgers and the truth from the people, write them, and reuse what is written."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .noise import (
    EMPLOYER_VARIANTS,
    LEFT_DUPLICATE_NOISE,
    LEFT_LEDGER_NOISE,
    NOISE_BITS,
    SETTINGS,
    VILLAGE_FULL,
    VILLAGE_SHORT,
    Records,
    make_records,
    realized,
)
from .population import (
    Employers,
    Geography,
    IntArray,
    People,
    Tables,
    copy_names,
    make_employers,
    make_geography,
    make_people,
)

#: Bump when the generated data changes, so stored files are regenerated.
GENERATOR_VERSION = 1
ROOT = Path(__file__).resolve().parent.parent.parent
DATA_DIR = ROOT / "bench" / "data" / "linkage"

#: Home-ledger rows that are a second entry of a person already on it.
LEFT_DUPLICATE_SHARE = 0.005
#: Host-ledger rows per home-ledger row.
RIGHT_SHARE = 0.86
#: Host-ledger rows of people on no home ledger (unknown report-ins) …
UNKNOWN_SHARE = 0.04
#: … of whom this share bears the name of a person of the same sex in the same village who is.
UNKNOWN_NAMESAKE_SHARE = 0.30
#: Host-ledger rows that are a second report-in of a person already on it.
RIGHT_DUPLICATE_SHARE = 0.005


@dataclass(frozen=True)
class Spec:
    n: int
    setting: str
    seed: int

    @property
    def stem(self) -> str:
        return f"n{self.n}-{self.setting}-s{self.seed}"


@dataclass(frozen=True)
class Dataset:
    spec: Spec
    left: Path
    right: Path
    truth: Path
    meta_path: Path
    meta: dict[str, Any]
    built_now: bool


def paths(spec: Spec, data_dir: Path = DATA_DIR) -> dict[str, Path]:
    return {
        "left": data_dir / f"left-{spec.stem}.csv",
        "right": data_dir / f"right-{spec.stem}.csv",
        "truth": data_dir / f"truth-{spec.stem}.csv",
        "meta": data_dir / f"meta-{spec.stem}.json",
    }


def ensure_dataset(
    spec: Spec,
    *,
    rebuild: bool = False,
    data_dir: Path = DATA_DIR,
    log: Callable[[str], None] = print,
) -> Dataset:
    """The dataset for ``spec``: the stored files when their metadata matches, else new ones."""
    if spec.setting not in SETTINGS:
        raise ValueError(f"unknown noise setting {spec.setting!r}; known: {', '.join(SETTINGS)}")
    where = paths(spec, data_dir)
    if not rebuild and all(p.exists() for p in where.values()):
        meta = json.loads(where["meta"].read_text())
        if meta.get("spec") == asdict(spec) and meta.get("version") == GENERATOR_VERSION:
            log(
                f"reusing {where['left'].parent.relative_to(ROOT)}/*-{spec.stem}.* (--rebuild to regenerate)"
            )
            return Dataset(
                spec, where["left"], where["right"], where["truth"], where["meta"], meta, False
            )
    log(f"generating {spec.stem}")
    meta = write_dataset(spec, where)
    log(
        f"  {meta['rows']['left']:,} home-ledger and {meta['rows']['right']:,} host-ledger rows "
        f"in {meta['seconds']['total']:.1f} s "
        f"(generate {meta['seconds']['generate']:.1f} s, write {meta['seconds']['write']:.1f} s)"
    )
    return Dataset(spec, where["left"], where["right"], where["truth"], where["meta"], meta, True)


def rng_for(seed: int, part: str) -> np.random.Generator:
    """An independent stream per part, so changing one part leaves the others as they were."""
    return np.random.default_rng([seed, *part.encode()])


@dataclass
class Composed:
    tables: Tables
    geo: Geography
    employers: Employers
    people: People
    left: Records
    left_kind: IntArray  # 0 original, 1 duplicate
    right: Records
    right_kind: IntArray  # 0 copy, 1 unknown, 2 duplicate
    stats: dict[str, Any]


def compose(spec: Spec) -> Composed:
    n = spec.n
    n_left_dup = round(n * LEFT_DUPLICATE_SHARE)
    n_left_people = n - n_left_dup
    n_right = round(n * RIGHT_SHARE)
    n_unknown = round(n_right * UNKNOWN_SHARE)
    n_right_dup = round(n_right * RIGHT_DUPLICATE_SHARE)
    n_reported = n_right - n_unknown - n_right_dup
    if n_reported > n_left_people or min(n_left_people, n_unknown) < 1:
        raise ValueError(f"N={n} is too small")

    tables = Tables.build()
    geo = make_geography(rng_for(spec.seed, "geography"), tables, n)
    employers = make_employers(rng_for(spec.seed, "employers"), tables, n)
    # The people and the home ledger depend on N and the seed only, not on the setting.
    people = make_people(
        rng_for(spec.seed, "people"), n_left_people + n_unknown, tables, geo, employers
    )
    rng = rng_for(spec.seed, "home ledger")
    left_people = np.arange(n_left_people)
    unknown = np.arange(n_left_people, n_left_people + n_unknown)
    namesake_targets = unknown[rng.random(n_unknown) < UNKNOWN_NAMESAKE_SHARE]
    unknown_namesakes = copy_names(rng, people, namesake_targets, left_people)
    left_dup = rng.choice(n_left_people, size=n_left_dup, replace=False)
    left_parts = [
        make_records(rng, people, left_people, LEFT_LEDGER_NOISE, tables, geo, employers),
        make_records(rng, people, left_dup, LEFT_DUPLICATE_NOISE, tables, geo, employers),
    ]
    left_order = rng.permutation(n)
    left = Records.concat(left_parts, left_order)
    left_kind = np.concatenate([np.zeros(n_left_people), np.ones(n_left_dup)]).astype(np.int64)
    left_kind = left_kind[left_order]

    rng = rng_for(spec.seed, f"host ledger {spec.setting}")
    reported = rng.choice(n_left_people, size=n_reported, replace=False)
    on_right = np.concatenate([reported, unknown])
    right_dup = rng.choice(on_right, size=n_right_dup, replace=False)
    person = np.concatenate([on_right, right_dup])
    right_kind = np.concatenate(
        [np.zeros(n_reported), np.ones(n_unknown), np.full(n_right_dup, 2)]
    ).astype(np.int64)
    right_order = rng.permutation(n_right)
    right = make_records(
        rng, people, person[right_order], SETTINGS[spec.setting], tables, geo, employers
    )
    right_kind = right_kind[right_order]

    stats = {
        "people": len(people),
        "left_people": n_left_people,
        "left_duplicate_rows": n_left_dup,
        "right_copies": n_reported,
        "right_unknown_rows": n_unknown,
        "right_unknown_namesakes": unknown_namesakes,
        "right_duplicate_rows": n_right_dup,
        "right_linkable_rows": int(np.isin(person, left_people).sum()),
        "counties": len(geo.county_codes),
        "villages": len(geo.village_full),
        "employers": employers.count,
        **namesake_stats(people, left_people, tables),
    }
    return Composed(tables, geo, employers, people, left, left_kind, right, right_kind, stats)


def namesake_stats(people: People, members: IntArray, tables: Tables) -> dict[str, Any]:
    """Namesakes among the home ledger's people: same name, same village, different person."""
    base = len(tables.chars)
    name = people.name[members]
    key = ((people.village[members] * base + name[:, 0]) * base + name[:, 1]) * base + name[:, 2]
    _, counts = np.unique(key, return_counts=True)
    shared = counts[counts > 1]
    lengths = (name > 0).sum(axis=1)
    heteronym = np.isin(name[:, 0], tables.heteronym_index)
    villages = len(np.unique(people.village[members]))
    return {
        "namesake_groups": len(shared),
        "people_with_namesake": int(shared.sum()),
        "namesake_groups_per_village": round(len(shared) / max(villages, 1), 2),
        "two_char_names": round(float((lengths == 2).mean()), 4),
        "heteronym_surnames": round(float(heteronym.mean()), 4),
    }


def records_frame(
    records: Records, prefix: str, tables: Tables, geo: Geography, employers: Employers
) -> pl.DataFrame:
    n = len(records)
    width = max(7, len(str(n)))
    chars = pl.Series(tables.chars, dtype=pl.String)
    codes = np.where(records.id_digits == 10, ord("X"), records.id_digits + ord("0")).astype(
        np.uint8
    )
    ids = pl.Series(np.ascontiguousarray(codes).view("S18").ravel().astype("U18"))
    villages = pl.Series([*geo.village_full, *geo.village_short, None], dtype=pl.String)
    nv = len(geo.village_full)
    village_index = np.where(
        records.village_form == VILLAGE_FULL,
        records.village,
        np.where(records.village_form == VILLAGE_SHORT, records.village + nv, 2 * nv),
    )
    cities = pl.Series([*tables.cities, None], dtype=pl.String)
    ne = employers.count
    employer_names = pl.Series(
        [*(x for names in employers.names for x in names), None], dtype=pl.String
    )
    employer_index = np.where(
        records.employer >= 0,
        records.employer_variant * ne + records.employer,
        len(employer_names) - 1,
    )
    sexes = pl.Series([None, "男", "女"], dtype=pl.String)
    frame = pl.DataFrame(
        {
            "record_id": pl.Series(np.arange(1, n + 1)),
            "s": chars.gather(records.name[:, 0]),
            "g1": chars.gather(records.name[:, 1]),
            "g2": chars.gather(records.name[:, 2]),
            "id_number": ids,
            "id_present": records.id_present,
            "phone": records.phone,
            "sex": sexes.gather(records.sex),
            "birth_date": pl.Series(records.birth.astype("datetime64[D]")).cast(pl.String),
            "home_village": villages.gather(village_index),
            "city": cities.gather(np.where(records.city >= 0, records.city, len(cities) - 1)),
            "employer": employer_names.gather(employer_index),
        }
    )
    return frame.select(
        (pl.lit(prefix) + pl.col("record_id").cast(pl.String).str.zfill(width)).alias("record_id"),
        pl.concat_str("s", "g1", "g2").alias("name"),
        pl.when("id_present").then("id_number").alias("id_number"),
        pl.when(pl.col("phone") > 0).then(pl.col("phone").cast(pl.String)).alias("phone"),
        "sex",
        "birth_date",
        "home_village",
        "city",
        "employer",
    )


def write_dataset(spec: Spec, where: dict[str, Path]) -> dict[str, Any]:
    start = time.perf_counter()
    c = compose(spec)
    generated = time.perf_counter()
    where["left"].parent.mkdir(parents=True, exist_ok=True)
    left = records_frame(c.left, "L", c.tables, c.geo, c.employers)
    right = records_frame(c.right, "R", c.tables, c.geo, c.employers)
    left_kinds = pl.Series(["original", "duplicate"])
    right_kinds = pl.Series(["copy", "unknown", "duplicate"])
    truth = pl.concat(
        [
            pl.DataFrame(
                {
                    "side": pl.Series(["left"] * len(left)),
                    "record_id": left["record_id"],
                    "person_id": c.left.person,
                    "kind": left_kinds.gather(c.left_kind),
                    "noise": c.left.noise,
                }
            ),
            pl.DataFrame(
                {
                    "side": pl.Series(["right"] * len(right)),
                    "record_id": right["record_id"],
                    "person_id": c.right.person,
                    "kind": right_kinds.gather(c.right_kind),
                    "noise": c.right.noise,
                }
            ),
        ]
    )
    for key, frame in (("left", left), ("right", right), ("truth", truth)):
        tmp = where[key].with_suffix(".tmp")
        frame.write_csv(tmp)
        tmp.replace(where[key])
    done = time.perf_counter()
    meta = {
        "spec": asdict(spec),
        "version": GENERATOR_VERSION,
        "built_at": time.strftime("%Y-%m-%d %H:%M %z"),
        "seconds": {
            "generate": round(generated - start, 2),
            "write": round(done - generated, 2),
            "total": round(done - start, 2),
        },
        "rows": {"left": len(left), "right": len(right)},
        "stats": c.stats,
        "rates": {
            "right": SETTINGS[spec.setting].as_dict(),
            "left": LEFT_LEDGER_NOISE.as_dict(),
            "left_duplicate": LEFT_DUPLICATE_NOISE.as_dict(),
        },
        "realized": {
            "right": realized(c.right.noise),
            "left": realized(c.left.noise[c.left_kind == 0]),
            "left_duplicate": realized(c.left.noise[c.left_kind == 1]),
        },
        "noise_bits": {name: 1 << i for i, name in enumerate(NOISE_BITS)},
        "employer_variants": list(EMPLOYER_VARIANTS),
    }
    tmp = where["meta"].with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2))
    tmp.replace(where["meta"])
    return meta
