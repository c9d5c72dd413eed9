"""Helpers shared by the cross-organization scope tests (pages and API).

The shared ``world`` fixture has two counties. County A (甲县) owns ``county``, ``township``,
``village`` and ``host`` (its Beijing branch); county B (乙县) owns ``other_county`` and
``other_branch``. This module adds a few more staff accounts to it and says, for every persona,
exactly which members and organizations it may see, and which strings must never reach it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote, quote_plus

from django.http import HttpResponse
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from yanxing.access.models import Grant
from yanxing.accounts.models import User
from yanxing.audit.models import AccessLog
from yanxing.members.models import Member

from .conftest import PASSWORD, PERSONAS, World

STAFF_PERSONAS = ["county_admin", "home_secretary", "host_secretary", "other_secretary"]
NON_STAFF = ["member_user", "anonymous"]
#: Staff personas whose roles include members.export.
MAY_EXPORT = {"county_admin", "home_secretary", "host_secretary", "other_secretary", "other_admin"}
assert set(STAFF_PERSONAS) | set(NON_STAFF) == set(PERSONAS)

#: Extra staff added by ``add_extra_staff``: role, organization attribute of the world.
EXTRA_STAFF = {
    "village_viewer": ("viewer", "village"),
    "village_staff": ("branch_staff", "village"),
    "host_auditor": ("auditor", "host"),
    "other_admin": ("county_admin", "other_county"),
}

COUNTY_A_ORGS = ["county", "township", "village", "host"]
COUNTY_B_ORGS = ["other_county", "other_branch"]
MEMBERS = ["m_away", "m_local", "m_other"]

#: members.view: the members each staff persona sees (home subtree + active participations).
MEMBERS_SEEN: dict[str, set[str]] = {
    "county_admin": {"m_away", "m_local"},
    "home_secretary": {"m_away", "m_local"},
    "host_secretary": {"m_away"},
    "other_secretary": {"m_other"},
    "village_viewer": {"m_away", "m_local"},
    "village_staff": {"m_away", "m_local"},
    "host_auditor": {"m_away"},
    "other_admin": {"m_other"},
    "member_user": set(),
    "anonymous": set(),
}
#: orgs.view: the organizations each persona sees (the subtree of its grant).
ORGS_SEEN: dict[str, set[str]] = {
    "county_admin": set(COUNTY_A_ORGS),
    "home_secretary": {"village"},
    "host_secretary": {"host"},
    "other_secretary": {"other_branch"},
    "village_viewer": {"village"},
    "village_staff": {"village"},
    "host_auditor": {"host"},
    "other_admin": set(COUNTY_B_ORGS),
    "member_user": set(),
    "anonymous": set(),
}
#: members.view_sensitive over the member's home organization: who may reveal whose plain text.
MAY_REVEAL: dict[str, set[str]] = {
    "county_admin": {"m_away", "m_local"},
    "home_secretary": {"m_away", "m_local"},
    "host_secretary": set(),
    "other_secretary": {"m_other"},
    "village_viewer": set(),
    "village_staff": set(),
    "host_auditor": set(),
    "other_admin": {"m_other"},
}
#: members.change: the members each persona may edit.
MAY_CHANGE: dict[str, set[str]] = {
    "county_admin": {"m_away", "m_local"},
    "home_secretary": {"m_away", "m_local"},
    "host_secretary": {"m_away"},
    "other_secretary": {"m_other"},
    "village_viewer": set(),
    "village_staff": {"m_away", "m_local"},
    "host_auditor": set(),
    "other_admin": {"m_other"},
}
#: orgs.change: the organizations each persona may edit or set up children under.
ORGS_CHANGE: dict[str, set[str]] = {
    "county_admin": set(COUNTY_A_ORGS),
    "other_admin": set(COUNTY_B_ORGS),
}

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
SELECT = r'<select\b[^>]*\bname="{name}"[^>]*>(.*?)</select>'
OPTION = re.compile(r'<option value="([^"]+)"[^>]*>([^<]*)</option>')


@dataclass
class Extra:
    village_viewer: User
    village_staff: User
    host_auditor: User
    other_admin: User


def add_extra_staff(world: World) -> Extra:
    users: dict[str, User] = {}
    for username, (role, org_attr) in EXTRA_STAFF.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username, password=PASSWORD, display_name=username
            )
            Grant.objects.create(user=user, role=role, organization=getattr(world, org_attr))
        users[username] = user
    return Extra(**users)


def actor(world: World, extra: Extra | None, persona: str) -> User | None:
    if extra is not None and persona in EXTRA_STAFF:
        return getattr(extra, persona)
    return world.persona(persona)


def member(world: World, key: str) -> Member:
    result: Member = getattr(world, key)
    return result


def member_strings(world: World, key: str) -> set[str]:
    """What identifies a member on a page: name, masked ID and phone, employer, destination."""
    m = Member.objects.select_related("destination").get(pk=member(world, key).pk)
    strings = {m.name, m.id_masked, m.phone_masked, m.employer}
    if m.destination is not None:
        strings.add(m.destination.full_name)
    return {s for s in strings if s}


def plain_strings(world: World) -> set[str]:
    """Plain ID and phone numbers of every member: never on a page unless revealed."""
    strings: set[str] = set()
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        strings |= {m.id_number, m.phone}
    return {s for s in strings if s}


def org_strings(world: World, key: str) -> set[str]:
    org = getattr(world, key)
    strings = {org.name}
    if org.host_division_id:
        strings.add(org.host_division.full_name)
    return strings


def forbidden_strings(world: World, persona: str) -> set[str]:
    """Strings that must never reach `persona`: other members, the other county's organizations."""
    seen = MEMBERS_SEEN[persona]
    own_county_b = bool(ORGS_SEEN[persona]) and ORGS_SEEN[persona] <= set(COUNTY_B_ORGS)
    foreign_orgs = COUNTY_A_ORGS if own_county_b else COUNTY_B_ORGS
    if persona in NON_STAFF:
        foreign_orgs = COUNTY_A_ORGS + COUNTY_B_ORGS
    foreign: set[str] = set()
    allowed: set[str] = set()
    for key in MEMBERS:
        (allowed if key in seen else foreign).update(member_strings(world, key))
    for key in COUNTY_A_ORGS + COUNTY_B_ORGS:
        (foreign if key in foreign_orgs else allowed).update(org_strings(world, key))
    return (foreign - allowed) | plain_strings(world)


def leaks(text: str, world: World, persona: str) -> list[str]:
    return sorted(s for s in forbidden_strings(world, persona) if s in text)


def assert_no_leak(text: str, world: World, persona: str) -> None:
    found = leaks(text, world, persona)
    assert found == [], f"{persona} was shown {found}"


def body(response: HttpResponse) -> str:
    return response.content.decode("utf-8")


def without_echo(html: str, term: str) -> str:
    """A page minus the actor's own search term, echoed in the search box and in its links."""
    return html.replace(f'value="{escape(term)}"', "").replace(f"q={quote_plus(term)}", "")


def not_found_body(response: HttpResponse, path: str) -> str:
    """A 404 page with the request's own path and the CSRF token taken out, for comparison."""
    assert response.status_code == 404
    return CSRF_INPUT.sub("", body(response)).replace(path, "<path>")


def select_options(html: str, name: str) -> dict[str, str]:
    """{value: label} of the options of the <select name=…> in a page (empty value left out)."""
    match = re.search(SELECT.format(name=re.escape(name)), html, re.S)
    assert match is not None, f"no <select name={name}>"
    return {value: label.strip() for value, label in OPTION.findall(match.group(1))}


def org_ids(world: World, keys: set[str] | list[str]) -> set[int]:
    return {getattr(world, key).pk for key in keys}


def member_ids(world: World, keys: set[str] | list[str]) -> set[int]:
    return {member(world, key).pk for key in keys}


def api_client(user: User | None) -> APIClient:
    """A client authenticated by a rest_framework token (no session), or anonymous."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def missing_pk(model: Any) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return int(last) + 1000


# --------------------------------------------------------------------------------------------
# scope_test markers, read from source with ast (used by the meta-test and the URL table)
# --------------------------------------------------------------------------------------------


def _marker_labels(node: ast.AST) -> Iterator[str]:
    """Labels of every ``<…>.mark.scope_test("label")`` call inside an expression."""
    for call in ast.walk(node):
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
            continue
        owner = call.func.value
        is_mark = (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
            isinstance(owner, ast.Name) and owner.id == "mark"
        )
        if call.func.attr != "scope_test" or not is_mark:
            continue
        values = [*call.args[:1], *(k.value for k in call.keywords if k.arg == "model")]
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield value.value


def _pytestmark(body: list[ast.stmt]) -> list[str]:
    labels: list[str] = []
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets):
            labels += _marker_labels(value)
    return labels


def _test_markers(
    body: list[ast.stmt], inherited: list[str], prefix: str = ""
) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            labels = list(inherited)
            for decorator in node.decorator_list:
                # Decorators (including parametrize's pytest.param(..., marks=...)).
                labels += _marker_labels(decorator)
            result[prefix + node.name] = labels
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            labels = list(inherited) + _pytestmark(node.body)
            for decorator in node.decorator_list:
                labels += _marker_labels(decorator)
            result.update(_test_markers(node.body, labels, f"{prefix}{node.name}::"))
    return result


def markers_in_source(source: str) -> dict[str, list[str]]:
    """Test name → scope_test labels that apply to it."""
    tree = ast.parse(source)
    return _test_markers(tree.body, _pytestmark(tree.body))


def signed_in(world: World, extra: Extra | None, persona: str) -> Client:
    """A Client signed in as that persona (anonymous: not signed in)."""
    client = Client()
    user = actor(world, extra, persona)
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def assert_turned_away(response: HttpResponse, persona: str, path: str) -> None:
    """Staff pages: members go to their own portal, anonymous visitors to the sign-in page."""
    assert response.status_code == 302
    if persona == "member_user":
        assert response["Location"] == "/m/"
    else:
        assert persona == "anonymous"
        assert response["Location"] == f"/login/?next={quote(path)}"


def check_member_export(
    world: World,
    client: Client,
    persona: str,
    path: str,
    read: Callable[[HttpResponse], tuple[list[list[str]], str]],
) -> list[list[str]] | None:
    """The checks every member-list export format shares: who is turned away or refused (and
    not logged), which members are exported (masked), no leak, one access-log entry.
    ``read`` gives the rows and the text of a response; the rows are returned when exported."""
    logged = AccessLog.objects.count()
    response: Any = client.get(path)
    if persona in NON_STAFF:
        assert_turned_away(response, persona, path)
        assert AccessLog.objects.count() == logged
        return None
    if persona not in MAY_EXPORT:
        assert response.status_code == 404
        assert AccessLog.objects.count() == logged
        return None
    assert response.status_code == 200
    rows, text = read(response)
    expected = sorted(
        (m.name, m.id_masked, m.phone_masked, m.home_org.name)
        for m in Member.objects.filter(pk__in=member_ids(world, MEMBERS_SEEN[persona]))
    )
    assert sorted((r[0], r[1], r[2], r[6]) for r in rows[1:]) == expected
    assert_no_leak(text, world, persona)
    entry = AccessLog.objects.order_by("-id")[0]
    assert AccessLog.objects.count() == logged + 1
    assert (entry.action, entry.row_count, entry.reason) == ("export", len(expected), "masked")
    return rows
