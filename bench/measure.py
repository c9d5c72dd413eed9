"""Timed operations on the benchmark registry, as a county admin and a host-branch secretary.

Each operation is what a page or selector does, not a hand-written query: the scoped member
list (`selectors.members_for` + the list view's ordering, count and first page), searches
through `selectors.search_q`, and full HTTP responses through `django.test.Client`.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yanxing.access.policy import clear_cache
from yanxing.accounts.models import User
from yanxing.members import selectors
from yanxing.members.models import Member

PAGE_SIZE = 25


@dataclass
class Row:
    persona: str
    operation: str
    rows: int | None
    queries: int
    median_ms: float
    p95_ms: float


@dataclass
class Persona:
    label: str
    user: User
    member: Member  # a member on this persona's scope with history and a participation


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(fn: Callable[[], Any], reps: int, warmup: int) -> tuple[list[float], Any]:
    result = None
    for _ in range(warmup):
        result = fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, result


def list_page(user: User, term: str = "") -> int:
    """The list view's work: scoped queryset, optional search, name order, count, first page."""
    clear_cache(user)
    queryset: QuerySet[Member] = selectors.members_for(user)
    if term:
        queryset = queryset.filter(selectors.search_q(term))
    queryset = queryset.order_by("name_pinyin", "pk")
    total = queryset.count()
    page = list(queryset[:PAGE_SIZE])
    if total and not page:
        raise RuntimeError("count and page disagree")
    return total


def http_get(client: Client, url: str) -> Callable[[], int]:
    def get() -> int:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return len(response.content)

    return get


def operations(persona: Persona) -> list[tuple[str, Callable[[], Any], bool]]:
    """(label, operation, whether its result is a row count)."""
    user, member = persona.user, persona.member
    client = Client()
    client.force_login(user)
    prefix = member.name_pinyin[:5]
    return [
        ("member list: count + first 25 by pinyin", lambda: list_page(user), True),
        (f"search name {member.name}", lambda: list_page(user, member.name), True),
        (f"search pinyin prefix '{prefix}'", lambda: list_page(user, prefix), True),
        ("search full ID number (blind index)", lambda: list_page(user, member.id_number), True),
        ("GET /members/<pk>/ (member page)", http_get(client, f"/members/{member.pk}/"), False),
        ("GET /members/ (list page)", http_get(client, "/members/"), False),
    ]


class QueryCounter:
    """Counts SQL statements, including those of a request through the test client (which
    resets `connection.queries` when the request starts)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def measure(
    personas: list[Persona], reps: int, warmup: int, log: Callable[[str], None]
) -> list[Row]:
    rows: list[Row] = []
    for persona in personas:
        for label, fn, counts in operations(persona):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                fn()
            samples, result = timed(fn, reps, warmup)
            row = Row(
                persona=persona.label,
                operation=label,
                rows=int(result) if counts else None,
                queries=counter.count,
                median_ms=round(statistics.median(samples), 1),
                p95_ms=round(percentile(samples, 0.95), 1),
            )
            log(f"  {row.persona} · {row.operation}: {row.median_ms} ms")
            rows.append(row)
    return rows


def explain(personas: list[Persona], log: Callable[[str], None]) -> None:
    """Print the plan of every SQL statement the list operation runs, per persona."""
    for persona in personas:
        with CaptureQueriesContext(connection) as captured:
            list_page(persona.user)
        for query in captured.captured_queries:
            sql = query["sql"]
            log(f"\n-- {persona.label}: {sql}")
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    for (line,) in cursor.fetchall():
                        log(line)
                else:
                    cursor.execute("EXPLAIN QUERY PLAN " + sql)
                    for _id, parent, _unused, detail in cursor.fetchall():
                        log(f"{parent:>4} {detail}")


def rows_as_dicts(rows: list[Row]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]
