"""Who may see what, page by page: every URL of the project, every persona, allowed and
cross-organization cases.

``URL_TESTS`` maps every URL name of the urlconf to the tests that cover it; a URL added without
a test makes ``test_every_url_has_a_scope_test`` fail. Expectations per persona live in
``tests/scope_helpers.py`` (MEMBERS_SEEN, ORGS_SEEN, MAY_REVEAL, MAY_CHANGE, ORGS_CHANGE).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from yanxing.access.models import Grant
from yanxing.access.roles import Action
from yanxing.accounts.models import User
from yanxing.audit.models import AccessLog, Event
from yanxing.members import services as member_services
from yanxing.members.exports import members_csv
from yanxing.members.models import Member, Participation
from yanxing.orgs import services as org_services
from yanxing.orgs.models import Organization

from .conftest import PASSWORD, PERSONAS, World
from .scope_helpers import (
    COUNTY_A_ORGS,
    COUNTY_B_ORGS,
    EXTRA_STAFF,
    MAY_CHANGE,
    MAY_EXPORT,
    MAY_REVEAL,
    MEMBERS,
    MEMBERS_SEEN,
    NON_STAFF,
    ORGS_CHANGE,
    ORGS_SEEN,
    STAFF_PERSONAS,
    Extra,
    add_extra_staff,
    assert_no_leak,
    assert_turned_away,
    body,
    check_member_export,
    markers_in_source,
    member,
    member_ids,
    missing_pk,
    not_found_body,
    org_ids,
    select_options,
    signed_in,
    without_echo,
)

TESTS_DIR = Path(__file__).resolve().parent
ALL_STAFF = STAFF_PERSONAS + list(EXTRA_STAFF)
EVERYONE = PERSONAS + list(EXTRA_STAFF)
ALL_ORGS = COUNTY_A_ORGS + COUNTY_B_ORGS

# --------------------------------------------------------------------------------------------
# The table: every URL name → the tests that check it for every persona.
# --------------------------------------------------------------------------------------------

#: Public pages that show no organization-owned data (sign-in, sign-out, language switch).
PUBLIC_URLS = {"set_language", "accounts:login", "accounts:logout", "accounts:member_login"}

API = "test_scope_api.py::"
URL_TESTS: dict[str, list[str]] = {
    "dashboards:home": ["test_dashboard_counts"],
    "members:list": [
        "test_member_list",
        "test_member_search",
        "test_member_list_org_dropdown",
        "test_member_list_org_filter",
        "test_cross_county_participation",
    ],
    "members:create": ["test_member_create_choices", "test_member_create_home_org_scope"],
    "members:export": ["test_member_export", "test_member_export_search_and_plain"],
    "members:autocomplete": ["test_member_autocomplete"],
    "members:detail": ["test_member_detail", "test_cross_county_participation"],
    "members:edit": ["test_member_edit"],
    "members:reveal": ["test_member_reveal"],
    "members:action": [
        "test_member_action_lost_and_restore",
        "test_member_action_participate",
        "test_member_action_end_participation",
    ],
    "orgs:tree": ["test_org_tree"],
    "orgs:detail": ["test_org_detail", "test_cross_county_participation"],
    "orgs:create": ["test_org_create"],
    "orgs:edit": ["test_org_edit"],
    "orgs:action": ["test_org_action", "test_org_move_scope"],
    "audit:events": ["test_audit_events"],
    "audit:access": ["test_audit_access_log"],
    "audit:changes": ["test_audit_changes"],
    "accounts:security": ["test_account_pages"],
    "accounts:totp_setup": ["test_account_pages"],
    "accounts:totp_verify": ["test_account_pages"],
    "accounts:member_home": ["test_member_home"],
    "regions:search": ["test_region_search"],
    "api-root": [API + "test_api_root"],
    "api-schema": [API + "test_api_schema_and_docs"],
    "api-docs": [API + "test_api_schema_and_docs"],
    "organization-list": [API + "test_api_org_list", API + "test_api_org_parent_filter"],
    "organization-detail": [API + "test_api_org_detail"],
    "member-list": [
        API + "test_api_member_list",
        API + "test_api_member_filters",
        API + "test_api_member_create_home_org_scope",
    ],
    "member-detail": [API + "test_api_member_retrieve", API + "test_api_member_patch"],
    "member-reveal": [API + "test_api_member_reveal"],
}


def url_names() -> set[str]:
    def walk(patterns: list[Any], prefix: str) -> set[str]:
        names: set[str] = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                names |= walk(pattern.url_patterns, namespace)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
                names.add(prefix + pattern.name)
        return names

    return walk(get_resolver().url_patterns, "")


def marked_tests(path: Path) -> dict[str, list[str]]:
    """Test functions of a file → the model labels of their scope_test markers."""
    return markers_in_source(path.read_text(encoding="utf-8"))


def all_url_tests() -> dict[str, list[str]]:
    """This file's table plus the ``URL_TESTS`` of every other tests/test_scope_*.py file, whose
    references are prefixed with that file's name ("test_scope_ledgers.py::test_x")."""
    merged = {name: list(refs) for name, refs in URL_TESTS.items()}
    for path in sorted(TESTS_DIR.glob("test_scope_*.py")):
        if path.name == Path(__file__).name:
            continue
        module = importlib.import_module(f"tests.{path.stem}")
        for name, refs in getattr(module, "URL_TESTS", {}).items():
            assert name not in merged, f"{name} is in two URL tables"
            merged[name] = [f"{path.name}::{ref}" for ref in refs]
    return merged


def test_every_url_has_a_scope_test() -> None:
    names = url_names()
    table = all_url_tests()
    assert names >= PUBLIC_URLS, sorted(PUBLIC_URLS - names)
    assert not PUBLIC_URLS & set(table)
    assert sorted(names - PUBLIC_URLS - set(table)) == [], "URLs without a scope test"
    assert sorted(set(table) - names) == [], "table rows for URLs that no longer exist"


def test_url_table_names_real_marked_tests() -> None:
    files: dict[str, dict[str, list[str]]] = {"": marked_tests(Path(__file__))}
    for url_name, tests in all_url_tests().items():
        assert tests, url_name
        for ref in tests:
            prefix, _, name = ref.rpartition("::")
            if prefix and prefix not in files:
                files[prefix] = marked_tests(TESTS_DIR / prefix)
            assert name in files[prefix], f"{url_name}: no test {ref}"
            assert files[prefix][name], f"{url_name}: {ref} carries no scope_test marker"


# --------------------------------------------------------------------------------------------
# Fixtures and small helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def extra(world: World) -> Extra:
    return add_extra_staff(world)


@pytest.fixture
def login(world: World, extra: Extra) -> Callable[[str], Client]:
    """login("village_viewer") → a Client signed in as that persona (anonymous: not signed in)."""

    return lambda persona: signed_in(world, extra, persona)


def ids_of(response: Any) -> set[int]:
    return {obj.pk for obj in response.context["object_list"]}


def assert_404_like_missing(
    client: Client, path: str, missing_path: str, method: str = "get", data: Any = None
) -> None:
    response = getattr(client, method)(path, data or {})
    missing = getattr(client, method)(missing_path, data or {})
    assert response.status_code == 404
    assert not_found_body(response, path) == not_found_body(missing, missing_path)


def expected_org_members(org_key: str) -> set[str]:
    """Members whose home org or active participation lies in the subtree of `org_key`."""
    return {
        "county": {"m_away", "m_local"},
        "township": {"m_away", "m_local"},
        "village": {"m_away", "m_local"},
        "host": {"m_away"},
        "other_county": {"m_other"},
        "other_branch": {"m_other"},
    }[org_key]


# --------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------

BEIJING = [{"destination__full_name": "北京市市辖区", "n": 1}]
DONGGUAN = [{"destination__full_name": "广东省东莞市", "n": 1}]
DASHBOARD_KEYS = ("total", "away", "lost", "away_unclear", "orgs", "external_orgs", "provinces")
#: persona → dashboard figures (in DASHBOARD_KEYS order) and the top destinations.
DASHBOARD: dict[str, tuple[tuple[int, ...], list[dict[str, Any]]]] = {
    "county_admin": ((2, 1, 0, 1, 4, 1, 1), BEIJING),
    "home_secretary": ((2, 1, 0, 1, 1, 0, 0), BEIJING),
    "host_secretary": ((1, 1, 0, 1, 1, 1, 1), BEIJING),
    "other_secretary": ((1, 1, 1, 1, 1, 1, 1), DONGGUAN),
    "village_viewer": ((2, 1, 0, 1, 1, 0, 0), BEIJING),
    "village_staff": ((2, 1, 0, 1, 1, 0, 0), BEIJING),
    "host_auditor": ((1, 1, 0, 1, 1, 1, 1), BEIJING),
    "other_admin": ((1, 1, 1, 1, 2, 1, 1), DONGGUAN),
}


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_dashboard_counts(world: World, extra: Extra, login: Any, persona: str) -> None:
    # County B's member is lost: county A's counts must not move.
    member_services.mark_lost_contact(
        actor=extra.other_admin, member=world.m_other, since=dt.date(2025, 1, 2), note="电话停机"
    )
    response = login(persona).get("/")
    if persona in NON_STAFF:
        assert response.status_code == 302
        assert response["Location"] == ("/m/" if persona == "member_user" else "/login/")
        return
    assert response.status_code == 200
    figures, top = DASHBOARD[persona]
    assert response.context["o"] == {**dict(zip(DASHBOARD_KEYS, figures)), "top_destinations": top}
    html = body(response)
    assert f'data-testid="dash-total">{figures[0]}<' in html
    assert_no_leak(html, world, persona)


# --------------------------------------------------------------------------------------------
# Member list, search, organization dropdown and filter
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_list(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    response = client.get("/members/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/members/")
        return
    assert response.status_code == 200
    assert ids_of(response) == member_ids(world, MEMBERS_SEEN[persona])
    assert response.context["paginator"].count == len(MEMBERS_SEEN[persona])
    assert_no_leak(body(response), world, persona)
    for key in MEMBERS_SEEN[persona]:
        assert member(world, key).id_masked in body(response)
    # The htmx partial (sorting, paging, filtering in place) is scoped the same way.
    for sort in ("name", "-org", "status", "-updated"):
        partial = client.get("/members/", {"sort": sort}, HTTP_HX_REQUEST="true")
        assert partial.status_code == 200
        assert next(t.name for t in partial.templates) == "members/_table.html"
        assert ids_of(partial) == member_ids(world, MEMBERS_SEEN[persona])
        assert_no_leak(body(partial), world, persona)


def search_terms(m: Member) -> dict[str, str]:
    return {
        "name": m.name,
        "pinyin": m.name_pinyin,
        "full ID": m.id_number,
        "phone": m.phone,
        "phone with spaces": f"{m.phone[:3]} {m.phone[3:7]} {m.phone[7:]}",
        "ID last 4": m.id_number[-4:],
        "masked ID": m.id_masked,
    }


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_member_search(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        expected = {m.pk} if key in MEMBERS_SEEN[persona] else set()
        for kind, term in search_terms(m).items():
            response = client.get("/members/", {"q": term})
            assert response.status_code == 200
            assert ids_of(response) == expected, f"{persona} q={kind} of {key}"
            assert_no_leak(without_echo(body(response), term), world, persona)
    response = client.get("/members/", {"q": "不存在的人"})
    assert ids_of(response) == set()


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_member_list_org_dropdown(world: World, login: Any, persona: str) -> None:
    html = body(login(persona).get("/members/"))
    options = select_options(html, "org")
    assert set(options) == {str(pk) for pk in org_ids(world, ORGS_SEEN[persona])}
    assert sorted(options.values()) == sorted(getattr(world, k).name for k in ORGS_SEEN[persona])


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_member_list_org_filter(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    unknown = client.get("/members/", {"org": missing_pk(Organization)})
    # An organization the actor cannot see is refused like a missing one: the filter form is
    # invalid and the list falls back to everything the actor may see, nothing more.
    assert unknown.context["filter"].errors["org"]
    assert ids_of(unknown) == member_ids(world, MEMBERS_SEEN[persona])
    for key in ALL_ORGS:
        response = client.get("/members/", {"org": getattr(world, key).pk})
        assert response.status_code == 200
        if key in ORGS_SEEN[persona]:
            expected = expected_org_members(key) & MEMBERS_SEEN[persona]
            assert not response.context["filter"].errors
            assert ids_of(response) == member_ids(world, expected)
        else:
            assert (
                response.context["filter"].errors["org"] == unknown.context["filter"].errors["org"]
            )
            assert ids_of(response) == ids_of(unknown)
        assert_no_leak(body(response), world, persona)


# --------------------------------------------------------------------------------------------
# Member create, detail, edit, reveal, actions
# --------------------------------------------------------------------------------------------

#: members.change over active organizations that hold membership relations.
HOME_ORG_CHOICES: dict[str, set[str]] = {
    "county_admin": {"township", "village", "host"},
    "home_secretary": {"village"},
    "host_secretary": {"host"},
    "other_secretary": {"other_branch"},
    "village_viewer": set(),
    "village_staff": {"village"},
    "host_auditor": set(),
    "other_admin": {"other_branch"},
}


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_create_choices(world: World, login: Any, persona: str) -> None:
    response = login(persona).get("/members/new/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/members/new/")
        return
    assert response.status_code == 200
    options = select_options(body(response), "home_org")
    assert set(options) == {str(pk) for pk in org_ids(world, HOME_ORG_CHOICES[persona])}
    assert_no_leak(body(response), world, persona)


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_create_home_org_scope(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for number, key in enumerate(ALL_ORGS):
        org = getattr(world, key)
        name = f"测试{'甲乙丙丁戊己'[number]}"
        before = Member.objects.count()
        events = Event.objects.count()
        response = client.post(
            "/members/new/",
            {
                "name": name,
                "home_org": org.pk,
                "category": "full",
                "mobility_status": "local",
                "wish_return_business": "unknown",
                "wish_village_cadre": "unknown",
            },
        )
        if persona in NON_STAFF:
            assert_turned_away(response, persona, "/members/new/")
            assert Member.objects.count() == before
        elif key in HOME_ORG_CHOICES[persona]:
            created = Member.objects.get(name=name)
            assert response.status_code == 302
            assert response["Location"] == f"/members/{created.pk}/"
            assert created.home_org == org
            assert Event.objects.count() == events + 1
        else:
            assert response.status_code == 400
            assert response.context["form"].errors["home_org"]
            assert Member.objects.count() == before
            assert Event.objects.count() == events
            assert_no_leak(body(response), world, persona)


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("members.Participation")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_detail(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    missing = f"/members/{missing_pk(Member)}/"
    for key in MEMBERS:
        m = member(world, key)
        path = f"/members/{m.pk}/"
        response = client.get(path)
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
        elif key in MEMBERS_SEEN[persona]:
            assert response.status_code == 200
            html = body(response)
            assert m.name in html and m.id_masked in html and m.phone_masked in html
            assert ('data-testid="reveal-id"' in html) == (key in MAY_REVEAL[persona])
            shown = {p.pk for p in response.context["participations"]}
            assert shown == set(m.participations.values_list("pk", flat=True))
            assert_no_leak(html, world, persona)
        else:
            assert_404_like_missing(client, path, missing)


def edit_payload(m: Member, employer: str) -> dict[str, str]:
    m = Member.objects.get(pk=m.pk)
    return {
        "name": m.name,
        "id_number": "",
        "phone": "",
        "category": m.category,
        "mobility_status": m.mobility_status,
        "destination": m.destination_id or "",
        "employer": employer,
        "wish_return_business": m.wish_return_business,
        "wish_village_cadre": m.wish_village_cadre,
    }


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_edit(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    missing = f"/members/{missing_pk(Member)}/edit/"
    for key in MEMBERS:
        m = member(world, key)
        path = f"/members/{m.pk}/edit/"
        before = Member.objects.get(pk=m.pk).employer
        get = client.get(path)
        post = client.post(path, edit_payload(m, f"{persona}单位"))
        after = Member.objects.get(pk=m.pk).employer
        if persona in NON_STAFF:
            assert_turned_away(get, persona, path)
            assert_turned_away(post, persona, path)
            assert after == before
        elif key in MAY_CHANGE[persona]:
            assert get.status_code == 200
            assert_no_leak(body(get), world, persona)
            assert post.status_code == 302
            assert post["Location"] == f"/members/{m.pk}/"
            assert after == f"{persona}单位"
        else:
            assert_404_like_missing(client, path, missing)
            assert_404_like_missing(client, path, missing, "post", edit_payload(m, "x"))
            assert after == before


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("audit.AccessLog")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_reveal(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    user = client.session.get("_auth_user_id")
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        for field in ("id_number", "phone"):
            path = f"/members/{m.pk}/reveal/{field}/"
            missing = f"/members/{missing_pk(Member)}/reveal/{field}/"
            logged = AccessLog.objects.count()
            response = client.post(path)
            if persona in NON_STAFF:
                assert_turned_away(response, persona, path)
                assert AccessLog.objects.count() == logged
            elif key in MAY_REVEAL[persona]:
                assert response.status_code == 200
                assert getattr(m, field) in body(response)
                entry = AccessLog.objects.order_by("-id")[0]
                assert AccessLog.objects.count() == logged + 1
                assert (entry.action, entry.fields, entry.target_id) == ("reveal", field, str(m.pk))
                assert str(entry.actor_id) == user
                assert entry.org_path == m.home_org.path
                assert client.get(path).status_code == 405
            else:
                assert_404_like_missing(client, path, missing, "post")
                assert getattr(m, field) not in body(client.post(path))
                assert AccessLog.objects.count() == logged


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_action_lost_and_restore(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in MEMBERS:
        m = member(world, key)
        lost = f"/members/{m.pk}/do/lost/"
        restore = f"/members/{m.pk}/do/restore/"
        response = client.post(lost, {"since": "2025-01-02", "note": "电话停机"})
        state = Member.objects.get(pk=m.pk).contact_state
        if persona in NON_STAFF:
            assert_turned_away(response, persona, lost)
            assert state == "in_contact"
        elif key in MAY_CHANGE[persona]:
            assert response.status_code == 302
            assert response["Location"] == f"/members/{m.pk}/"
            assert state == "lost"
            response = client.post(restore, {"on": "2025-02-03", "how": "回电"})
            assert response.status_code == 302
            assert Member.objects.get(pk=m.pk).contact_state == "in_contact"
        elif key in MEMBERS_SEEN[persona]:
            # Sees the member, may not change it: the service re-checks and answers 404.
            assert response.status_code == 404
            assert state == "in_contact"
        else:
            missing = f"/members/{missing_pk(Member)}/do/lost/"
            assert_404_like_missing(
                client, lost, missing, "post", {"since": "2025-01-02", "note": "x"}
            )
            assert state == "in_contact"
    if persona not in NON_STAFF:
        for key in MEMBERS_SEEN[persona]:
            assert (
                client.post(f"/members/{member(world, key).pk}/do/no-such-verb/").status_code == 404
            )


#: members.change over active organizations: where a persona may add a participation.
PARTICIPATION_ORGS: dict[str, set[str]] = {
    "county_admin": set(COUNTY_A_ORGS),
    "home_secretary": {"village"},
    "host_secretary": {"host"},
    "other_secretary": {"other_branch"},
    "village_viewer": set(),
    "village_staff": {"village"},
    "host_auditor": set(),
    "other_admin": set(COUNTY_B_ORGS),
}


@pytest.mark.scope_test("members.Participation")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_member_action_participate(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in MEMBERS:
        m = member(world, key)
        if key in MAY_CHANGE[persona]:
            detail = client.get(f"/members/{m.pk}/")
            options = select_options(body(detail), "organization")
            assert set(options) == {str(pk) for pk in org_ids(world, PARTICIPATION_ORGS[persona])}
        for org_key in ALL_ORGS:
            org = getattr(world, org_key)
            path = f"/members/{m.pk}/do/participate/"
            existing = Participation.objects.filter(
                member=m, organization=org, ended_on=None
            ).exists()
            response = client.post(path, {"organization": org.pk, "started_on": "2025-03-01"})
            now = Participation.objects.filter(member=m, organization=org, ended_on=None).exists()
            if key not in MEMBERS_SEEN[persona]:
                assert response.status_code == 404
                assert now == existing
            else:
                assert response.status_code == 302
                allowed = key in MAY_CHANGE[persona] and org_key in PARTICIPATION_ORGS[persona]
                assert now == (existing or allowed), f"{persona}: {key} at {org_key}"


@pytest.mark.scope_test("members.Participation")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_member_action_end_participation(world: World, login: Any, persona: str) -> None:
    # m_other also takes part in another branch of county B.
    other_group = Organization.objects.create(
        name="乙县驻东莞党支部第一党小组",
        kind="party_group",
        parent=world.other_branch,
        path=world.other_branch.path + "0001.",
        depth=3,
    )
    foreign = Participation.objects.create(
        member=world.m_other, organization=other_group, started_on=dt.date(2024, 1, 1)
    )
    host = Participation.objects.get(member=world.m_away, organization=world.host)
    client = login(persona)
    for participation, key in ((host, "m_away"), (foreign, "m_other")):
        m = member(world, key)
        path = f"/members/{m.pk}/do/end-participation/"
        response = client.post(path, {"participation": participation.pk})
        ended = Participation.objects.get(pk=participation.pk).ended_on
        if key in MAY_CHANGE[persona]:
            assert response.status_code == 302
            assert ended == dt.date.today()
        else:
            assert response.status_code == 404
            assert ended is None
        # Someone else's participation id on a member the actor may change: 404.
        for own_key in MAY_CHANGE[persona] - {key}:
            own = member(world, own_key)
            mixed = client.post(
                f"/members/{own.pk}/do/end-participation/", {"participation": participation.pk}
            )
            assert mixed.status_code == 404


# --------------------------------------------------------------------------------------------
# Export and autocomplete
# --------------------------------------------------------------------------------------------


def csv_rows(response: HttpResponse) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("audit.AccessLog")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_export(world: World, login: Any, persona: str) -> None:
    check_member_export(
        world,
        login(persona),
        persona,
        "/members/export.csv",
        lambda response: (csv_rows(response), response.content.decode("utf-8")),
    )


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", sorted(MAY_EXPORT))
def test_member_export_search_and_plain(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        expected = [m.name] if key in MEMBERS_SEEN[persona] else []
        for term in (m.name, m.id_number, m.phone, m.id_number[-4:]):
            rows = csv_rows(client.get("/members/export.csv", {"q": term}))
            assert [r[0] for r in rows[1:]] == expected, f"{persona} q={term}"
        # The list's organization filter: an organization out of scope is refused like a
        # missing one and the export falls back to the actor's whole scope.
        home_key = next(k for k in ALL_ORGS if getattr(world, k).pk == m.home_org_id)
        scoped = expected_org_members(home_key) if home_key in ORGS_SEEN[persona] else set(MEMBERS)
        rows = csv_rows(client.get("/members/export.csv", {"org": m.home_org_id}))
        assert {r[0] for r in rows[1:]} == {
            member(world, k).name for k in scoped & MEMBERS_SEEN[persona]
        }
    plain = client.get("/members/export.csv", {"plain": "1"})
    by_name = {r[0]: r for r in csv_rows(plain)[1:]}
    for key in MEMBERS_SEEN[persona]:
        m = Member.objects.get(pk=member(world, key).pk)
        shown = (
            (m.id_number, m.phone) if key in MAY_REVEAL[persona] else (m.id_masked, m.phone_masked)
        )
        assert (by_name[m.name][1], by_name[m.name][2]) == shown
    for key in set(MEMBERS) - MEMBERS_SEEN[persona]:
        m = Member.objects.get(pk=member(world, key).pk)
        assert m.id_number not in plain.content.decode() and m.name not in by_name
    entry = AccessLog.objects.order_by("-id")[0]
    assert (entry.action, entry.reason, entry.row_count) == (
        "export",
        "plain",
        len(MEMBERS_SEEN[persona]),
    )


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_autocomplete(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        for term in (m.name, m.name_pinyin, m.id_number, m.phone, m.id_number[-4:]):
            response = client.get("/members/autocomplete/", {"q": term})
            if persona in NON_STAFF:
                assert response.status_code == 403
                assert json.loads(response.content) == {"results": []}
                continue
            assert response.status_code == 200
            results = json.loads(response.content)["results"]
            if key in MEMBERS_SEEN[persona]:
                assert results == [
                    {"value": m.pk, "text": f"{m.name}（{m.id_masked}）· {m.home_org.name}"}
                ]
            else:
                assert results == []
            assert_no_leak(response.content.decode("utf-8"), world, persona)


# --------------------------------------------------------------------------------------------
# Organizations
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_org_tree(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    response = client.get("/orgs/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/orgs/")
        return
    assert response.status_code == 200
    assert ids_of(response) == org_ids(world, ORGS_SEEN[persona])
    assert_no_leak(body(response), world, persona)
    for key in ALL_ORGS:
        org = getattr(world, key)
        found = client.get("/orgs/", {"q": org.name})
        assert ids_of(found) == ({org.pk} if key in ORGS_SEEN[persona] else set())
        assert_no_leak(without_echo(body(found), org.name), world, persona)
    external = client.get("/orgs/", {"is_external": "true"})
    seen_external = {k for k in ORGS_SEEN[persona] if getattr(world, k).is_external}
    assert ids_of(external) == org_ids(world, seen_external)


#: Organization → its page's counts (the same for every persona that sees it here): home
#: members in the subtree, of them away, lost, members taking part there, child organizations.
ORG_STATS: dict[str, dict[str, int]] = {
    key: dict(zip(("total", "away", "lost", "hosted", "children"), figures))
    for key, figures in {
        "county": (2, 1, 0, 1, 2),
        "township": (2, 1, 0, 0, 1),
        "village": (2, 1, 0, 0, 0),
        "host": (0, 0, 0, 1, 0),
        "other_county": (1, 1, 0, 0, 1),
        "other_branch": (1, 1, 0, 0, 0),
    }.items()
}


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_org_detail(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    missing = f"/orgs/{missing_pk(Organization)}/"
    for key in ALL_ORGS:
        org = getattr(world, key)
        path = f"/orgs/{org.pk}/"
        response = client.get(path)
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
        elif key in ORGS_SEEN[persona]:
            assert response.status_code == 200
            assert response.context["stats"] == ORG_STATS[key]
            children = {c.pk for c in response.context["children"]}
            assert children == set(
                Organization.objects.filter(parent=org).values_list("pk", flat=True)
            )
            assert_no_leak(body(response), world, persona)
        else:
            assert_404_like_missing(client, path, missing)


CHILD_KIND = {
    "county_department": "party_committee",
    "party_committee": "formal_branch",
    "formal_branch": "party_group",
}


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_org_create(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    allowed = ORGS_CHANGE.get(persona, set())
    for key in ALL_ORGS:
        parent = getattr(world, key)
        path = f"/orgs/{parent.pk}/new/"
        name = f"新设组织{key}"
        get = client.get(path)
        post = client.post(path, {"name": name, "kind": CHILD_KIND[parent.kind]})
        created = Organization.objects.filter(name=name).first()
        if persona in NON_STAFF:
            assert_turned_away(get, persona, path)
            assert_turned_away(post, persona, path)
            assert created is None
        elif key in allowed:
            assert get.status_code == 200
            assert post.status_code == 302
            assert created is not None and created.parent == parent
            assert created.path.startswith(parent.path) and created.depth == parent.depth + 1
        else:
            missing = f"/orgs/{missing_pk(Organization)}/new/"
            assert_404_like_missing(client, path, missing)
            assert_404_like_missing(
                client, path, missing, "post", {"name": name, "kind": "formal_branch"}
            )
            assert created is None


def org_payload(org: Organization, name: str) -> dict[str, str]:
    data = {
        "name": name,
        "division": org.division_id or "",
        "host_division": org.host_division_id or "",
    }
    if org.is_external:
        data["is_external"] = "on"
    return data


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_org_edit(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    allowed = ORGS_CHANGE.get(persona, set())
    for key in ALL_ORGS:
        org = getattr(world, key)
        path = f"/orgs/{org.pk}/edit/"
        get = client.get(path)
        post = client.post(path, org_payload(org, f"{org.name}（改）"))
        name = Organization.objects.get(pk=org.pk).name
        if persona in NON_STAFF:
            assert_turned_away(get, persona, path)
            assert_turned_away(post, persona, path)
            assert name == org.name
        elif key in allowed:
            assert get.status_code == 200
            assert_no_leak(body(get), world, persona)
            assert post.status_code == 302
            assert name == f"{org.name}（改）"
        else:
            missing = f"/orgs/{missing_pk(Organization)}/edit/"
            assert_404_like_missing(client, path, missing)
            assert_404_like_missing(client, path, missing, "post", org_payload(org, "x"))
            assert name == org.name


#: orgs.security over the organization: who may switch the TOTP requirement.
ORGS_SECURITY = {"county_admin": set(COUNTY_A_ORGS), "other_admin": set(COUNTY_B_ORGS)}


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_org_action(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in ALL_ORGS:
        org = getattr(world, key)
        totp = f"/orgs/{org.pk}/do/totp/"
        close = f"/orgs/{org.pk}/do/close/"
        responses = {
            "totp": client.post(totp, {"required": "0"}),
            "close": client.post(close, {"on": "2025-01-01", "reason": "合并"}),
            "convert": client.post(f"/orgs/{org.pk}/do/convert/", {"reason": "依据"}),
            "unknown": client.post(f"/orgs/{org.pk}/do/no-such-verb/"),
        }
        after = Organization.objects.get(pk=org.pk)
        # TOTP is asked to stay off and no organization here is a functional branch; closing is
        # refused for organizations with children or members, so only the Beijing branch
        # closes, and only for county A's admin.
        closes = key == "host" and key in ORGS_CHANGE.get(persona, set())
        assert after.status == ("closed" if closes else "active")
        assert (after.kind, after.require_staff_totp) == (org.kind, False)
        for verb, response in responses.items():
            path = f"/orgs/{org.pk}/do/{'no-such-verb' if verb == 'unknown' else verb}/"
            if persona in NON_STAFF:
                assert_turned_away(response, persona, path)
            elif key not in ORGS_SEEN[persona] or verb == "unknown":
                assert response.status_code == 404
            elif verb == "totp":
                assert response.status_code == (
                    302 if key in ORGS_SECURITY.get(persona, set()) else 404
                )
            else:
                assert response.status_code == (
                    302 if key in ORGS_CHANGE.get(persona, set()) else 404
                )
        if persona not in NON_STAFF and key not in ORGS_SEEN[persona]:
            missing = f"/orgs/{missing_pk(Organization)}/do/totp/"
            assert_404_like_missing(client, totp, missing, "post", {"required": "1"})
            assert Organization.objects.get(pk=org.pk).require_staff_totp is False


@pytest.mark.scope_test("orgs.Organization")
def test_org_move_scope(world: World, login: Any) -> None:
    client = login("county_admin")
    branch = world.host
    detail = body(client.get(f"/orgs/{branch.pk}/"))
    options = select_options(detail, "new_parent")
    assert set(options) == {str(pk) for pk in org_ids(world, {"county", "township", "village"})}
    # Into county B: not a choice, so nothing moves.
    response = client.post(f"/orgs/{branch.pk}/do/move/", {"new_parent": world.other_county.pk})
    assert response.status_code == 302
    assert Organization.objects.get(pk=branch.pk).parent == world.county
    # County B's admin cannot move county A's branch, nor move its own under county A.
    other = login("other_admin")
    assert (
        other.post(f"/orgs/{branch.pk}/do/move/", {"new_parent": world.other_county.pk}).status_code
        == 404
    )
    other.post(f"/orgs/{world.other_branch.pk}/do/move/", {"new_parent": world.township.pk})
    assert Organization.objects.get(pk=world.other_branch.pk).parent == world.other_county
    # Within county A it moves, and the subtree keeps its scope.
    response = client.post(f"/orgs/{branch.pk}/do/move/", {"new_parent": world.township.pk})
    assert response.status_code == 302
    moved = Organization.objects.get(pk=branch.pk)
    assert moved.parent == world.township and moved.path.startswith(world.township.path)
    assert set(Member.objects.visible_to(world.host_secretary, Action.MEMBERS_VIEW)) == {
        world.m_away
    }
    assert set(Organization.objects.visible_to(world.home_secretary, Action.ORGS_VIEW)) == {
        world.village
    }


# --------------------------------------------------------------------------------------------
# Audit
# --------------------------------------------------------------------------------------------

A_EVENTS = {
    ("org.created", "甲县委组织部"),
    ("org.created", "解店镇党委"),
    ("org.created", "城西村党支部"),
    ("org.created", "甲县驻北京流动党员党支部"),
    ("member.created", "王建国"),
    ("member.participation_added", "王建国"),
    ("member.created", "李秀英"),
}
EVENTS_SEEN: dict[str, set[tuple[str, str]]] = {
    "county_admin": A_EVENTS,
    "host_auditor": {
        ("org.created", "甲县驻北京流动党员党支部"),
        ("member.participation_added", "王建国"),
    },
    "other_admin": {
        ("org.created", "乙县委组织部"),
        ("org.created", "乙县驻东莞党支部"),
        ("member.created", "毛正伦"),
    },
}
AUDIT_ORGS = {
    "county_admin": set(COUNTY_A_ORGS),
    "host_auditor": {"host"},
    "other_admin": set(COUNTY_B_ORGS),
}


@pytest.mark.scope_test("audit.Event")
@pytest.mark.parametrize("persona", EVERYONE)
def test_audit_events(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    response = client.get("/audit/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/audit/")
        return
    assert response.status_code == 200
    seen = {(e.verb, e.target_label) for e in response.context["object_list"]}
    assert seen == EVENTS_SEEN.get(persona, set())
    html = body(response)
    assert_no_leak(html, world, persona)
    options = select_options(html, "org")
    assert set(options) == {str(pk) for pk in org_ids(world, AUDIT_ORGS.get(persona, set()))}
    for key in ALL_ORGS:
        filtered = client.get("/audit/", {"org": getattr(world, key).pk})
        rows = {(e.verb, e.target_label) for e in filtered.context["object_list"]}
        if key in AUDIT_ORGS.get(persona, set()):
            assert not filtered.context["filter"].errors
            assert rows <= seen
        else:
            assert filtered.context["filter"].errors["org"]
            assert rows == seen
        assert_no_leak(body(filtered), world, persona)
    by_actor = client.get("/audit/", {"actor": "other_admin"})
    assert {(e.verb, e.target_label) for e in by_actor.context["object_list"]} == (
        {("org.created", "乙县驻东莞党支部"), ("member.created", "毛正伦")}
        if persona == "other_admin"
        else set()
    )


@pytest.mark.scope_test("audit.AccessLog")
@pytest.mark.parametrize("persona", EVERYONE)
def test_audit_access_log(world: World, extra: Extra, login: Any, persona: str) -> None:
    member_services.reveal_sensitive(
        actor=world.county_admin, member=world.m_away, field="id_number"
    )
    member_services.reveal_sensitive(actor=extra.other_admin, member=world.m_other, field="phone")
    members_csv(
        actor=world.home_secretary,
        queryset=Member.objects.visible_to(world.home_secretary, Action.MEMBERS_EXPORT),
        plain=False,
        ip=None,
    )
    expected = {
        "county_admin": {("reveal", "王建国"), ("export", "")},
        "other_admin": {("reveal", "毛正伦")},
    }.get(persona, set())
    response = login(persona).get("/audit/access/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/audit/access/")
        return
    assert response.status_code == 200
    assert {(e.action, e.target_label) for e in response.context["object_list"]} == expected
    assert_no_leak(body(response), world, persona)
    reveals = login(persona).get("/audit/access/", {"action": "reveal"})
    assert {(e.action, e.target_label) for e in reveals.context["object_list"]} == {
        e for e in expected if e[0] == "reveal"
    }


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_audit_changes(world: World, extra: Extra, login: Any, persona: str) -> None:
    member_services.update_member(
        actor=extra.other_admin, member=world.m_other, employer="东莞电子厂"
    )
    member_services.update_member(
        actor=world.home_secretary, member=world.m_local, employer="本村合作社"
    )
    response = login(persona).get("/audit/changes/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/audit/changes/")
        return
    assert response.status_code == 200
    names = [record.name for record, _ in response.context["rows"]]
    expected = {
        "county_admin": ["李秀英", "王建国", "李秀英"],
        "other_admin": ["毛正伦", "毛正伦"],
    }.get(persona, [])
    assert sorted(names) == sorted(expected)
    assert_no_leak(body(response), world, persona)


@pytest.mark.scope_test("audit.Event")
@pytest.mark.scope_test("audit.AccessLog")
def test_audit_records_follow_their_organization(world: World, login: Any) -> None:
    """Audit records are filed under the organization they were recorded for, wherever it sits
    now. The village moves to a new township; the old township's next child gets the village's
    old path. The new village's auditor must see none of the moved village's records."""
    admin = world.county_admin
    member_services.reveal_sensitive(actor=admin, member=world.m_away, field="id_number")
    second = org_services.create_organization(
        actor=admin, name="第二镇党委", kind="party_committee", parent=world.township.parent
    )
    old_path = Organization.objects.get(pk=world.village.pk).path
    org_services.move_organization(actor=admin, org=world.village, new_parent=second)
    newcomer = org_services.create_organization(
        actor=admin, name="新村党支部", kind="formal_branch", parent=world.township
    )
    assert newcomer.path == old_path  # the path is handed out again
    for username, org in (("newcomer_auditor", newcomer), ("second_auditor", second)):
        user = User.objects.create_user(username=username, password=PASSWORD)
        Grant.objects.create(user=user, role="auditor", organization=org)
    village_events = {
        ("org.created", "城西村党支部"),
        ("member.created", "王建国"),
        ("member.created", "李秀英"),
    }
    newcomer_page = Client()
    newcomer_page.force_login(User.objects.get(username="newcomer_auditor"))
    events = newcomer_page.get("/audit/")
    assert {(e.verb, e.target_label) for e in events.context["object_list"]} == {
        ("org.created", "新村党支部")
    }
    for name in ("王建国", "李秀英", "城西村党支部"):
        assert name not in body(events)
    access = newcomer_page.get("/audit/access/")
    assert list(access.context["object_list"]) == []
    assert "王建国" not in body(access)
    # The records went along with the village: its new township sees them.
    second_page = Client()
    second_page.force_login(User.objects.get(username="second_auditor"))
    seen = {(e.verb, e.target_label) for e in second_page.get("/audit/").context["object_list"]}
    assert village_events <= seen
    assert {
        (e.action, e.target_label) for e in second_page.get("/audit/access/").context["object_list"]
    } == {("reveal", "王建国")}
    # The county admin still sees all of them, and filtering by the new township finds them.
    by_org = login("county_admin").get("/audit/", {"org": second.pk})
    assert village_events <= {(e.verb, e.target_label) for e in by_org.context["object_list"]}


# --------------------------------------------------------------------------------------------
# Accounts, member portal, regions
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_account_pages(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for path in ("/account/security/", "/account/totp/setup/", "/account/totp/verify/"):
        response = client.get(path)
        if persona == "anonymous":
            assert response.status_code == 302
            assert response["Location"] == f"/login/?next={quote(path)}"
            continue
        if path == "/account/security/" and persona == "member_user":
            assert response.status_code == 302 and response["Location"] == "/m/"
        elif path == "/account/totp/verify/":
            # No confirmed device yet: sent to enrolment.
            assert response.status_code == 302 and response["Location"] == "/account/totp/setup/"
        else:
            assert response.status_code == 200
        # A member account is shown no organization-owned data here at all.
        assert_no_leak(body(response), world, "anonymous" if persona == "member_user" else persona)


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("members.Participation")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_home(world: World, login: Any, persona: str) -> None:
    # An ended participation is not the member's organization any more.
    Participation.objects.create(
        member=world.m_away,
        organization=world.other_branch,
        started_on=dt.date(2020, 1, 1),
        ended_on=dt.date(2021, 1, 1),
    )
    response = login(persona).get("/m/")
    if persona == "anonymous":
        assert response.status_code == 302 and response["Location"] == "/m/login/"
        return
    if persona != "member_user":
        assert response.status_code == 302 and response["Location"] == "/"
        return
    assert response.status_code == 200
    html = body(response)
    assert response.context["member"] == world.m_away
    assert [p.organization for p in response.context["participations"]] == [world.host]
    own = Member.objects.get(pk=world.m_away.pk)
    for shown in (own.name, own.phone_masked, world.village.name, world.host.name):
        assert shown in html
    hidden = [own.id_number, own.phone, world.m_local.name, world.m_other.name]
    for hidden_text in [*hidden, world.other_branch.name, world.other_county.name]:
        assert hidden_text not in html


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_region_search(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for term in ("东莞", "北京", "党支部", "甲县", "乙县", "王建国"):
        response = client.get("/regions/search/", {"q": term})
        if persona == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith("/login/?next=")
            continue
        assert response.status_code == 200
        results = json.loads(response.content)["results"]
        # Public reference data only: divisions, never organizations or members.
        expected = {"东莞": ["广东省东莞市"], "北京": ["北京市", "北京市市辖区"]}.get(term, [])
        assert [r["text"] for r in results] == expected


# --------------------------------------------------------------------------------------------
# Cross-county participation, grants and participations as querysets
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("members.Participation")
@pytest.mark.scope_test("orgs.Organization")
def test_cross_county_participation(world: World, login: Any) -> None:
    """County B's member takes part in county A's Beijing branch; A's village member once took
    part in county B's branch and stopped. Active participation opens the host side; an ended
    one opens nothing."""
    Participation.objects.create(
        member=world.m_other, organization=world.host, started_on=dt.date(2024, 5, 1)
    )
    Participation.objects.create(
        member=world.m_local,
        organization=world.other_branch,
        started_on=dt.date(2022, 1, 1),
        ended_on=dt.date(2023, 1, 1),
    )
    seen = {
        "county_admin": {"m_away", "m_local", "m_other"},
        "home_secretary": {"m_away", "m_local"},
        "host_secretary": {"m_away", "m_other"},
        "other_secretary": {"m_other"},
        "other_admin": {"m_other"},
        "host_auditor": {"m_away", "m_other"},
    }
    for persona, keys in seen.items():
        client = login(persona)
        assert ids_of(client.get("/members/")) == member_ids(world, keys), persona
        for key in MEMBERS:
            status = client.get(f"/members/{member(world, key).pk}/").status_code
            assert status == (200 if key in keys else 404), f"{persona} → {key}"
            found = client.get(
                "/members/", {"q": Member.objects.get(pk=member(world, key).pk).id_number}
            )
            assert ids_of(found) == (member_ids(world, {key}) if key in keys else set())
        assert response_total(client) == len(keys)
    # The host side sees county B's member, not the ledger of county B: its reveal stays 404,
    # and its home organization stays out of reach.
    host = login("host_secretary")
    assert host.post(f"/members/{world.m_other.pk}/reveal/id_number/").status_code == 404
    assert host.get(f"/orgs/{world.other_branch.pk}/").status_code == 404
    stats = login("county_admin").get(f"/orgs/{world.host.pk}/").context["stats"]
    assert stats == {"total": 0, "away": 0, "lost": 0, "hosted": 2, "children": 0}
    stats = login("county_admin").get(f"/orgs/{world.county.pk}/").context["stats"]
    assert stats == {"total": 2, "away": 1, "lost": 0, "hosted": 2, "children": 2}
    assert (
        login("other_admin").get(f"/orgs/{world.other_branch.pk}/").context["stats"]
        == ORG_STATS["other_branch"]
    )


def response_total(client: Client) -> int:
    return int(client.get("/").context["o"]["total"])


@pytest.mark.scope_test("access.Grant")
def test_grants_are_scoped(world: World, extra: Extra) -> None:
    def holders(user: Any, action: str) -> set[str]:
        return {
            g.user.username for g in Grant.objects.visible_to(user, action).select_related("user")
        }

    a_staff = {
        "county_admin",
        "home_secretary",
        "host_secretary",
        "village_viewer",
        "village_staff",
        "host_auditor",
    }
    assert holders(world.county_admin, Action.ACCESS_GRANT) == a_staff
    assert holders(extra.other_admin, Action.ACCESS_GRANT) == {"other_admin", "other_secretary"}
    assert holders(world.home_secretary, Action.ACCESS_GRANT) == set()
    assert holders(world.home_secretary, Action.ORGS_VIEW) == {
        "home_secretary",
        "village_viewer",
        "village_staff",
    }
    assert holders(world.host_secretary, Action.ORGS_VIEW) == {"host_secretary", "host_auditor"}
    assert holders(world.other_secretary, Action.ORGS_VIEW) == {"other_secretary"}
    assert holders(world.member_user, Action.ORGS_VIEW) == set()
    assert holders(None, Action.ORGS_VIEW) == set()


@pytest.mark.scope_test("members.Participation")
def test_participations_are_scoped(world: World, extra: Extra) -> None:
    ended = Participation.objects.create(
        member=world.m_local,
        organization=world.other_branch,
        started_on=dt.date(2022, 1, 1),
        ended_on=dt.date(2023, 1, 1),
    )
    host = Participation.objects.get(member=world.m_away, organization=world.host)

    def visible(user: Any, action: str = Action.MEMBERS_VIEW) -> set[int]:
        return set(Participation.objects.visible_to(user, action).values_list("pk", flat=True))

    assert visible(world.county_admin) == {host.pk, ended.pk}
    assert visible(world.home_secretary) == {host.pk, ended.pk}
    assert visible(world.host_secretary) == {host.pk}
    assert visible(world.other_secretary) == set()
    assert visible(extra.other_admin) == set()
    assert visible(extra.village_viewer, Action.MEMBERS_CHANGE) == set()
    assert visible(world.member_user) == set()
