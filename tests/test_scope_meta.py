"""Every organization-owned model (default manager built on ScopedQuerySet) must have at least
one cross-organization test, marked ``@pytest.mark.scope_test("<app_label.ModelName>")``.

Test files are read with ``ast`` (not imported), under tests/ and yanxing/*/tests/. A marker
counts when it decorates a test function or a test class, or sits in a module's or class's
``pytestmark``, or in ``pytest.param(..., marks=...)``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.apps import apps
from django.db.models import Model

from yanxing.core.querysets import ScopedQuerySet

from .scope_helpers import markers_in_source

ROOT = Path(__file__).resolve().parent.parent

#: Scope test files whose every test must carry a scope_test marker, except these structural
#: tests (they check the test table itself, not a model).
SCOPE_FILES = sorted(
    p.name for p in (ROOT / "tests").glob("test_scope_*.py") if p.name != "test_scope_meta.py"
)
STRUCTURAL = {
    "test_scope_views.py": {
        "test_every_url_has_a_scope_test",
        "test_url_table_names_real_marked_tests",
    },
}


def scoped_models() -> dict[str, type[Model]]:
    """label → model, for every installed model whose default manager yields a ScopedQuerySet."""
    found: dict[str, type[Model]] = {}
    for model in apps.get_models():
        if isinstance(model._default_manager.get_queryset(), ScopedQuerySet):
            found[model._meta.label] = model
    return found


def repository_test_files() -> list[Path]:
    files = sorted((ROOT / "tests").rglob("test_*.py"))
    for tests_dir in sorted((ROOT / "yanxing").glob("*/tests")):
        files += sorted(tests_dir.rglob("test_*.py"))
    return files


def markers_in_repository() -> dict[str, list[str]]:
    """ "path::test" → labels, over every test file of the repository."""
    result: dict[str, list[str]] = {}
    for path in repository_test_files():
        relative = path.relative_to(ROOT)
        for name, labels in markers_in_source(path.read_text(encoding="utf-8")).items():
            result[f"{relative}::{name}"] = labels
    return result


# --------------------------------------------------------------------------------------------


def test_finds_the_organization_owned_models() -> None:
    # The finder must see at least the models known today (a finder that found nothing would
    # make the next test pass vacuously); new scoped models are covered by the next test.
    assert {
        "orgs.Organization",
        "members.Member",
        "members.Participation",
        "access.Grant",
        "audit.Event",
        "audit.AccessLog",
    } <= set(scoped_models())
    for label, model in scoped_models().items():
        assert hasattr(model._default_manager, "visible_to"), label


def test_every_organization_owned_model_has_a_cross_organization_test() -> None:
    covered: dict[str, list[str]] = {}
    for test, labels in markers_in_repository().items():
        for label in labels:
            covered.setdefault(label, []).append(test)
    missing = sorted(set(scoped_models()) - set(covered))
    assert missing == [], (
        "organization-owned models without a test marked "
        f'@pytest.mark.scope_test("<label>"): {missing}'
    )


def test_scope_markers_name_organization_owned_models() -> None:
    known = set(scoped_models())
    wrong = {
        test: sorted(set(labels) - known)
        for test, labels in markers_in_repository().items()
        if set(labels) - known
    }
    assert wrong == {}, "scope_test markers naming no organization-owned model"


def test_scope_test_files_mark_every_test() -> None:
    for name in SCOPE_FILES:
        path = ROOT / "tests" / name
        markers = markers_in_source(path.read_text(encoding="utf-8"))
        assert markers, f"{name} has no tests"
        unmarked = sorted(
            test
            for test, labels in markers.items()
            if not labels and test not in STRUCTURAL.get(name, set())
        )
        assert unmarked == [], f"{name}: tests without a scope_test marker"


def test_marker_is_registered() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    options = config["tool"]["pytest"]["ini_options"]
    assert any(m.startswith("scope_test(") for m in options["markers"])
    assert "--strict-markers" in options["addopts"]


def test_marker_parser() -> None:
    source = """
import pytest
from pytest import mark

pytestmark = [pytest.mark.django_db, pytest.mark.scope_test("audit.Event")]


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test(model="orgs.Organization")
def test_decorated():
    pass


@mark.scope_test("access.Grant")
def test_bare_mark():
    pass


@pytest.mark.parametrize("x", [pytest.param(1, marks=pytest.mark.scope_test("members.Participation"))])
def test_param(x):
    pass


def test_module_mark_only():
    pass


def helper():
    pytest.mark.scope_test("audit.AccessLog")


@pytest.mark.scope_test("orgs.Organization")
class TestGroup:
    pytestmark = pytest.mark.scope_test("access.Grant")

    def test_inside(self):
        pass


@pytest.mark.other("members.Member")
def test_other_marker():
    pass
"""
    assert markers_in_source(source) == {
        "test_decorated": ["audit.Event", "members.Member", "orgs.Organization"],
        "test_bare_mark": ["audit.Event", "access.Grant"],
        "test_param": ["audit.Event", "members.Participation"],
        "test_module_mark_only": ["audit.Event"],
        "TestGroup::test_inside": ["audit.Event", "access.Grant", "orgs.Organization"],
        "test_other_marker": ["audit.Event"],
    }
