"""Subtree range queries need bytewise ordering of paths, whatever the database's default."""

import pytest
from django.db import connection

from tests import conftest
from yanxing.core.paths import subtree_q
from yanxing.orgs.models import Organization

world = conftest.world


@pytest.mark.django_db
def test_path_columns_use_c_collation_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("collation is a PostgreSQL column property; SQLite compares bytes (BINARY)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE column_name IN ('path', 'org_path') AND table_name IN "
            "('orgs_organization', 'audit_event', 'audit_accesslog') ORDER BY table_name"
        )
        rows = cursor.fetchall()
    assert rows == [
        ("audit_accesslog", "org_path", "C"),
        ("audit_event", "org_path", "C"),
        ("orgs_organization", "path", "C"),
    ]


@pytest.mark.django_db
def test_subtree_range_finds_exactly_the_subtree(world: conftest.World) -> None:
    names = set(
        Organization.objects.filter(subtree_q("path", world.county.path)).values_list(
            "name", flat=True
        )
    )
    assert names == {"甲县委组织部", "解店镇党委", "城西村党支部", "甲县驻北京流动党员党支部"}
