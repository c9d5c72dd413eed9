"""Member services and selectors: registration, validation, identity derivation, transfers,
lost contact, participation, reveal with access log, search, field history, key rotation."""

from __future__ import annotations

import base64
import datetime as dt
import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from tests import conftest
from tests.conftest import (
    ID_AWAY,
    ID_LOCAL,
    ID_OTHER,
    PHONE_AWAY,
    PHONE_LOCAL,
    PHONE_OTHER,
    World,
    staff,
)
from yanxing.accounts.models import User
from yanxing.audit.models import AccessLog, Event
from yanxing.audit.services import verify_chain
from yanxing.core.crypto import _build, keyring
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.core.idnumber import check_char
from yanxing.demo.synthetic import synthetic_id, synthetic_phone
from yanxing.members import selectors, services
from yanxing.members.keys import rotate_member_keys
from yanxing.members.models import Member, Participation
from yanxing.orgs import services as org_services
from yanxing.orgs.models import Organization, OrgKind
from yanxing.regions.models import Division

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
world = conftest.world

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 1)
# 142725: a retired county code under province 14 (山西).
RETIRED_ID = "14272519900315071" + check_char("14272519900315071")
NEW_ID = "14082219780101002" + check_char("14082219780101002")
NEW_PHONE = "13912340009"


def last_event(verb: str) -> Event:
    event = Event.objects.filter(verb=verb).order_by("-id").first()
    assert event is not None, verb
    return event


def fresh(member: Member) -> Member:
    return Member.objects.get(pk=member.pk)


def raw_columns(member: Member) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone, sensitive_notes, id_hash, phone_hash FROM members_member WHERE id = %s",
            [member.pk],
        )
        row = cursor.fetchone()
    return dict(
        zip(["id_number", "phone", "sensitive_notes", "id_hash", "phone_hash"], row, strict=True)
    )


def messages_of(exc: ValidationError, field: str) -> list[str]:
    return exc.message_dict[field]


def bilingual(message: str) -> bool:
    """Chinese first, then " / " and English."""
    chinese, _, english = message.partition(" / ")
    return (
        any("\u4e00" <= ch <= "\u9fff" for ch in chinese) and english.isascii() and len(english) > 5
    )


class TestCreate:
    def test_derived_fields(self, world: World) -> None:
        member, warnings = services.create_member(
            actor=world.home_secretary,
            home_org=world.village,
            name=" 张 伟 ",
            id_number=NEW_ID,
            phone="+86 139-1234-0009",
        )
        assert warnings == []
        assert member.name == "张伟"
        assert (member.name_pinyin, member.name_initials) == ("zhangwei", "zw")
        assert (member.birth_date, member.sex) == (dt.date(1978, 1, 1), "F")
        assert member.id_masked == NEW_ID[:4] + "*" * 10 + NEW_ID[-4:]
        assert member.phone_masked == "139****0009"
        assert (
            member.id_hash
            == services.id_hash(NEW_ID)
            == keyring().blind_index(NEW_ID, "member.id_number")
        )
        assert member.phone_hash == services.phone_hash(NEW_PHONE)
        stored = fresh(member)
        assert (stored.id_number, stored.phone) == (NEW_ID, NEW_PHONE)
        event = last_event("member.created")
        assert (event.org_path, event.target_id, event.summary) == (
            "0001.0001.0001.",
            str(member.pk),
            "登记党员 张伟",
        )

    def test_world_members(self, world: World) -> None:
        away = fresh(world.m_away)
        assert (away.name_pinyin, away.name_initials) == ("wangjianguo", "wjg")
        assert (away.id_masked, away.phone_masked) == ("1408**********0711", "139****0001")
        assert (away.sex, away.birth_date) == ("M", dt.date(1990, 3, 15))
        local = fresh(world.m_local)
        assert (local.name_pinyin, local.name_initials, local.sex) == ("lixiuying", "lxy", "F")
        assert (local.birth_date, local.id_masked) == (dt.date(1985, 7, 22), "1408**********0029")

    def test_fifteen_digit_and_full_width_id(self, world: World) -> None:
        member, _ = services.create_member(
            actor=world.county_admin,
            home_org=world.village,
            name="赵敏",
            id_number="１４０８２２７８０１０１００２",
        )
        assert member.id_number == NEW_ID
        assert fresh(member).id_number == NEW_ID
        assert member.id_hash == services.id_hash(NEW_ID)

    def test_retired_region_code_is_a_warning(self, world: World) -> None:
        member, warnings = services.create_member(
            actor=world.county_admin, home_org=world.village, name="孙平", id_number=RETIRED_ID
        )
        assert len(warnings) == 1
        assert "142725" in warnings[0]
        assert bilingual(warnings[0])
        assert fresh(member).id_number == RETIRED_ID

    def test_unknown_region_is_refused(self, world: World) -> None:
        unknown = "99082219900315071" + check_char("99082219900315071")
        with pytest.raises(ValidationError) as info:
            services.create_member(
                actor=world.county_admin, home_org=world.village, name="孙平", id_number=unknown
            )
        assert messages_of(info.value, "id_number") == [
            "身份证号前6位地区码 990822 不存在。 / Region code 990822 does not exist."
        ]

    @pytest.mark.parametrize(
        ("id_number", "fragment"),
        [
            (ID_AWAY[:17] + "2", "校验位错误"),
            ("14082219900315071", "应为18位"),
            ("14082219900230071" + check_char("14082219900230071"), "不存在"),
            ("14082218800101071" + check_char("14082218800101071"), "不合理"),
        ],
    )
    def test_invalid_id_numbers(self, world: World, id_number: str, fragment: str) -> None:
        count = Member.objects.count(), Event.objects.count()
        with pytest.raises(ValidationError) as info:
            services.create_member(
                actor=world.county_admin, home_org=world.village, name="孙平", id_number=id_number
            )
        errors = messages_of(info.value, "id_number")
        assert len(errors) == 1
        assert fragment in errors[0]
        assert bilingual(errors[0])
        assert (Member.objects.count(), Event.objects.count()) == count

    def test_name_required(self, world: World) -> None:
        with pytest.raises(ValidationError) as info:
            services.create_member(actor=world.county_admin, home_org=world.village, name="  ")
        assert messages_of(info.value, "name") == ["请填写姓名。 / Name is required."]

    @pytest.mark.parametrize(
        "phone",
        ["1391234000", "139123400011", "23912340001", "12912340001", "010-62345678", "1391234000a"],
    )
    def test_phone_validation(self, world: World, phone: str) -> None:
        with pytest.raises(ValidationError) as info:
            services.create_member(
                actor=world.county_admin, home_org=world.village, name="孙平", phone=phone
            )
        assert messages_of(info.value, "phone") == [
            "手机号应为11位、以1开头的数字。 / A mobile number has 11 digits starting with 1."
        ]

    @pytest.mark.parametrize(
        "phone",
        [
            "13912340009",
            "+8613912340009",
            "0086 139 1234 0009",
            "139-1234-0009",
            "(139)12340009",
            "１３９１２３４０００９",
        ],
    )
    def test_phone_normalisation(self, world: World, phone: str) -> None:
        member, _ = services.create_member(
            actor=world.county_admin, home_org=world.village, name="孙平", phone=phone
        )
        assert fresh(member).phone == NEW_PHONE
        assert member.phone_hash == services.phone_hash(NEW_PHONE)

    def test_without_id_or_phone(self, world: World) -> None:
        member, _ = services.create_member(
            actor=world.county_admin, home_org=world.village, name="孙平"
        )
        assert (member.id_hash, member.id_masked, member.phone_hash, member.phone_masked) == (
            "",
            "",
            "",
            "",
        )
        assert raw_columns(member)["id_number"] == ""
        # Two members without ID numbers do not collide on the unique blind index.
        services.create_member(actor=world.county_admin, home_org=world.village, name="孙平")
        assert Member.objects.filter(name="孙平").count() == 2

    def test_duplicate_id_refused(self, world: World) -> None:
        with pytest.raises(ValidationError) as info:
            services.create_member(
                actor=world.county_admin,
                home_org=world.village,
                name="王建国",
                id_number=ID_AWAY.lower(),
            )
        assert messages_of(info.value, "id_number") == [
            "该身份证号已登记在册（可能由其他党组织登记）。 / This ID number is already registered."
        ]
        assert Member.objects.count() == 3
        assert Event.objects.filter(verb="member.created").count() == 3

    def test_duplicate_id_refused_across_counties(self, world: World) -> None:
        other_admin = User.objects.get(username="other_admin")
        with pytest.raises(ValidationError):
            services.create_member(
                actor=other_admin, home_org=world.other_branch, name="王建国", id_number=ID_AWAY
            )

    def test_local_status_clears_destination(self, world: World) -> None:
        member, _ = services.create_member(
            actor=world.county_admin,
            home_org=world.village,
            name="孙平",
            mobility_status="local",
            destination=Division.objects.get(code="110100000000"),
            destination_detail="朝阳区",
            left_on=TODAY,
        )
        assert (member.destination_id, member.destination_detail, member.left_on) == (
            None,
            "",
            None,
        )

    def test_unknown_fields(self, world: World) -> None:
        with pytest.raises(BusinessRuleError) as info:
            services.create_member(
                actor=world.county_admin, home_org=world.village, name="孙平", id_hash="x"
            )
        assert info.value.messages == ["未知字段 / unknown fields: id_hash"]

    def test_home_org_must_hold_membership(self, world: World) -> None:
        functional = org_services.create_organization(
            actor=world.county_admin,
            name="功能型党支部",
            kind=OrgKind.FUNCTIONAL_BRANCH,
            parent=world.county,
        )
        with pytest.raises(BusinessRuleError) as info:
            services.create_member(actor=world.county_admin, home_org=functional, name="孙平")
        assert "不能接收组织关系" in info.value.messages[0]
        assert "cannot hold membership" in info.value.messages[0]

    def test_closed_home_org(self, world: World) -> None:
        branch = org_services.create_organization(
            actor=world.county_admin,
            name="撤销的支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=world.county,
        )
        org_services.close_organization(
            actor=world.county_admin, org=branch, reason="撤并", on=TODAY
        )
        with pytest.raises(BusinessRuleError):
            services.create_member(actor=world.county_admin, home_org=branch, name="孙平")

    @pytest.mark.parametrize(
        "persona", ["host_secretary", "other_secretary", "member_user", "anonymous"]
    )
    def test_out_of_scope(self, world: World, persona: str) -> None:
        with pytest.raises(OutOfScope):
            services.create_member(
                actor=world.persona(persona), home_org=world.village, name="孙平"
            )
        assert Member.objects.count() == 3

    def test_synthetic_people(self, world: World) -> None:
        rng = random.Random(2025)
        for _ in range(10):
            number = synthetic_id(rng, "140822")
            member, warnings = services.create_member(
                actor=world.county_admin,
                home_org=world.village,
                name="周杰",
                id_number=number,
                phone=synthetic_phone(rng),
            )
            assert warnings == []
            assert fresh(member).id_number == number
        assert Member.objects.count() == 13


class TestUpdate:
    def test_update_and_events(self, world: World) -> None:
        member, warnings = services.update_member(
            actor=world.home_secretary,
            member=world.m_away,
            employer="中铁建工北京分公司",
            phone="13912340008",
        )
        assert warnings == []
        assert member.employer == "中铁建工北京分公司"
        assert fresh(member).phone == "13912340008"
        assert member.phone_masked == "139****0008"
        assert member.phone_hash == services.phone_hash("13912340008")
        event = last_event("member.updated")
        assert (event.data, event.org_path) == (
            {"fields": ["employer", "phone"]},
            "0001.0001.0001.",
        )
        moved = last_event("member.whereabouts_changed")
        assert moved.data == {"employer": "中铁建工北京分公司", "destination": "110100000000"}

    def test_no_change_no_event(self, world: World) -> None:
        services.update_member(
            actor=world.county_admin, member=world.m_local, name="李秀英", phone=PHONE_LOCAL
        )
        assert Event.objects.filter(verb="member.updated").count() == 0

    def test_id_change_recomputes_identity(self, world: World) -> None:
        member, _ = services.update_member(
            actor=world.county_admin, member=world.m_local, id_number=NEW_ID
        )
        assert (member.birth_date, member.sex) == (dt.date(1978, 1, 1), "F")
        assert member.id_masked == NEW_ID[:4] + "*" * 10 + NEW_ID[-4:]
        assert member.id_hash == services.id_hash(NEW_ID)
        assert Member.objects.filter(id_hash=services.id_hash(ID_LOCAL)).count() == 0
        assert last_event("member.updated").data == {"fields": ["id_number"]}

    def test_retired_region_warning_on_update(self, world: World) -> None:
        _, warnings = services.update_member(
            actor=world.county_admin, member=world.m_local, id_number=RETIRED_ID
        )
        assert len(warnings) == 1
        assert "142725" in warnings[0]

    def test_duplicate_id_on_update(self, world: World) -> None:
        with pytest.raises(ValidationError) as info:
            services.update_member(
                actor=world.county_admin, member=world.m_local, id_number=ID_AWAY
            )
        assert "already registered" in messages_of(info.value, "id_number")[0]
        assert fresh(world.m_local).id_number == ID_LOCAL

    def test_invalid_phone_on_update(self, world: World) -> None:
        with pytest.raises(ValidationError):
            services.update_member(actor=world.county_admin, member=world.m_local, phone="12345")
        assert fresh(world.m_local).phone == PHONE_LOCAL

    def test_sensitive_fields_need_the_sensitive_action(self, world: World) -> None:
        clerk = staff("clerk", "branch_staff", world.village)
        services.update_member(actor=clerk, member=world.m_local, employer="运城面粉厂")
        for field, value in (("id_number", NEW_ID), ("sensitive_notes", "低保户")):
            with pytest.raises(BusinessRuleError) as info:
                services.update_member(actor=clerk, member=world.m_local, **{field: value})
            assert info.value.messages == [
                "无权修改身份证号或敏感备注。 / Not allowed to change sensitive fields."
            ]
        assert fresh(world.m_local).id_number == ID_LOCAL

    def test_host_side_cannot_change_the_id(self, world: World) -> None:
        services.update_member(actor=world.host_secretary, member=world.m_away, employer="北京城建")
        with pytest.raises(BusinessRuleError):
            services.update_member(
                actor=world.host_secretary, member=world.m_away, id_number=NEW_ID
            )

    @pytest.mark.parametrize("persona", ["other_secretary", "member_user", "anonymous"])
    def test_out_of_scope(self, world: World, persona: str) -> None:
        with pytest.raises(OutOfScope):
            services.update_member(actor=world.persona(persona), member=world.m_away, employer="x")
        with pytest.raises(OutOfScope):
            services.update_member(actor=world.host_secretary, member=world.m_local, employer="x")
        assert fresh(world.m_away).employer == "建工集团第三项目部"


class TestTransfer:
    def test_transfer(self, world: World) -> None:
        branch = org_services.create_organization(
            actor=world.county_admin,
            name="解店镇机关党支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=world.township,
        )
        member = services.transfer_membership(
            actor=world.county_admin, member=world.m_local, to_org=branch, reason="工作调动"
        )
        assert fresh(member).home_org_id == branch.pk
        event = last_event("member.transferred")
        assert event.org_path == branch.path
        assert event.data == {"from": world.village.pk, "to": branch.pk, "reason": "工作调动"}
        assert event.summary == "李秀英：城西村党支部 → 解店镇机关党支部"
        assert (
            fresh(member).history.order_by("-history_id").first().history_change_reason
            == "工作调动"
        )
        # The village secretary no longer sees the member; the township-wide grant still does.
        assert (
            not Member.objects.visible_to(
                User.objects.get(pk=world.home_secretary.pk), "members.view"
            )
            .filter(pk=member.pk)
            .exists()
        )

    def test_same_org_refused(self, world: World) -> None:
        with pytest.raises(BusinessRuleError) as info:
            services.transfer_membership(
                actor=world.county_admin, member=world.m_local, to_org=world.village, reason="x"
            )
        assert info.value.messages == [
            "组织关系已在该党组织。 / The membership is already held there."
        ]

    def test_target_must_hold_membership(self, world: World) -> None:
        group = org_services.create_organization(
            actor=world.county_admin, name="党小组", kind=OrgKind.PARTY_GROUP, parent=world.village
        )
        with pytest.raises(BusinessRuleError):
            services.transfer_membership(
                actor=world.county_admin, member=world.m_local, to_org=group, reason="x"
            )

    def test_out_of_scope(self, world: World) -> None:
        with pytest.raises(OutOfScope):  # the target lies in another county
            services.transfer_membership(
                actor=world.county_admin,
                member=world.m_local,
                to_org=world.other_branch,
                reason="x",
            )
        with pytest.raises(OutOfScope):  # the target is outside the secretary's subtree
            services.transfer_membership(
                actor=world.home_secretary, member=world.m_local, to_org=world.host, reason="x"
            )
        with pytest.raises(OutOfScope):  # the host side does not hold the membership relation
            services.transfer_membership(
                actor=world.host_secretary, member=world.m_away, to_org=world.host, reason="x"
            )
        assert fresh(world.m_local).home_org_id == world.village.pk
        assert fresh(world.m_away).home_org_id == world.village.pk
        assert Event.objects.filter(verb="member.transferred").count() == 0


class TestLostContact:
    def test_mark_and_restore(self, world: World) -> None:
        member = services.mark_lost_contact(
            actor=world.home_secretary,
            member=world.m_away,
            since=dt.date(2025, 1, 10),
            note="电话停机，微信未回复，联系家属未果",
        )
        stored = fresh(member)
        assert (stored.contact_state, stored.lost_since, stored.lost_note) == (
            "lost",
            dt.date(2025, 1, 10),
            "电话停机，微信未回复，联系家属未果",
        )
        event = last_event("member.marked_lost")
        assert (event.org_path, event.summary) == (
            "0001.0001.0001.",
            "电话停机，微信未回复，联系家属未果",
        )
        with pytest.raises(BusinessRuleError) as info:
            services.mark_lost_contact(
                actor=world.home_secretary, member=world.m_away, since=TODAY, note="x"
            )
        assert info.value.messages == ["该党员已标记为失联。 / Already marked as lost contact."]

        services.restore_contact(
            actor=world.host_secretary, member=world.m_away, on=TODAY, how="本人到支部报到"
        )
        stored = fresh(member)
        assert (
            stored.contact_state,
            stored.lost_since,
            stored.lost_note,
            stored.last_contact_on,
        ) == (
            "in_contact",
            None,
            "",
            TODAY,
        )
        event = last_event("member.contact_restored")
        assert (event.summary, event.actor_id) == ("本人到支部报到", world.host_secretary.pk)
        with pytest.raises(BusinessRuleError) as info:
            services.restore_contact(
                actor=world.home_secretary, member=world.m_away, on=TODAY, how="x"
            )
        assert info.value.messages == ["该党员未处于失联状态。 / The member is not marked as lost."]

    def test_note_required(self, world: World) -> None:
        with pytest.raises(BusinessRuleError):
            services.mark_lost_contact(
                actor=world.home_secretary, member=world.m_away, since=TODAY, note=" "
            )
        assert fresh(world.m_away).contact_state == "in_contact"

    def test_out_of_scope(self, world: World) -> None:
        for actor in (world.other_secretary, world.host_secretary, world.member_user, None):
            with pytest.raises(OutOfScope):
                services.mark_lost_contact(actor=actor, member=world.m_local, since=TODAY, note="x")
        assert fresh(world.m_local).contact_state == "in_contact"


class TestParticipation:
    def test_add_end_and_add_again(self, world: World) -> None:
        active = Participation.objects.get(member=world.m_away, organization=world.host)
        with pytest.raises(BusinessRuleError) as info:
            services.add_participation(
                actor=world.county_admin,
                member=world.m_away,
                organization=world.host,
                started_on=TODAY,
            )
        assert info.value.messages == [
            "该党员已在此组织参加组织生活。 / Already taking part there."
        ]
        ended = services.end_participation(
            actor=world.host_secretary, participation=active, ended_on=TODAY
        )
        assert ended.ended_on == TODAY
        event = last_event("member.participation_ended")
        assert (event.org_path, event.target_id) == ("0001.0002.", str(world.m_away.pk))
        with pytest.raises(OutOfScope):  # once ended, the member is no longer the host's
            services.end_participation(
                actor=world.host_secretary, participation=active, ended_on=TODAY
            )
        with pytest.raises(BusinessRuleError) as info:
            services.end_participation(
                actor=world.county_admin, participation=active, ended_on=TODAY
            )
        assert info.value.messages == ["该记录已结束。 / Already ended."]
        again = services.add_participation(
            actor=world.county_admin,
            member=world.m_away,
            organization=world.host,
            started_on=dt.date(2025, 9, 1),
            note="再次外出",
        )
        assert again.pk != active.pk
        assert (
            Participation.objects.filter(member=world.m_away, organization=world.host).count() == 2
        )
        assert (
            Participation.objects.filter(member=world.m_away, ended_on__isnull=True).get() == again
        )
        event = last_event("member.participation_added")
        assert (event.org_path, event.summary) == (
            "0001.0002.",
            "王建国 参加 甲县驻北京流动党员党支部 组织生活",
        )

    def test_ending_hides_the_member_from_the_host(self, world: World) -> None:
        active = Participation.objects.get(member=world.m_away, organization=world.host)
        services.end_participation(actor=world.county_admin, participation=active, ended_on=TODAY)
        host = User.objects.get(pk=world.host_secretary.pk)
        assert list(Member.objects.visible_to(host, "members.view")) == []

    def test_several_organizations_at_once(self, world: World) -> None:
        second = org_services.create_organization(
            actor=world.county_admin,
            name="流动党员功能型党支部",
            kind=OrgKind.FUNCTIONAL_BRANCH,
            parent=world.county,
        )
        services.add_participation(
            actor=world.county_admin, member=world.m_away, organization=second, started_on=TODAY
        )
        assert set(
            Participation.objects.filter(member=world.m_away, ended_on__isnull=True).values_list(
                "organization", flat=True
            )
        ) == {world.host.pk, second.pk}

    def test_closed_org_refused(self, world: World) -> None:
        branch = org_services.create_organization(
            actor=world.county_admin,
            name="临时支部",
            kind=OrgKind.FUNCTIONAL_BRANCH,
            parent=world.county,
        )
        org_services.close_organization(
            actor=world.county_admin, org=branch, reason="撤销", on=TODAY
        )
        with pytest.raises(BusinessRuleError):
            services.add_participation(
                actor=world.county_admin,
                member=world.m_local,
                organization=Organization.objects.get(pk=branch.pk),
                started_on=TODAY,
            )

    def test_out_of_scope(self, world: World) -> None:
        with pytest.raises(OutOfScope):  # the organization belongs to another county
            services.add_participation(
                actor=world.county_admin,
                member=world.m_local,
                organization=world.other_branch,
                started_on=TODAY,
            )
        with pytest.raises(OutOfScope):  # the member is not visible to the host secretary
            services.add_participation(
                actor=world.host_secretary,
                member=world.m_local,
                organization=world.host,
                started_on=TODAY,
            )
        with pytest.raises(OutOfScope):
            services.end_participation(
                actor=world.other_secretary,
                participation=Participation.objects.get(member=world.m_away),
                ended_on=TODAY,
            )
        assert Participation.objects.filter(ended_on__isnull=True).count() == 1


class TestRevealSensitive:
    def test_reveal_writes_access_log(self, world: World) -> None:
        value = services.reveal_sensitive(
            actor=world.home_secretary, member=world.m_away, field="id_number", ip="10.0.0.8"
        )
        assert value == ID_AWAY
        entry = AccessLog.objects.get()
        assert (entry.action, entry.fields, entry.row_count) == ("reveal", "id_number", 1)
        assert (entry.actor_id, entry.org_path, entry.ip) == (
            world.home_secretary.pk,
            "0001.0001.0001.",
            "10.0.0.8",
        )
        assert (entry.target_type, entry.target_id, entry.target_label) == (
            "members.member",
            str(world.m_away.pk),
            "王建国",
        )
        assert (
            services.reveal_sensitive(actor=world.county_admin, member=world.m_away, field="phone")
            == PHONE_AWAY
        )
        assert AccessLog.objects.count() == 2
        assert verify_chain(AccessLog) == []

    def test_notes(self, world: World) -> None:
        services.update_member(
            actor=world.county_admin, member=world.m_local, sensitive_notes="慢性病，需每月走访"
        )
        assert (
            services.reveal_sensitive(
                actor=world.county_admin, member=world.m_local, field="sensitive_notes"
            )
            == "慢性病，需每月走访"
        )
        assert AccessLog.objects.get().fields == "sensitive_notes"

    def test_unknown_field(self, world: World) -> None:
        with pytest.raises(BusinessRuleError):
            services.reveal_sensitive(actor=world.county_admin, member=world.m_away, field="name")
        assert AccessLog.objects.count() == 0

    def test_without_the_sensitive_action(self, world: World) -> None:
        clerk = staff("clerk", "branch_staff", world.village)
        viewer = staff("viewer", "viewer", world.county)
        for actor in (clerk, viewer):
            assert (
                Member.objects.visible_to(actor, "members.view").filter(pk=world.m_away.pk).exists()
            )
            with pytest.raises(OutOfScope):
                services.reveal_sensitive(actor=actor, member=world.m_away, field="id_number")
        assert AccessLog.objects.count() == 0

    @pytest.mark.parametrize(
        "persona", ["other_secretary", "host_secretary", "member_user", "anonymous"]
    )
    def test_out_of_scope(self, world: World, persona: str) -> None:
        for member in (world.m_away, world.m_local):
            with pytest.raises(OutOfScope):
                services.reveal_sensitive(
                    actor=world.persona(persona), member=member, field="phone"
                )
        assert AccessLog.objects.count() == 0


class TestSearch:
    @pytest.mark.parametrize(
        ("term", "expected"),
        [
            (ID_AWAY, ["m_away"]),
            (ID_AWAY.replace("0", "０"), ["m_away"]),
            ("140822900315071", ["m_away"]),  # the 15-digit form
            (ID_LOCAL, ["m_local"]),
            (PHONE_AWAY, ["m_away"]),
            ("+86 139 1234 0002", ["m_local"]),
            ("1408**********0711", ["m_away"]),
            ("1408**********0029", ["m_local"]),
            ("1408*0029", ["m_local"]),
            ("**0711", ["m_away"]),
            ("1408**", ["m_away", "m_local"]),
            ("0711", ["m_away"]),
            ("0029", ["m_local"]),
            ("wangjianguo", ["m_away"]),
            ("WangJian", ["m_away"]),
            ("li xiu", ["m_local"]),
            ("wjg", ["m_away"]),
            ("lxy", ["m_local"]),
            ("王建国", ["m_away"]),
            ("建国", ["m_away"]),
            ("秀", ["m_local"]),
            ("王", ["m_away"]),
            ("zhang", []),
            ("1408**********9999", []),
            (ID_OTHER, []),  # visible only to county B
            ("13912340004", []),
        ],
    )
    def test_search_q(self, world: World, term: str, expected: list[str]) -> None:
        found = Member.objects.visible_to(world.county_admin, "members.view").filter(
            selectors.search_q(term)
        )
        assert sorted(found.values_list("pk", flat=True)) == sorted(
            getattr(world, name).pk for name in expected
        )

    def test_empty_term(self, world: World) -> None:
        assert Member.objects.filter(selectors.search_q("  ")).count() == 3
        assert selectors.search_members(world.county_admin, " ") == []

    def test_full_id_is_an_exact_hash_lookup(self, world: World) -> None:
        q = selectors.search_q(ID_AWAY)
        assert q.children == [("id_hash", services.id_hash(ID_AWAY))]
        assert selectors.search_q(PHONE_AWAY).children == [
            ("phone_hash", services.phone_hash(PHONE_AWAY))
        ]

    def test_search_members_is_scoped(self, world: World) -> None:
        assert selectors.search_members(world.other_secretary, ID_AWAY) == []
        assert selectors.search_members(world.other_secretary, PHONE_OTHER) == [world.m_other]
        assert selectors.search_members(world.host_secretary, "lxy") == []
        assert selectors.search_members(world.host_secretary, "wjg") == [world.m_away]
        assert selectors.search_members(world.county_admin, "1408**") == [
            world.m_local,
            world.m_away,
        ]
        assert len(selectors.search_members(world.county_admin, "1408**", limit=1)) == 1


class TestHistory:
    def test_member_history(self, world: World) -> None:
        services.update_member(
            actor=world.county_admin,
            member=world.m_away,
            employer="北京城建",
            mobility_status="local",
        )
        branch = org_services.create_organization(
            actor=world.county_admin,
            name="解店镇机关党支部",
            kind=OrgKind.FORMAL_BRANCH,
            parent=world.township,
        )
        services.transfer_membership(
            actor=world.county_admin, member=world.m_away, to_org=branch, reason="返乡任职"
        )
        entries = selectors.member_history(fresh(world.m_away))
        assert [e["type"] for e in entries] == ["~", "~", "+"]
        transfer, update, created = entries
        assert transfer["reason"] == "返乡任职"
        assert transfer["changes"] == [("组织关系所在党组织", "城西村党支部", "解店镇机关党支部")]
        assert transfer["who"] == world.county_admin
        assert sorted(update["changes"]) == sorted(
            [
                ("工作单位", "建工集团第三项目部", "北京城建"),
                ("流动状态", "外出流动", "在本地"),
                ("流向地", "北京市市辖区", "—"),
            ]
        )
        assert created["changes"] == []
        assert created["reason"] == ""

    def test_history_never_holds_plaintext(self, world: World) -> None:
        services.update_member(
            actor=world.county_admin, member=world.m_local, id_number=NEW_ID, phone=NEW_PHONE
        )
        entries = selectors.member_history(fresh(world.m_local))
        text = repr(entries)
        for secret in (NEW_ID, ID_LOCAL, NEW_PHONE, PHONE_LOCAL):
            assert secret not in text
        fields = {f.name for f in Member.history.model._meta.get_fields()}
        assert {"id_number", "phone", "sensitive_notes", "id_hash", "phone_hash"} & fields == set()
        assert sorted(entries[0]["changes"]) == sorted(
            [
                ("出生日期", "1985-07-22", "1978-01-01"),
                ("身份证号（脱敏）", "1408**********0029", NEW_ID[:4] + "**********" + NEW_ID[-4:]),
                ("手机号（脱敏）", "139****0002", "139****0009"),
            ]
        )

    def test_phone_correction_shows_in_history(self, world: World) -> None:
        services.update_member(actor=world.county_admin, member=world.m_local, phone=NEW_PHONE)
        assert selectors.member_history(fresh(world.m_local))[0]["changes"] == [
            ("手机号（脱敏）", "139****0002", "139****0009")
        ]


NEW_FIELD_KEY = "t3:" + base64.b64encode(bytes(range(50, 82))).decode()
NEW_INDEX_KEY = base64.b64encode(b"n" * 32).decode()


@pytest.fixture
def rotated_keys(settings):
    _build.cache_clear()
    yield settings
    _build.cache_clear()


class TestKeyRotation:
    def test_rotate_field_keys(self, world: World, rotated_keys) -> None:
        services.update_member(
            actor=world.county_admin, member=world.m_local, sensitive_notes="家庭困难"
        )
        before = {m.pk: raw_columns(m) for m in (world.m_away, world.m_local, world.m_other)}
        assert {v["id_number"][:3] for v in before.values()} == {"t2$"}

        old_keys = rotated_keys.FIELD_ENCRYPTION_KEYS
        rotated_keys.FIELD_ENCRYPTION_KEYS = NEW_FIELD_KEY + "," + old_keys
        _build.cache_clear()
        # Before rotation: new writes use t3, old rows still decrypt.
        assert fresh(world.m_away).id_number == ID_AWAY
        out = io.StringIO()
        call_command("rotate_keys", stdout=out)
        assert out.getvalue().strip() == "checked 3 members, re-encrypted 3"
        after = {m.pk: raw_columns(m) for m in (world.m_away, world.m_local, world.m_other)}
        for pk, raw in after.items():
            assert raw["id_number"].startswith("t3$")
            assert raw["phone"].startswith("t3$")
            assert raw["id_hash"] == before[pk]["id_hash"]  # the index key did not change
            assert raw["phone_hash"] == before[pk]["phone_hash"]
        assert after[world.m_local.pk]["sensitive_notes"].startswith("t3$")
        assert after[world.m_away.pk]["sensitive_notes"] == ""
        event = last_event("keys.rotated")
        assert (event.summary, event.data) == ("primary key t3", {"rows": 3, "changed": 3})

        # A second run has nothing to do.
        assert rotate_member_keys().reencrypted == 0

        # The old keys can now be dropped: everything still decrypts with t3 alone.
        rotated_keys.FIELD_ENCRYPTION_KEYS = NEW_FIELD_KEY
        _build.cache_clear()
        stored = {m.pk: m for m in Member.objects.all()}
        assert stored[world.m_away.pk].id_number == ID_AWAY
        assert stored[world.m_local.pk].phone == PHONE_LOCAL
        assert stored[world.m_local.pk].sensitive_notes == "家庭困难"
        assert stored[world.m_other.pk].id_number == ID_OTHER
        assert selectors.search_members(world.county_admin, ID_AWAY) == [world.m_away]

    def test_rotate_blind_index_key(self, world: World, rotated_keys) -> None:
        old_hash = raw_columns(world.m_away)["id_hash"]
        rotated_keys.BLIND_INDEX_KEY = NEW_INDEX_KEY
        _build.cache_clear()
        # Until the rotation runs, exact lookups miss.
        assert selectors.search_members(world.county_admin, ID_AWAY) == []
        result = rotate_member_keys(batch_size=2)
        assert (result.rows, result.reencrypted) == (3, 3)
        raw = raw_columns(world.m_away)
        assert raw["id_hash"] != old_hash
        assert raw["id_hash"] == keyring().blind_index(ID_AWAY, "member.id_number")
        assert raw["phone_hash"] == keyring().blind_index(PHONE_AWAY, "member.phone")
        assert raw["id_number"].startswith("t2$")  # field keys untouched
        assert selectors.search_members(world.county_admin, ID_AWAY) == [world.m_away]
        assert selectors.search_members(world.county_admin, PHONE_LOCAL) == [world.m_local]
        # Uniqueness still holds under the new index key.
        with pytest.raises(ValidationError):
            services.create_member(
                actor=world.county_admin, home_org=world.village, name="王建国", id_number=ID_AWAY
            )

    def test_rotation_leaves_members_without_identifiers_alone(
        self, world: World, rotated_keys
    ) -> None:
        bare, _ = services.create_member(
            actor=world.county_admin, home_org=world.village, name="孙平"
        )
        rotated_keys.FIELD_ENCRYPTION_KEYS = (
            NEW_FIELD_KEY + "," + rotated_keys.FIELD_ENCRYPTION_KEYS
        )
        _build.cache_clear()
        result = rotate_member_keys()
        assert (result.rows, result.reencrypted) == (4, 3)
        assert raw_columns(bare) == {
            "id_number": "",
            "phone": "",
            "sensitive_notes": "",
            "id_hash": "",
            "phone_hash": "",
        }


@pytest.mark.django_db
class TestEndParticipationSides:
    def test_home_side_and_host_side_may_end_a_third_organization_may_not(
        self, world: World
    ) -> None:
        participation = Participation.objects.get(member=world.m_away, organization=world.host)
        with pytest.raises(OutOfScope):
            services.end_participation(
                actor=world.other_secretary,
                participation=participation,
                ended_on=dt.date(2025, 1, 1),
            )
        ended = services.end_participation(
            actor=world.host_secretary, participation=participation, ended_on=dt.date(2025, 1, 1)
        )
        assert ended.ended_on == dt.date(2025, 1, 1)
