"""``visible_to(user, action)`` against an independent oracle, on random worlds.

Hypothesis builds two county trees (depth up to 4, a few dozen organizations, random sibling
numbers, some organizations closed), random members (home at a membership-holding
organization, active and ended participations) and audit records; then moves a few subtrees
and sets up a few organizations through the services (so a vacated path may be handed out
again); then random users (staff or member accounts, active or not) with random grants
anywhere, and more audit records. The oracle knows nothing of materialized paths: it walks
``parent_id`` pointers in Python and applies the rules as docs/permissions.md states them:

- a grant counts only for an active staff account and only at an active organization;
- it covers the organization and everything below it;
- a member is visible where its home organization, or an organization it takes part in
  (participation not ended), is covered; a participation and a grant follow their member /
  organization; audit records follow the organization they were recorded for, wherever it
  sits now.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from yanxing.access.models import Grant
from yanxing.access.policy import can
from yanxing.access.roles import ROLES, Action
from yanxing.accounts.models import User
from yanxing.audit.models import AccessLog, Event
from yanxing.audit.services import record_access, record_event
from yanxing.core.paths import ALPHABET, SEGMENT_WIDTH, segment
from yanxing.members.models import Member, Participation
from yanxing.orgs import services as org_services
from yanxing.orgs.models import ALLOWED_CHILDREN, HOLDS_MEMBERSHIP, Organization, OrgKind

ACTIONS = sorted(
    {action for role in ROLES.values() for action in role.actions}
    | {value for name, value in vars(Action).items() if name.isupper()}
)
ROLE_CODES = sorted(ROLES)
MAX_DEPTH = 4
#: Sibling numbers are random over the whole segment range, short of its top (moves append).
MAX_NUMBER = len(ALPHABET) ** SEGMENT_WIDTH - 50
DB_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# --------------------------------------------------------------------------------------------
# Plans: what hypothesis draws
# --------------------------------------------------------------------------------------------


@dataclass
class OrgPlan:
    parent: int | None
    kind: str
    number: int
    closed: bool


@dataclass
class MemberPlan:
    home: int
    active: bool
    participations: list[tuple[int, bool]]  # (organization, ended)


@dataclass
class UserPlan:
    staff: bool
    active: bool
    member: int | None
    grants: list[tuple[str, int]]  # (role, organization)


@dataclass
class Plan:
    orgs: list[OrgPlan]
    members: list[MemberPlan]
    users: list[UserPlan]
    moves: list[tuple[int, int]]
    #: Set up through the service after the moves, (parent, kind choice): numbered n, n+1, …
    #: A vacated path can be handed out again here.
    late_orgs: list[tuple[int, int]]
    #: Audit records: (organization or None, written before the moves rather than after).
    records: list[tuple[int | None, bool]]


rarely = st.integers(0, 6).map(lambda n: n == 0)
mostly = st.integers(0, 6).map(lambda n: n != 0)


@st.composite
def plans(draw: Any) -> Plan:
    orgs = [
        OrgPlan(None, OrgKind.COUNTY_DEPARTMENT, draw(st.integers(0, MAX_NUMBER)), draw(rarely))
        for _ in range(2)
    ]
    depths = [1, 1]
    for _ in range(draw(st.integers(0, 34))):
        parents = [
            i for i, o in enumerate(orgs) if depths[i] < MAX_DEPTH and ALLOWED_CHILDREN[o.kind]
        ]
        parent = draw(st.sampled_from(parents))
        kind = draw(st.sampled_from(sorted(ALLOWED_CHILDREN[orgs[parent].kind])))
        orgs.append(OrgPlan(parent, kind, draw(st.integers(0, MAX_NUMBER)), draw(rarely)))
        depths.append(depths[parent] + 1)
    n = len(orgs)
    moves = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    late_orgs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 3)), max_size=4))
    every = n + len(late_orgs)  # grants may sit at the late organizations too
    homes = [i for i, o in enumerate(orgs) if o.kind in HOLDS_MEMBERSHIP]
    members: list[MemberPlan] = []
    if homes:
        members = draw(
            st.lists(
                st.builds(
                    MemberPlan,
                    home=st.sampled_from(homes),
                    active=mostly,
                    participations=st.lists(
                        st.tuples(st.integers(0, n - 1), st.booleans()), max_size=3
                    ),
                ),
                max_size=25,
            )
        )
    users = draw(
        st.lists(
            st.builds(
                UserPlan,
                staff=mostly,
                active=mostly,
                member=st.integers(0, len(members) - 1) if members else st.none(),
                grants=st.lists(
                    st.tuples(st.sampled_from(ROLE_CODES), st.integers(0, every - 1)),
                    max_size=4,
                    unique=True,
                ),
            ),
            min_size=1,
            max_size=5,
        )
    )
    records = draw(
        st.lists(st.tuples(st.none() | st.integers(0, n - 1), st.booleans()), max_size=8)
    )
    return Plan(orgs, members, users, moves, late_orgs, records)


# --------------------------------------------------------------------------------------------
# Building the plan in the database
# --------------------------------------------------------------------------------------------


@dataclass
class Built:
    orgs: list[Organization]
    users: list[User] = field(default_factory=list)


def write_records(orgs: list[Organization], at: list[int | None]) -> None:
    for org_index in at:
        # Reloaded: a move may have changed the organization's path.
        org = Organization.objects.get(pk=orgs[org_index].pk) if org_index is not None else None
        record_event(actor=None, verb="test.recorded", organization=org)
        record_access(actor=None, action="reveal", fields=["id_number"], organization=org)


def build(plan: Plan) -> Built:
    taken: dict[int | None, set[int]] = {}
    orgs: list[Organization] = []
    for i, spec in enumerate(plan.orgs):
        parent = orgs[spec.parent] if spec.parent is not None else None
        siblings = taken.setdefault(spec.parent, set())
        number = spec.number
        while number in siblings:
            number = (number + 1) % MAX_NUMBER
        siblings.add(number)
        path = (parent.path if parent else "") + segment(number)
        orgs.append(
            Organization.objects.create(
                name=f"组织{i}",
                kind=spec.kind,
                parent=parent,
                path=path,
                depth=path.count("."),
                status="closed" if spec.closed else "active",
            )
        )
    members = []
    for i, member_plan in enumerate(plan.members):
        m = Member.objects.create(
            name=f"党员{i}", home_org=orgs[member_plan.home], is_active=member_plan.active
        )
        members.append(m)
        active_at: set[int] = set()
        for org_index, ended in member_plan.participations:
            # At most one active participation per member and organization.
            ended = ended or org_index in active_at
            if not ended:
                active_at.add(org_index)
            Participation.objects.create(
                member=m,
                organization=orgs[org_index],
                started_on=dt.date(2023, 1, 1),
                ended_on=dt.date(2024, 1, 1) if ended else None,
            )
    write_records(orgs, [at for at, before in plan.records if before])
    built = Built(orgs)
    every: list[Organization | None] = list(orgs)
    operator = None
    if plan.moves or plan.late_orgs:
        # The operator holds county_admin at both roots. Moves and new organizations that break
        # a rule (kinds, closed parents, into its own subtree, a closed root voiding the grant)
        # are refused.
        operator = User.objects.create(username="operator", kind=User.Kind.STAFF)
        for root in orgs[:2]:
            Grant.objects.create(user=operator, role="county_admin", organization=root)
        for org_index, parent_index in plan.moves:
            with contextlib.suppress(Http404, ValidationError):
                org_services.move_organization(
                    actor=operator, org=orgs[org_index], new_parent=orgs[parent_index]
                )
        for number, (parent_index, choice) in enumerate(plan.late_orgs):
            parent = Organization.objects.get(pk=orgs[parent_index].pk)
            kinds = sorted(ALLOWED_CHILDREN[parent.kind])
            created = None
            if kinds:
                with contextlib.suppress(Http404, ValidationError):
                    created = org_services.create_organization(
                        actor=operator,
                        name=f"新组织{number}",
                        kind=kinds[choice % len(kinds)],
                        parent=parent,
                    )
            every.append(created)
    with_account: set[int] = set()
    for i, user_plan in enumerate(plan.users):
        # A member has at most one account; otherwise the user is a staff account.
        member_index = user_plan.member
        if user_plan.staff or member_index is None or member_index in with_account:
            member_index = None
        else:
            with_account.add(member_index)
        user = User.objects.create(
            username=f"user{i}",
            kind=User.Kind.STAFF if member_index is None else User.Kind.MEMBER,
            is_active=user_plan.active,
            member=None if member_index is None else members[member_index],
        )
        for role, org_index in user_plan.grants:
            at = every[org_index]
            if at is not None:
                Grant.objects.create(user=user, role=role, organization=at)
        built.users.append(user)
    if operator is not None:
        built.users.append(operator)
    write_records(orgs, [at for at, before in plan.records if not before])
    return built


# --------------------------------------------------------------------------------------------
# The oracle: plain Python over raw rows, parent pointers only
# --------------------------------------------------------------------------------------------


class Oracle:
    def __init__(self) -> None:
        self.parent = dict(Organization.objects.values_list("pk", "parent_id"))
        self.status = dict(Organization.objects.values_list("pk", "status"))
        self.homes = dict(Member.objects.values_list("pk", "home_org_id"))
        self.participations = list(
            Participation.objects.values_list("pk", "member_id", "organization_id", "ended_on")
        )
        self.grants = list(Grant.objects.values_list("pk", "user_id", "role", "organization_id"))
        self.events = dict(Event.objects.values_list("pk", "organization_id"))
        self.access = dict(AccessLog.objects.values_list("pk", "organization_id"))
        self.accounts = {
            pk: (kind, active)
            for pk, kind, active in User.objects.values_list("pk", "kind", "is_active")
        }

    def chain(self, org: int) -> Iterable[int]:
        node: int | None = org
        seen = set()
        while node is not None:
            assert node not in seen, "cycle in the organization tree"
            seen.add(node)
            yield node
            node = self.parent[node]

    def granted(self, user: Any, action: str) -> set[int]:
        if user is None or not getattr(user, "pk", None):
            return set()
        kind, active = self.accounts[user.pk]
        if kind != "staff" or not active:
            return set()
        return {
            org
            for _, holder, role, org in self.grants
            if holder == user.pk and action in ROLES[role].actions and self.status[org] == "active"
        }

    def orgs(self, granted: set[int]) -> set[int]:
        return {org for org in self.parent if any(a in granted for a in self.chain(org))}

    def members(self, visible_orgs: set[int]) -> set[int]:
        hosted = {
            m for _, m, org, ended in self.participations if ended is None and org in visible_orgs
        }
        return {m for m, home in self.homes.items() if home in visible_orgs} | hosted

    def participations_of(self, visible_members: set[int]) -> set[int]:
        return {pk for pk, m, _, _ in self.participations if m in visible_members}

    def grants_at(self, visible_orgs: set[int]) -> set[int]:
        return {pk for pk, _, _, org in self.grants if org in visible_orgs}

    @staticmethod
    def records_at(rows: Mapping[int, int | None], visible_orgs: set[int]) -> set[int]:
        return {pk for pk, org in rows.items() if org is not None and org in visible_orgs}


def pks(queryset: Any) -> set[int]:
    rows = list(queryset.values_list("pk", flat=True))
    assert len(rows) == len(set(rows)), "duplicate rows"
    return set(rows)


def check_against_oracle(actors: list[Any]) -> None:
    oracle = Oracle()
    paths = dict(Organization.objects.values_list("pk", "path"))
    for actor in actors:
        for action in ACTIONS:
            granted = oracle.granted(actor, action)
            orgs = oracle.orgs(granted)
            members = oracle.members(orgs)
            where = f"{getattr(actor, 'username', actor)} / {action}"
            assert pks(Organization.objects.visible_to(actor, action)) == orgs, where
            assert pks(Member.objects.visible_to(actor, action)) == members, where
            assert pks(Participation.objects.visible_to(actor, action)) == (
                oracle.participations_of(members)
            ), where
            assert pks(Grant.objects.visible_to(actor, action)) == oracle.grants_at(orgs), where
            assert pks(Event.objects.visible_to(actor, action)) == oracle.records_at(
                oracle.events, orgs
            ), where
            assert pks(AccessLog.objects.visible_to(actor, action)) == oracle.records_at(
                oracle.access, orgs
            ), where
            assert can(actor, action) == bool(orgs), where
            for org, path in paths.items():
                assert can(actor, action, path) == (org in orgs), f"{where} at {path}"


def fresh_users() -> list[Any]:
    """Users loaded anew (the policy caches grants on the user object)."""
    return [*User.objects.order_by("pk"), AnonymousUser(), None]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


#: A village with audit records moves to another township; the old township's next branch gets
#: the village's old path. Its auditor must not see the village's records (a path kept with the
#: record would hand them over); the new township's auditor must.
PATH_REUSE = Plan(
    orgs=[
        OrgPlan(None, OrgKind.COUNTY_DEPARTMENT, 1, False),  # 0: county A
        OrgPlan(None, OrgKind.COUNTY_DEPARTMENT, 2, False),  # 1: county B
        OrgPlan(0, OrgKind.PARTY_COMMITTEE, 1, False),  # 2: first township
        OrgPlan(2, OrgKind.FORMAL_BRANCH, 1, False),  # 3: village
        OrgPlan(0, OrgKind.PARTY_COMMITTEE, 2, False),  # 4: second township
    ],
    members=[MemberPlan(3, True, [])],
    users=[
        UserPlan(True, True, None, [("auditor", 5)]),  # at the branch set up after the move
        UserPlan(True, True, None, [("auditor", 4)]),  # at the second township
    ],
    moves=[(3, 4)],
    late_orgs=[(2, 0)],  # 5: first township's new formal branch
    records=[(3, True)],
)


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.scope_test("members.Participation")
@pytest.mark.scope_test("access.Grant")
@pytest.mark.scope_test("audit.Event")
@pytest.mark.scope_test("audit.AccessLog")
@DB_SETTINGS
@given(plan=plans())
@example(plan=PATH_REUSE)
def test_visible_to_matches_the_oracle(db: Any, plan: Plan) -> None:
    with transaction.atomic():
        build(plan)
        # Paths stay consistent with the parent pointers after the moves.
        for pk, parent_id, path, depth in Organization.objects.values_list(
            "pk", "parent_id", "path", "depth"
        ):
            parent_path = Organization.objects.get(pk=parent_id).path if parent_id else ""
            assert path.startswith(parent_path), pk
            assert len(path) == len(parent_path) + SEGMENT_WIDTH + 1, pk
            assert depth == path.count("."), pk
        check_against_oracle(fresh_users())
        transaction.set_rollback(True)


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.scope_test("members.Participation")
def test_oracle_on_a_known_tree(db: Any) -> None:
    """The oracle itself, on a tree small enough to work out by hand, including the edges the
    random worlds only reach by chance: a grant at a closed organization, the highest segment
    ("ZZZZ."), an ended participation, a deactivated account, a member account with a grant."""
    plan = Plan(
        orgs=[
            OrgPlan(None, OrgKind.COUNTY_DEPARTMENT, 1, False),  # 0: county A
            OrgPlan(None, OrgKind.COUNTY_DEPARTMENT, 2, False),  # 1: county B
            OrgPlan(0, OrgKind.PARTY_COMMITTEE, 1, False),  # 2: A / township
            OrgPlan(2, OrgKind.FORMAL_BRANCH, 1, False),  # 3: A / township / village
            OrgPlan(0, OrgKind.FORMAL_BRANCH, len(ALPHABET) ** SEGMENT_WIDTH - 1, False),  # 4: host
            OrgPlan(1, OrgKind.FORMAL_BRANCH, 1, True),  # 5: B / closed branch
            OrgPlan(1, OrgKind.FORMAL_BRANCH, 10, False),  # 6: B / branch
        ],
        members=[
            MemberPlan(3, True, [(4, False)]),  # away from the village, takes part at host
            MemberPlan(3, True, [(6, True)]),  # at home, once took part in B's branch
            MemberPlan(6, True, [(4, False)]),  # B's member taking part at A's host
            MemberPlan(5, False, []),  # B, closed branch, no longer on the rolls
        ],
        users=[
            UserPlan(True, True, None, [("branch_secretary", 4)]),  # host secretary
            UserPlan(True, True, None, [("viewer", 2)]),  # township viewer
            UserPlan(True, True, None, [("county_admin", 5)]),  # grant at a closed branch
            UserPlan(True, True, None, [("county_admin", 1)]),  # county B admin
            UserPlan(True, False, None, [("county_admin", 0)]),  # deactivated
            UserPlan(False, True, 0, [("county_admin", 0)]),  # member account
        ],
        moves=[],
        late_orgs=[],
        records=[(3, True), (6, False), (None, True)],
    )
    built = build(plan)
    orgs, users = built.orgs, built.users
    m = list(Member.objects.order_by("pk").values_list("pk", flat=True))
    oracle = Oracle()

    def visible(user_index: int, action: str) -> tuple[set[int], set[int]]:
        user = User.objects.get(pk=users[user_index].pk)
        seen = oracle.orgs(oracle.granted(user, action))
        return seen, oracle.members(seen)

    org = [o.pk for o in orgs]
    assert visible(0, "members.view") == ({org[4]}, {m[0], m[2]})
    assert visible(0, "audit.view") == (set(), set())
    assert visible(1, "members.view") == ({org[2], org[3]}, {m[0], m[1]})
    assert visible(1, "members.change") == (set(), set())
    assert visible(2, "members.view") == (set(), set())
    assert visible(3, "members.view") == ({org[1], org[5], org[6]}, {m[2], m[3]})
    assert visible(4, "members.view") == (set(), set())
    assert visible(5, "members.view") == (set(), set())
    check_against_oracle(fresh_users())
