"""Materialized paths: segments, subtree queries, minimal roots, containment."""

from __future__ import annotations

import pytest
from django.db.models import Q

from yanxing.core.paths import (
    ALPHABET,
    SEGMENT_WIDTH,
    UPPER_BOUND,
    any_subtree_q,
    depth_of,
    is_within,
    minimal_roots,
    segment,
    segment_value,
    subtree_q,
)
from yanxing.orgs.models import Organization, OrgKind

MAX = len(ALPHABET) ** SEGMENT_WIDTH - 1


class TestSegment:
    @pytest.mark.parametrize(
        ("number", "text"),
        [
            (0, "0000."),
            (1, "0001."),
            (9, "0009."),
            (10, "000A."),
            (35, "000Z."),
            (36, "0010."),
            (36 * 36, "0100."),
            (MAX, "ZZZZ."),
        ],
    )
    def test_known_values(self, number: int, text: str) -> None:
        assert segment(number) == text
        assert segment_value(text) == number
        assert segment_value(text.rstrip(".")) == number

    @pytest.mark.parametrize("number", [-1, MAX + 1, 10**9])
    def test_out_of_range(self, number: int) -> None:
        with pytest.raises(ValueError, match="path segment out of range"):
            segment(number)

    def test_round_trip_and_order(self) -> None:
        numbers = [0, 1, 2, 35, 36, 37, 1295, 1296, 46655, 46656, MAX - 1, MAX]
        segments = [segment(n) for n in numbers]
        assert [segment_value(s) for s in segments] == numbers
        assert sorted(segments) == segments  # string order is numeric order
        assert {len(s) for s in segments} == {SEGMENT_WIDTH + 1}

    def test_depth(self) -> None:
        assert depth_of("") == 0
        assert depth_of("0001.") == 1
        assert depth_of("0001.000A.ZZZZ.") == 3

    def test_upper_bound_sorts_after_every_path_character(self) -> None:
        assert all(ch < UPPER_BOUND for ch in ALPHABET + ".")


class TestSubtreeQ:
    def test_shape(self) -> None:
        assert subtree_q("path", "0001.") == Q(path__gte="0001.", path__lt="0001.~")
        assert subtree_q("organization__path", "0001.0002.") == Q(
            organization__path__gte="0001.0002.", organization__path__lt="0001.0002.~"
        )

    def test_any_subtree_q_of_nothing_matches_nothing(self) -> None:
        assert any_subtree_q("path", []) == Q(pk__in=[])

    def test_any_subtree_q_uses_minimal_roots(self) -> None:
        q = any_subtree_q("path", ["0001.0002.", "0001.", "0003."])
        assert q == Q(pk__in=[]) | subtree_q("path", "0001.") | subtree_q("path", "0003.")

    @pytest.mark.django_db
    def test_against_the_database(self) -> None:
        paths = [
            "0001.",
            "0001.0001.",
            "0001.0009.",
            "0001.000A.",
            "0001.000Z.",
            "0001.ZZZZ.",
            "0001.0001.0001.",
            "0001.ZZZZ.ZZZZ.",
            "0002.",
            "0002.0001.",
            "000Z.",
            "0010.",
            "ZZZZ.",
        ]
        for number, path in enumerate(paths):
            Organization.objects.create(
                name=f"org {number}",
                kind=OrgKind.COUNTY_DEPARTMENT,
                path=path,
                depth=depth_of(path),
            )

        def query(q: Q) -> list[str]:
            return sorted(Organization.objects.filter(q).values_list("path", flat=True))

        for root in paths:
            expected = sorted(p for p in paths if p.startswith(root))
            assert query(subtree_q("path", root)) == expected, root
        assert query(subtree_q("path", "0001.")) == [
            "0001.",
            "0001.0001.",
            "0001.0001.0001.",
            "0001.0009.",
            "0001.000A.",
            "0001.000Z.",
            "0001.ZZZZ.",
            "0001.ZZZZ.ZZZZ.",
        ]
        assert query(subtree_q("path", "0001.ZZZZ.")) == ["0001.ZZZZ.", "0001.ZZZZ.ZZZZ."]
        assert query(any_subtree_q("path", ["0001.000A.", "0002.", "0001.000A."])) == [
            "0001.000A.",
            "0002.",
            "0002.0001.",
        ]
        assert query(any_subtree_q("path", [])) == []


class TestMinimalRoots:
    @pytest.mark.parametrize(
        ("paths", "roots"),
        [
            ([], []),
            (["0001."], ["0001."]),
            (["0001.0002.", "0001."], ["0001."]),
            (["0001.", "0001.0002.", "0001.0002.0003."], ["0001."]),
            (
                ["0002.0001.", "0001.0002.", "0001.0003."],
                ["0001.0002.", "0001.0003.", "0002.0001."],
            ),
            (["0001.", "0001.", "0002."], ["0001.", "0002."]),
            (["0001.0002.", "0001.0002.0001.", "0003.", "0001."], ["0001.", "0003."]),
        ],
    )
    def test_minimal_roots(self, paths: list[str], roots: list[str]) -> None:
        assert minimal_roots(paths) == roots

    def test_accepts_a_generator(self) -> None:
        assert minimal_roots(p for p in ["0002.", "0001."]) == ["0001.", "0002."]


class TestIsWithin:
    def test_is_within(self) -> None:
        roots = ["0001.0002.", "0003."]
        assert is_within("0001.0002.", roots) is True
        assert is_within("0001.0002.0005.", roots) is True
        assert is_within("0003.0001.0001.", roots) is True
        assert is_within("0001.", roots) is False  # the parent of a root is outside
        assert is_within("0001.0003.", roots) is False  # a sibling is outside
        assert is_within("0002.", roots) is False
        assert is_within("0001.0002.", []) is False
