"""Who may see what through /api/: token authentication, every persona, allowed and
cross-organization cases. Expectations per persona live in ``tests/scope_helpers.py``."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from yanxing.audit.models import AccessLog
from yanxing.demo.synthetic import synthetic_id
from yanxing.members.models import Member
from yanxing.orgs.models import Organization
from yanxing.regions.models import Division

from .conftest import PERSONAS, World
from .scope_helpers import (
    COUNTY_A_ORGS,
    COUNTY_B_ORGS,
    EXTRA_STAFF,
    MAY_CHANGE,
    MAY_REVEAL,
    MEMBERS,
    MEMBERS_SEEN,
    NON_STAFF,
    ORGS_SEEN,
    STAFF_PERSONAS,
    Extra,
    actor,
    add_extra_staff,
    api_client,
    assert_no_leak,
    member,
    member_ids,
    missing_pk,
    org_ids,
    select_options,
)

ALL_STAFF = STAFF_PERSONAS + list(EXTRA_STAFF)
EVERYONE = PERSONAS + list(EXTRA_STAFF)
ALL_ORGS = COUNTY_A_ORGS + COUNTY_B_ORGS

#: What a member looks like through the API: identifiers only masked, never plain.
MEMBER_FIELDS = {
    "id", "name", "name_pinyin", "id_masked", "phone_masked", "sex", "birth_date", "category",
    "joined_on", "home_org", "home_org_name", "home_division", "mobility_status", "destination",
    "destination_detail", "left_on", "employer", "industry", "wish_return_business",
    "wish_village_cadre", "contact_state", "lost_since", "four_clears", "updated_at",
}  # fmt: skip
#: members.change: the organizations the serializer accepts as home_org.
HOME_ORG_SCOPE: dict[str, set[str]] = {
    "county_admin": set(COUNTY_A_ORGS),
    "home_secretary": {"village"},
    "host_secretary": {"host"},
    "other_secretary": {"other_branch"},
    "village_viewer": set(),
    "village_staff": {"village"},
    "host_auditor": set(),
    "other_admin": set(COUNTY_B_ORGS),
}
#: Kinds that cannot hold membership relations: in scope, still refused by the service.
NO_MEMBERSHIP = {"county", "other_county"}


@pytest.fixture
def extra(world: World) -> Extra:
    return add_extra_staff(world)


@pytest.fixture
def api(world: World, extra: Extra) -> Callable[[str], APIClient]:
    """api("host_secretary") → an APIClient with that persona's token (anonymous: none)."""

    def make(persona: str) -> APIClient:
        return api_client(actor(world, extra, persona))

    return make


def data(response: Any) -> Any:
    return json.loads(response.content)


def result_ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    payload = data(response)
    assert payload["count"] == len(payload["results"])
    return {row["id"] for row in payload["results"]}


def assert_refused(response: Any, persona: str) -> None:
    """Members hold no staff rights (403); without a token the API asks for one (401)."""
    if persona == "member_user":
        assert response.status_code == 403
    else:
        assert persona == "anonymous"
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    assert set(data(response)) == {"detail"}


def assert_404_like_missing(
    client: APIClient, method: str, path: str, missing: str, payload: Any = None
) -> None:
    response = getattr(client, method)(path, payload, format="json")
    absent = getattr(client, method)(missing, payload, format="json")
    assert response.status_code == 404
    assert absent.status_code == 404
    assert response.content == absent.content


def division_names() -> set[str]:
    return set(Division.objects.values_list("full_name", flat=True))


def assert_html_no_leak(html: str, world: World, persona: str) -> None:
    """Browsable API pages: as assert_no_leak, with the division pickers' reference data
    (every division's name is public) taken out."""
    for name in sorted(division_names(), key=len, reverse=True):
        html = html.replace(f">{name}</option>", "></option>")
    assert_no_leak(html, world, persona)


# --------------------------------------------------------------------------------------------
# Root, schema, docs
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_root(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    for path, suffix in (("/api/", "/"), ("/api/.json", ".json")):
        response = client.get(path)
        if persona in NON_STAFF:
            assert_refused(response, persona)
            continue
        assert response.status_code == 200
        assert data(response) == {
            "organizations": f"http://testserver/api/organizations{suffix}",
            "members": f"http://testserver/api/members{suffix}",
        }


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_schema_and_docs(world: World, api: Any, persona: str) -> None:
    # The schema and its docs page are public (drf-spectacular's default): they describe the
    # API and hold no organization-owned data, for anyone.
    client = api(persona)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = data(schema)
    assert document["info"]["title"] == "Yanxing API"
    assert {
        "/api/members/",
        "/api/members/{id}/",
        "/api/members/{id}/reveal/",
        "/api/organizations/",
        "/api/organizations/{id}/",
    } <= set(document["paths"])
    parameters = {p["name"] for p in document["paths"]["/api/organizations/"]["get"]["parameters"]}
    assert {"kind", "is_external", "status", "parent"} <= parameters
    member_read = document["components"]["schemas"]["Member"]["properties"]
    assert "id_number" in member_read and member_read["id_number"]["writeOnly"] is True
    assert member_read["phone"]["writeOnly"] is True
    assert_no_leak(schema.content.decode("utf-8"), world, persona)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert_no_leak(docs.content.decode("utf-8"), world, persona)
    assert "/api/schema/" in docs.content.decode("utf-8")


# --------------------------------------------------------------------------------------------
# Organizations
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_org_list(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    for path in ("/api/organizations/", "/api/organizations.json"):
        response = client.get(path)
        if persona in NON_STAFF:
            assert_refused(response, persona)
            continue
        assert result_ids(response) == org_ids(world, ORGS_SEEN[persona])
        assert {row["name"] for row in data(response)["results"]} == {
            getattr(world, k).name for k in ORGS_SEEN[persona]
        }
        assert_no_leak(response.content.decode("utf-8"), world, persona)
    if persona in NON_STAFF:
        return
    for kind in ("county_department", "party_committee", "formal_branch"):
        expected = {k for k in ORGS_SEEN[persona] if getattr(world, k).kind == kind}
        assert result_ids(client.get("/api/organizations/", {"kind": kind})) == org_ids(
            world, expected
        )
    external = {k for k in ORGS_SEEN[persona] if getattr(world, k).is_external}
    assert result_ids(client.get("/api/organizations/", {"is_external": "true"})) == org_ids(
        world, external
    )
    # The browsable API renders the filter form: its parent dropdown is the actor's scope.
    page = client.get("/api/organizations/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode("utf-8")
    assert set(select_options(html, "parent")) == {
        str(pk) for pk in org_ids(world, ORGS_SEEN[persona])
    }
    assert_html_no_leak(html, world, persona)


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_api_org_parent_filter(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    missing = client.get("/api/organizations/", {"parent": missing_pk(Organization)})
    assert missing.status_code == 400
    assert set(data(missing)) == {"parent"}
    for key in ALL_ORGS:
        org = getattr(world, key)
        response = client.get("/api/organizations/", {"parent": org.pk})
        if key in ORGS_SEEN[persona]:
            children = {k for k in ORGS_SEEN[persona] if getattr(world, k).parent_id == org.pk}
            assert result_ids(response) == org_ids(world, children)
        else:
            # Out of scope is refused exactly like a missing organization.
            assert response.status_code == 400
            assert response.content == missing.content


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_org_detail(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    absent = missing_pk(Organization)
    for key in ALL_ORGS:
        org = getattr(world, key)
        for path, missing in (
            (f"/api/organizations/{org.pk}/", f"/api/organizations/{absent}/"),
            (f"/api/organizations/{org.pk}.json", f"/api/organizations/{absent}.json"),
        ):
            response = client.get(path)
            if persona in NON_STAFF:
                assert_refused(response, persona)
            elif key in ORGS_SEEN[persona]:
                assert response.status_code == 200
                assert data(response)["id"] == org.pk and data(response)["name"] == org.name
            else:
                assert_404_like_missing(client, "get", path, missing)
        if persona not in NON_STAFF:
            # Read-only: no writes at all, in scope or not.
            assert (
                client.patch(
                    f"/api/organizations/{org.pk}/", {"name": "x"}, format="json"
                ).status_code
                == 405
            )
            assert Organization.objects.get(pk=org.pk).name == org.name


# --------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------


def assert_member_row(row: dict[str, Any], m: Member) -> None:
    assert set(row) == MEMBER_FIELDS
    assert (row["id"], row["name"], row["id_masked"], row["phone_masked"]) == (
        m.pk, m.name, m.id_masked, m.phone_masked,
    )  # fmt: skip
    assert row["home_org"] == m.home_org_id and row["home_org_name"] == m.home_org.name


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_member_list(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    for path in ("/api/members/", "/api/members.json"):
        response = client.get(path)
        if persona in NON_STAFF:
            assert_refused(response, persona)
            continue
        assert result_ids(response) == member_ids(world, MEMBERS_SEEN[persona])
        for row in data(response)["results"]:
            assert_member_row(row, Member.objects.select_related("home_org").get(pk=row["id"]))
        # Other members, the other county, and any plain ID or phone number.
        assert_no_leak(response.content.decode("utf-8"), world, persona)
    if persona in NON_STAFF:
        return
    one = client.get("/api/members/", {"page_size": 1, "ordering": "-name_pinyin"})
    assert data(one)["count"] == len(MEMBERS_SEEN[persona])
    assert len(data(one)["results"]) == min(1, len(MEMBERS_SEEN[persona]))
    page = client.get("/api/members/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode("utf-8")
    assert_html_no_leak(html, world, persona)
    # The create form offers only the actor's own organizations as home_org.
    options = select_options(html, "home_org")
    assert set(options) == {str(pk) for pk in org_ids(world, HOME_ORG_SCOPE[persona])}
    filter_orgs = select_options(html, "org")
    assert set(filter_orgs) == {str(pk) for pk in org_ids(world, ORGS_SEEN[persona])}


def search_terms(m: Member) -> list[str]:
    return [m.name, m.name_pinyin, m.id_number, m.phone, m.id_number[-4:], m.id_masked]


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_api_member_filters(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        expected = member_ids(world, {key} & MEMBERS_SEEN[persona])
        for term in search_terms(m):
            response = client.get("/api/members/", {"q": term})
            assert result_ids(response) == expected, f"{persona} q={term}"
    missing = client.get("/api/members/", {"org": missing_pk(Organization)})
    assert missing.status_code == 400
    assert set(data(missing)) == {"org"}
    subtree_members = {
        "county": {"m_away", "m_local"},
        "township": {"m_away", "m_local"},
        "village": {"m_away", "m_local"},
        "host": {"m_away"},
        "other_county": {"m_other"},
        "other_branch": {"m_other"},
    }
    for key in ALL_ORGS:
        response = client.get("/api/members/", {"org": getattr(world, key).pk})
        if key in ORGS_SEEN[persona]:
            in_subtree = subtree_members[key] & MEMBERS_SEEN[persona]
            assert result_ids(response) == member_ids(world, in_subtree)
        else:
            assert response.status_code == 400
            assert response.content == missing.content
    away = {k for k in MEMBERS_SEEN[persona] if member(world, k).mobility_status == "away"}
    assert result_ids(client.get("/api/members/", {"mobility_status": "away"})) == member_ids(
        world, away
    )
    dongguan = client.get("/api/members/", {"destination": "441900"})
    assert result_ids(dongguan) == member_ids(world, {"m_other"} & MEMBERS_SEEN[persona])


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_member_retrieve(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    absent = missing_pk(Member)
    for key in MEMBERS:
        m = Member.objects.select_related("home_org").get(pk=member(world, key).pk)
        for path, missing in (
            (f"/api/members/{m.pk}/", f"/api/members/{absent}/"),
            (f"/api/members/{m.pk}.json", f"/api/members/{absent}.json"),
        ):
            response = client.get(path)
            if persona in NON_STAFF:
                assert_refused(response, persona)
            elif key in MEMBERS_SEEN[persona]:
                assert response.status_code == 200
                assert_member_row(data(response), m)
                assert (
                    m.id_number not in response.content.decode()
                    and m.phone not in response.content.decode()
                )
            else:
                assert_404_like_missing(client, "get", path, missing)


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_member_patch(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    missing = f"/api/members/{missing_pk(Member)}/"
    for key in MEMBERS:
        m = member(world, key)
        path = f"/api/members/{m.pk}/"
        response = client.patch(path, {"employer": f"{persona}单位"}, format="json")
        employer = Member.objects.get(pk=m.pk).employer
        if persona in NON_STAFF:
            assert_refused(response, persona)
            assert employer == m.employer
        elif key in MAY_CHANGE[persona]:
            assert response.status_code == 200
            assert data(response)["employer"] == f"{persona}单位" == employer
            assert set(data(response)) == MEMBER_FIELDS
            # home_org moves only by transfer: a PATCH cannot carry a member into another scope.
            moved = client.patch(path, {"home_org": world.other_branch.pk}, format="json")
            assert moved.status_code == 200
            assert Member.objects.get(pk=m.pk).home_org_id == m.home_org_id
            # Identifiers are changed only where the actor may see them in plain text.
            new_id = synthetic_id(random.Random(m.pk), "140822")
            changed = client.patch(path, {"id_number": new_id}, format="json")
            expected = 200 if key in MAY_REVEAL[persona] else 400
            assert changed.status_code == expected
            assert new_id not in changed.content.decode()
            assert (Member.objects.get(pk=m.pk).id_number == new_id) == (expected == 200)
        else:
            # Seen but not changeable, or not seen at all: the same 404 as a missing member.
            assert_404_like_missing(client, "patch", path, missing, {"employer": "x"})
            assert employer == m.employer
        if persona not in NON_STAFF:
            assert client.put(path, {"name": "x"}, format="json").status_code == 405
            assert client.delete(path).status_code == 405
            assert Member.objects.filter(pk=m.pk).exists()


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_member_create_home_org_scope(world: World, api: Any, persona: str) -> None:
    client = api(persona)
    rng = random.Random(persona)
    absent = missing_pk(Organization)
    for number, key in enumerate(ALL_ORGS):
        org = getattr(world, key)
        id_number = synthetic_id(rng, "140822")
        payload = {
            "name": f"接口{'甲乙丙丁戊己'[number]}",
            "home_org": org.pk,
            "id_number": id_number,
            "phone": f"1381234{number:04d}",
        }
        before = Member.objects.count()
        response = client.post("/api/members/", payload, format="json")
        if persona in NON_STAFF:
            assert_refused(response, persona)
            assert Member.objects.count() == before
        elif key in HOME_ORG_SCOPE[persona] and key in NO_MEMBERSHIP:
            assert response.status_code == 400
            assert set(data(response)) == {"detail"}
            assert Member.objects.count() == before
        elif key in HOME_ORG_SCOPE[persona]:
            assert response.status_code == 201, response.content
            created = Member.objects.get(pk=data(response)["id"])
            assert created.home_org_id == org.pk and created.id_number == id_number
            assert set(data(response)) == MEMBER_FIELDS
            assert (
                id_number not in response.content.decode()
                and payload["phone"] not in response.content.decode()
            )
        else:
            assert response.status_code == 400
            assert set(data(response)) == {"home_org"}
            assert Member.objects.count() == before
            refused = client.post("/api/members/", {**payload, "home_org": absent}, format="json")
            assert data(refused)["home_org"] == [
                message.replace(str(org.pk), str(absent)) for message in data(response)["home_org"]
            ]
            assert org.name not in response.content.decode()


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("audit.AccessLog")
@pytest.mark.parametrize("persona", EVERYONE)
def test_api_member_reveal(world: World, extra: Extra, api: Any, persona: str) -> None:
    client = api(persona)
    user = actor(world, extra, persona)
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        for field in ("id_number", "phone"):
            path = f"/api/members/{m.pk}/reveal/?field={field}"
            missing = f"/api/members/{missing_pk(Member)}/reveal/?field={field}"
            logged = AccessLog.objects.count()
            response = client.post(path)
            if persona in NON_STAFF:
                assert_refused(response, persona)
                assert AccessLog.objects.count() == logged
            elif key in MAY_REVEAL[persona]:
                assert response.status_code == 200
                assert data(response) == {"field": field, "value": getattr(m, field)}
                assert AccessLog.objects.count() == logged + 1
                entry = AccessLog.objects.order_by("-id")[0]
                assert (entry.action, entry.fields, entry.target_id, entry.org_path) == (
                    "reveal", field, str(m.pk), m.home_org.path,
                )  # fmt: skip
                if user is not None:
                    assert entry.actor_id == user.pk
                assert client.get(path).status_code == 405
            elif key in MEMBERS_SEEN[persona]:
                # In scope without members.view_sensitive over the member's home organization:
                # 404 (the service's OutOfScope), nothing revealed, nothing logged.
                assert response.status_code == 404
                assert set(data(response)) == {"detail"}
                assert getattr(m, field) not in response.content.decode()
                assert AccessLog.objects.count() == logged
            else:
                # Out of scope: the same 404 as a missing member, and nothing is logged.
                assert_404_like_missing(client, "post", path, missing)
                assert AccessLog.objects.count() == logged
