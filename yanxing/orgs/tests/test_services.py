"""Organization services: create, update, move, close, convert and the TOTP policy.

Every service writes an audit event; actors outside their granted subtree get OutOfScope.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests import conftest
from tests.conftest import World, staff
from yanxing.accounts.models import User
from yanxing.audit.models import Event
from yanxing.audit.services import verify_chain
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.members.models import Participation
from yanxing.orgs import services
from yanxing.orgs.models import Organization, OrgKind
from yanxing.regions.models import Division

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
world = conftest.world

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 1)


def events(verb: str) -> list[Event]:
    return list(Event.objects.filter(verb=verb).order_by("id"))


def last_event(verb: str) -> Event:
    event = Event.objects.filter(verb=verb).order_by("-id").first()
    assert event is not None, verb
    return event


def fresh(org: Organization) -> Organization:
    return Organization.objects.get(pk=org.pk)


def division(code: str) -> Division:
    return Division.objects.get(code=code)


class TestWorldPaths:
    def test_paths_and_depths(self, world: World) -> None:
        assert [
            (o.path, o.depth) for o in (world.county, world.township, world.village, world.host)
        ] == [
            ("0001.", 1),
            ("0001.0001.", 2),
            ("0001.0001.0001.", 3),
            ("0001.0002.", 2),
        ]
        assert (world.other_county.path, world.other_branch.path) == ("0002.", "0002.0001.")


class TestCreate:
    def test_creates_with_next_path_and_event(self, world: World) -> None:
        org = services.create_organization(
            actor=world.county_admin,
            name="解店镇第二党支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=world.township,
            division=division("140822100000"),
            short_name="二支部",
            address="解店镇",
            founded_on=dt.date(2020, 7, 1),
        )
        assert org.path == "0001.0001.0002."
        assert org.depth == 3
        assert org.parent == world.township
        assert org.status == Organization.Status.ACTIVE
        assert (org.short_name, org.address, org.founded_on) == (
            "二支部",
            "解店镇",
            dt.date(2020, 7, 1),
        )
        event = last_event("org.created")
        assert event.org_path == "0001.0001.0002."
        assert event.organization_id == org.pk
        assert event.actor_id == world.county_admin.pk
        assert event.target_type == "orgs.organization"
        assert event.target_id == str(org.pk)
        assert event.summary == "设立 解店镇第二党支部"
        assert org.history.count() == 1

    def test_sibling_numbers_continue_after_the_highest(self, world: World) -> None:
        made = [
            services.create_organization(
                actor=world.county_admin,
                name=f"党小组{i}",
                kind=OrgKind.PARTY_GROUP,
                parent=world.village,
            )
            for i in range(12)
        ]
        assert [o.path for o in made][:3] == [
            "0001.0001.0001.0001.",
            "0001.0001.0001.0002.",
            "0001.0001.0001.0003.",
        ]
        assert made[9].path == "0001.0001.0001.000A."
        assert made[11].path == "0001.0001.0001.000C."
        assert {o.depth for o in made} == {4}

    @pytest.mark.parametrize(
        ("parent_name", "kind"),
        [
            ("county", OrgKind.COUNTY_DEPARTMENT),
            ("county", OrgKind.PARTY_GROUP),
            ("village", OrgKind.FORMAL_BRANCH),
            ("village", OrgKind.PARTY_COMMITTEE),
            ("host", OrgKind.FUNCTIONAL_BRANCH),
        ],
    )
    def test_kind_rules_under_parent(self, world: World, parent_name: str, kind: str) -> None:
        before = Organization.objects.count(), Event.objects.count()
        with pytest.raises(BusinessRuleError) as info:
            services.create_organization(
                actor=world.county_admin, name="x", kind=kind, parent=getattr(world, parent_name)
            )
        assert "下不能设立" in info.value.messages[0]
        assert "cannot sit under" in info.value.messages[0]
        assert (Organization.objects.count(), Event.objects.count()) == before

    def test_party_group_under_a_party_group_is_refused(self, world: World) -> None:
        group = services.create_organization(
            actor=world.county_admin,
            name="第一党小组",
            kind=OrgKind.PARTY_GROUP,
            parent=world.village,
        )
        with pytest.raises(BusinessRuleError):
            services.create_organization(
                actor=world.county_admin, name="x", kind=OrgKind.PARTY_GROUP, parent=group
            )

    @pytest.mark.parametrize(
        ("parent_name", "kind"),
        [
            ("county", OrgKind.PARTY_COMMITTEE),
            ("county", OrgKind.GENERAL_BRANCH),
            ("county", OrgKind.FUNCTIONAL_BRANCH),
            ("township", OrgKind.PARTY_COMMITTEE),
            ("village", OrgKind.PARTY_GROUP),
        ],
    )
    def test_allowed_kinds(self, world: World, parent_name: str, kind: str) -> None:
        org = services.create_organization(
            actor=world.county_admin, name="x", kind=kind, parent=getattr(world, parent_name)
        )
        assert org.kind == kind

    def test_general_branch_takes_branches(self, world: World) -> None:
        general = services.create_organization(
            actor=world.county_admin,
            name="党总支",
            kind=OrgKind.GENERAL_BRANCH,
            parent=world.county,
        )
        branch = services.create_organization(
            actor=world.county_admin, name="支部", kind=OrgKind.FORMAL_BRANCH, parent=general
        )
        assert branch.path == general.path + "0001."
        with pytest.raises(BusinessRuleError):
            services.create_organization(
                actor=world.county_admin, name="x", kind=OrgKind.GENERAL_BRANCH, parent=general
            )

    def test_external_needs_host_division(self, world: World) -> None:
        with pytest.raises(BusinessRuleError) as info:
            services.create_organization(
                actor=world.county_admin,
                name="驻东莞党支部",
                kind=OrgKind.FORMAL_BRANCH,
                parent=world.county,
                is_external=True,
            )
        assert info.value.messages == [
            "在外党组织须填写驻在地。 / An external organization needs its host region."
        ]
        org = services.create_organization(
            actor=world.county_admin,
            name="驻东莞党支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=world.county,
            is_external=True,
            host_division=division("441900000000"),
            host_basis="东莞山西商会",
        )
        assert org.is_external is True
        assert org.host_division_id == "441900000000"
        assert org.path == "0001.0003."

    def test_closed_parent_is_refused(self, world: World) -> None:
        group = services.create_organization(
            actor=world.county_admin, name="临时党小组", kind=OrgKind.PARTY_GROUP, parent=world.host
        )
        services.close_organization(
            actor=world.county_admin, org=group, reason="任务完成", on=TODAY
        )
        host_group = fresh(group)
        with pytest.raises(BusinessRuleError) as info:
            services.create_organization(
                actor=world.county_admin, name="x", kind=OrgKind.PARTY_GROUP, parent=host_group
            )
        assert "已撤销" in info.value.messages[0]

    def test_root_only_by_operations(self, world: World) -> None:
        with pytest.raises(OutOfScope):
            services.create_organization(
                actor=world.county_admin,
                name="丙县委组织部",
                kind=OrgKind.COUNTY_DEPARTMENT,
                parent=None,
            )
        root = services.create_organization(
            actor=None, name="丙县委组织部", kind=OrgKind.COUNTY_DEPARTMENT, parent=None
        )
        assert (root.path, root.depth, root.parent_id) == ("0003.", 1, None)
        event = last_event("org.created")
        assert (event.actor_id, event.actor_label, event.org_path) == (None, "系统", "0003.")

    def test_superuser_may_create_a_root(self, world: World) -> None:
        admin = User.objects.create_user(username="ops", password="x" * 12, is_superuser=True)
        root = services.create_organization(
            actor=admin, name="丁县委组织部", kind=OrgKind.COUNTY_DEPARTMENT, parent=None
        )
        assert root.path == "0003."

    def test_root_must_be_a_county_department(self, world: World) -> None:
        with pytest.raises(BusinessRuleError) as info:
            services.create_organization(
                actor=None, name="x", kind=OrgKind.FORMAL_BRANCH, parent=None
            )
        assert info.value.messages == [
            "只有县委组织部可以作为顶层组织。 / Only a county department can be a root."
        ]

    @pytest.mark.parametrize(
        "persona", ["other_secretary", "home_secretary", "host_secretary", "member_user"]
    )
    def test_out_of_scope(self, world: World, persona: str) -> None:
        before = Event.objects.count()
        with pytest.raises(OutOfScope):
            services.create_organization(
                actor=world.persona(persona),
                name="x",
                kind=OrgKind.PARTY_GROUP,
                parent=world.village,
            )
        assert Event.objects.count() == before

    def test_other_county_admin_cannot_create_under_county_a(self, world: World) -> None:
        other_admin = User.objects.get(username="other_admin")
        with pytest.raises(OutOfScope):
            services.create_organization(
                actor=other_admin, name="x", kind=OrgKind.FORMAL_BRANCH, parent=world.county
            )
        org = services.create_organization(
            actor=other_admin,
            name="乙县本地支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=world.other_county,
        )
        assert org.path == "0002.0002."

    def test_grant_lower_in_the_tree_covers_only_that_subtree(self, world: World) -> None:
        township_admin = staff("township_admin", "county_admin", world.township)
        services.create_organization(
            actor=township_admin, name="党小组", kind=OrgKind.PARTY_GROUP, parent=world.village
        )
        with pytest.raises(OutOfScope):
            services.create_organization(
                actor=township_admin, name="x", kind=OrgKind.PARTY_GROUP, parent=world.host
            )


class TestUpdate:
    def test_update_records_changes(self, world: World) -> None:
        org = services.update_organization(
            actor=world.county_admin,
            org=world.host,
            name="甲县驻北京流动党员第一党支部",
            host_basis="北京山西企业商会",
        )
        assert org.name == "甲县驻北京流动党员第一党支部"
        assert fresh(world.host).host_basis == "北京山西企业商会"
        event = last_event("org.updated")
        assert event.org_path == "0001.0002."
        assert event.data == {
            "changed": {
                "name": ["甲县驻北京流动党员党支部", "甲县驻北京流动党员第一党支部"],
                "host_basis": ["", "北京山西企业商会"],
            }
        }
        assert list(
            fresh(world.host).history.order_by("history_id").values_list("name", flat=True)
        ) == [
            "甲县驻北京流动党员党支部",
            "甲县驻北京流动党员第一党支部",
        ]

    def test_no_change_writes_no_event(self, world: World) -> None:
        services.update_organization(
            actor=world.county_admin, org=world.village, name=world.village.name
        )
        assert events("org.updated") == []

    def test_not_editable_fields(self, world: World) -> None:
        for field in ("kind", "path", "parent", "status", "require_staff_totp"):
            with pytest.raises(BusinessRuleError) as info:
                services.update_organization(
                    actor=world.county_admin, org=world.village, **{field: "x"}
                )
            assert info.value.messages == [f"不可修改的字段 / not editable: {field}"]
        assert fresh(world.village).kind == OrgKind.FORMAL_BRANCH

    def test_external_needs_host_division(self, world: World) -> None:
        with pytest.raises(BusinessRuleError):
            services.update_organization(
                actor=world.county_admin, org=world.host, host_division=None
            )
        with pytest.raises(BusinessRuleError):
            services.update_organization(
                actor=world.county_admin, org=world.village, is_external=True
            )
        assert fresh(world.host).host_division_id == "110100000000"
        assert fresh(world.village).is_external is False

    @pytest.mark.parametrize(
        "persona", ["other_secretary", "home_secretary", "member_user", "anonymous"]
    )
    def test_out_of_scope(self, world: World, persona: str) -> None:
        with pytest.raises(OutOfScope):
            services.update_organization(actor=world.persona(persona), org=world.village, name="x")
        assert fresh(world.village).name == "城西村党支部"
        assert events("org.updated") == []


class TestMove:
    def test_moves_the_whole_subtree(self, world: World) -> None:
        group = services.create_organization(
            actor=world.county_admin,
            name="第一党小组",
            kind=OrgKind.PARTY_GROUP,
            parent=world.village,
        )
        assert group.path == "0001.0001.0001.0001."
        # Village (with its party group) from the township (depth 2) straight under the county.
        moved = services.move_organization(
            actor=world.county_admin, org=world.village, new_parent=world.county
        )
        assert moved.parent_id == world.county.pk
        assert (moved.path, moved.depth) == ("0001.0003.", 2)
        assert (fresh(group).path, fresh(group).depth) == ("0001.0003.0001.", 3)
        assert fresh(group).parent_id == world.village.pk
        assert Organization.objects.filter(parent=world.township).count() == 0
        event = last_event("org.moved")
        assert event.org_path == "0001.0003."
        assert event.data == {"from": world.township.pk, "to": world.county.pk}
        assert event.summary == "城西村党支部：解店镇党委 → 甲县委组织部"
        # Members follow their home organization; scope still works after the move.
        assert world.home_secretary.grants.get().organization.path == "0001.0003."

    def test_move_deeper(self, world: World) -> None:
        committee = services.create_organization(
            actor=world.county_admin,
            name="北京片区党委",
            kind=OrgKind.PARTY_COMMITTEE,
            parent=world.county,
        )
        inner = services.create_organization(
            actor=world.county_admin,
            name="朝阳党总支",
            kind=OrgKind.GENERAL_BRANCH,
            parent=committee,
        )
        group = services.create_organization(
            actor=world.county_admin, name="党小组", kind=OrgKind.PARTY_GROUP, parent=world.host
        )
        moved = services.move_organization(
            actor=world.county_admin, org=world.host, new_parent=inner
        )
        assert (moved.path, moved.depth) == ("0001.0003.0001.0001.", 4)
        assert (fresh(group).path, fresh(group).depth) == ("0001.0003.0001.0001.0001.", 5)

    def test_cannot_move_under_own_subtree(self, world: World) -> None:
        for target in (world.village, world.township):
            with pytest.raises(BusinessRuleError) as info:
                services.move_organization(
                    actor=world.county_admin, org=world.township, new_parent=target
                )
            assert info.value.messages == [
                "不能移到自身或下级组织之下。 / Cannot move under itself or its own subtree."
            ]
        assert fresh(world.township).path == "0001.0001."
        assert fresh(world.village).path == "0001.0001.0001."
        assert events("org.moved") == []

    def test_root_cannot_move(self, world: World) -> None:
        admin = User.objects.create_user(username="both", password="x" * 12)
        from yanxing.access.models import Grant

        Grant.objects.create(user=admin, role="county_admin", organization=world.county)
        Grant.objects.create(user=admin, role="county_admin", organization=world.other_county)
        with pytest.raises(BusinessRuleError):
            services.move_organization(actor=admin, org=world.county, new_parent=world.other_county)

    def test_kind_rules_apply_at_the_new_parent(self, world: World) -> None:
        with pytest.raises(BusinessRuleError):
            services.move_organization(
                actor=world.county_admin, org=world.village, new_parent=world.host
            )
        assert fresh(world.village).path == "0001.0001.0001."

    def test_out_of_scope_on_either_end(self, world: World) -> None:
        with pytest.raises(OutOfScope):
            services.move_organization(
                actor=world.county_admin, org=world.village, new_parent=world.other_county
            )
        with pytest.raises(OutOfScope):
            services.move_organization(
                actor=world.other_secretary, org=world.village, new_parent=world.county
            )
        with pytest.raises(OutOfScope):
            services.move_organization(
                actor=world.home_secretary, org=world.village, new_parent=world.county
            )
        assert fresh(world.village).path == "0001.0001.0001."


class TestClose:
    def test_refuses_with_active_children(self, world: World) -> None:
        with pytest.raises(BusinessRuleError) as info:
            services.close_organization(
                actor=world.county_admin, org=world.township, reason="撤并", on=TODAY
            )
        assert info.value.messages == [
            "请先撤销或转移下级组织。 / Close or move the child organizations first."
        ]
        assert fresh(world.township).status == "active"

    def test_refuses_with_home_members(self, world: World) -> None:
        with pytest.raises(BusinessRuleError) as info:
            services.close_organization(
                actor=world.county_admin, org=world.village, reason="撤并", on=TODAY
            )
        assert "请先转接" in info.value.messages[0]
        assert "transfer them first" in info.value.messages[0]

    def test_needs_a_reason(self, world: World) -> None:
        with pytest.raises(BusinessRuleError):
            services.close_organization(
                actor=world.county_admin, org=world.host, reason="  ", on=TODAY
            )

    def test_close_ends_participations(self, world: World) -> None:
        participation = Participation.objects.get(member=world.m_away, organization=world.host)
        closed = services.close_organization(
            actor=world.county_admin, org=world.host, reason="流入地党员已全部返乡", on=TODAY
        )
        assert (closed.status, closed.closed_on, closed.close_reason) == (
            "closed",
            TODAY,
            "流入地党员已全部返乡",
        )
        participation.refresh_from_db()
        assert participation.ended_on == TODAY
        event = last_event("org.closed")
        assert event.org_path == "0001.0002."
        assert event.summary == "流入地党员已全部返乡"
        assert event.data == {"participations_ended": 1}
        assert list(
            fresh(world.host).history.order_by("history_id").values_list("status", flat=True)
        ) == [
            "active",
            "closed",
        ]

    def test_closed_children_do_not_block(self, world: World) -> None:
        group = services.create_organization(
            actor=world.county_admin, name="党小组", kind=OrgKind.PARTY_GROUP, parent=world.host
        )
        with pytest.raises(BusinessRuleError):
            services.close_organization(
                actor=world.county_admin, org=world.host, reason="撤销", on=TODAY
            )
        services.close_organization(actor=world.county_admin, org=group, reason="撤销", on=TODAY)
        services.close_organization(
            actor=world.county_admin, org=world.host, reason="撤销", on=TODAY
        )
        assert fresh(world.host).status == "closed"

    def test_grants_at_a_closed_org_stop_working(self, world: World) -> None:
        host_admin = staff("host_admin", "county_admin", world.host)
        services.update_organization(actor=host_admin, org=world.host, address="北京市丰台区")
        services.close_organization(
            actor=world.county_admin, org=world.host, reason="撤销", on=TODAY
        )
        host_admin = User.objects.get(pk=host_admin.pk)  # a new request: no cached grants
        with pytest.raises(OutOfScope):
            services.update_organization(actor=host_admin, org=world.host, name="x")
        assert fresh(world.host).name == "甲县驻北京流动党员党支部"

    @pytest.mark.parametrize(
        "persona", ["other_secretary", "host_secretary", "member_user", "anonymous"]
    )
    def test_out_of_scope(self, world: World, persona: str) -> None:
        with pytest.raises(OutOfScope):
            services.close_organization(
                actor=world.persona(persona), org=world.host, reason="x", on=TODAY
            )
        assert fresh(world.host).status == "active"
        assert (
            Participation.objects.get(member=world.m_away, organization=world.host).ended_on is None
        )


class TestConvert:
    def test_functional_to_formal_keeps_id_and_history(self, world: World) -> None:
        functional = services.create_organization(
            actor=world.county_admin,
            name="甲县驻北京建筑业功能型党支部",
            kind=OrgKind.FUNCTIONAL_BRANCH,
            parent=world.county,
            is_external=True,
            host_division=division("110100000000"),
        )
        from yanxing.members import services as member_services

        member_services.add_participation(
            actor=world.county_admin,
            member=world.m_local,
            organization=functional,
            started_on=TODAY,
        )
        path = functional.path
        converted = services.convert_to_formal(
            actor=world.county_admin, org=functional, reason="党员人数已满足建制条件"
        )
        assert converted.pk == functional.pk
        assert converted.path == path
        assert converted.kind == OrgKind.FORMAL_BRANCH
        assert converted.holds_membership is True
        rows = list(converted.history.order_by("history_id"))
        assert [(r.kind, r.history_type) for r in rows] == [
            (OrgKind.FUNCTIONAL_BRANCH, "+"),
            (OrgKind.FORMAL_BRANCH, "~"),
        ]
        assert rows[-1].history_change_reason == "党员人数已满足建制条件"
        assert {r.id for r in rows} == {functional.pk}
        assert (
            Participation.objects.get(member=world.m_local, organization_id=functional.pk).ended_on
            is None
        )
        event = last_event("org.converted")
        assert event.org_path == path
        assert event.summary == "党员人数已满足建制条件"
        assert event.data == {"from": "functional_branch", "to": "formal_branch"}

    def test_only_functional_branches(self, world: World) -> None:
        with pytest.raises(BusinessRuleError) as info:
            services.convert_to_formal(actor=world.county_admin, org=world.host, reason="x")
        assert info.value.messages == [
            "只有功能型党支部可以转为建制型。 / Only a functional branch can be converted."
        ]

    def test_out_of_scope(self, world: World) -> None:
        functional = services.create_organization(
            actor=world.county_admin,
            name="功能型党支部",
            kind=OrgKind.FUNCTIONAL_BRANCH,
            parent=world.county,
        )
        for persona in ("other_secretary", "home_secretary", "anonymous"):
            with pytest.raises(OutOfScope):
                services.convert_to_formal(actor=world.persona(persona), org=functional, reason="x")
        assert fresh(functional).kind == OrgKind.FUNCTIONAL_BRANCH


class TestTotpPolicy:
    def test_set_and_clear(self, world: World) -> None:
        org = services.set_staff_totp_policy(
            actor=world.county_admin, org=world.township, required=True
        )
        assert org.require_staff_totp is True
        assert fresh(world.township).require_staff_totp is True
        event = last_event("org.totp_policy")
        assert (event.org_path, event.data) == ("0001.0001.", {"require_staff_totp": True})
        services.set_staff_totp_policy(actor=world.county_admin, org=world.township, required=False)
        assert fresh(world.township).require_staff_totp is False
        assert [e.data for e in events("org.totp_policy")] == [
            {"require_staff_totp": True},
            {"require_staff_totp": False},
        ]

    @pytest.mark.parametrize(
        "persona", ["home_secretary", "host_secretary", "other_secretary", "anonymous"]
    )
    def test_needs_the_security_action(self, world: World, persona: str) -> None:
        with pytest.raises(OutOfScope):
            services.set_staff_totp_policy(
                actor=world.persona(persona), org=world.village, required=True
            )
        assert fresh(world.village).require_staff_totp is False
        assert events("org.totp_policy") == []


def test_events_form_an_intact_chain(world: World) -> None:
    services.update_organization(actor=world.county_admin, org=world.village, address="城西村委会")
    services.set_staff_totp_policy(actor=world.county_admin, org=world.county, required=True)
    assert [e.verb for e in Event.objects.order_by("id")][-2:] == ["org.updated", "org.totp_policy"]
    assert verify_chain(Event) == []
