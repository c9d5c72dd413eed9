"""Materialized paths for the organization tree: "000A.001B." — fixed-width base-36 segments.

A subtree is a range query (path >= p AND path < p + "~"), which uses a plain B-tree index on
SQLite and PostgreSQL alike; '~' sorts after every character a path can hold.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

SEGMENT_WIDTH = 4
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
UPPER_BOUND = "~"


def segment(number: int) -> str:
    if number < 0 or number >= len(ALPHABET) ** SEGMENT_WIDTH:
        raise ValueError("path segment out of range")
    digits = []
    for _ in range(SEGMENT_WIDTH):
        number, rem = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[rem])
    return "".join(reversed(digits)) + "."


def segment_value(seg: str) -> int:
    value = 0
    for ch in seg.rstrip("."):
        value = value * len(ALPHABET) + ALPHABET.index(ch)
    return value


def depth_of(path: str) -> int:
    return path.count(".")


def subtree_q(field: str, path: str) -> Q:
    return Q(**{f"{field}__gte": path, f"{field}__lt": path + UPPER_BOUND})


def minimal_roots(paths: Iterable[str]) -> list[str]:
    """Drop paths that lie inside another path of the list."""
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    return roots


def any_subtree_q(field: str, paths: Iterable[str]) -> Q:
    query = Q(pk__in=[])
    for path in minimal_roots(paths):
        query |= subtree_q(field, path)
    return query


def is_within(path: str, roots: Iterable[str]) -> bool:
    return any(path.startswith(root) for root in roots)
