"""People's decisions: confirm / reject / bulk, merges and their exact undo, no merge without
a confirmation, conflicts, sign-off by both sides, the quarterly overdue flag."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db.models import Model
from django.forms.models import model_to_dict

from tests import conftest
from tests.conftest import World
from yanxing.accounts.models import User
from yanxing.audit.models import Event
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.ledgers.models import HostRecord
from yanxing.members import services as member_services
from yanxing.members.models import Member, Participation

from .. import schedule, selectors
from ..models import Merge, Run, RunConflict, RunPair, RunRecord, SignOff
from ..services import (
    bulk_decide,
    confirm_pair,
    reject_pair,
    reopen_pair,
    resolve_conflict,
    sign_off,
    undo_merge,
)
from .scenario import ID_LIU, Scenario, build, finished_run

world = conftest.world
pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(world: World) -> Scenario:
    return build(world)


@pytest.fixture
def run(scenario: Scenario) -> Run:
    return finished_run(scenario)


def pair_of(run: Run, right_name: str) -> RunPair:
    return RunPair.objects.select_related("left", "right").get(run=run, right__name=right_name)


def state(member: Member) -> dict[str, Any]:
    """Every stored field of a member (plain values decrypted), but the update timestamp."""
    fresh = Member.objects.get(pk=member.pk)
    values = {f.attname: getattr(fresh, f.attname) for f in Member._meta.concrete_fields}
    values.pop("updated_at")
    return values


def participations(*members: Member) -> list[tuple[int, int, int, Any, Any]]:
    return sorted(
        Participation.objects.filter(member__in=members).values_list(
            "pk", "member_id", "organization_id", "started_on", "ended_on"
        )
    )


def host_records() -> list[tuple[int, int | None, bool]]:
    return sorted(HostRecord.objects.values_list("pk", "member_id", "is_active"))


def registry() -> dict[str, Any]:
    """The whole registry as far as a reconciliation may touch it."""
    return {
        "members": {m.pk: state(m) for m in Member.objects.all()},
        "participations": sorted(
            Participation.objects.values_list(
                "pk", "member_id", "organization_id", "started_on", "ended_on", "note"
            )
        ),
        "host_records": host_records(),
        "accounts": sorted(User.objects.values_list("pk", "member_id")),
    }


def as_dict(obj: Model) -> dict[str, Any]:
    return model_to_dict(obj)


# --------------------------------------------------------------------------------------------
# Nothing happens without a person
# --------------------------------------------------------------------------------------------


def test_a_run_changes_nothing_in_the_registry(scenario: Scenario) -> None:
    before = registry()
    run = finished_run(scenario)
    assert run.counts["matched"] == 5
    assert registry() == before
    assert Merge.objects.count() == 0
    # Proposed matches are only proposals.
    assert RunPair.objects.filter(run=run, decision="match", status="proposed").count() == 3


# --------------------------------------------------------------------------------------------
# A host-list row confirmed to be a member
# --------------------------------------------------------------------------------------------


def test_confirm_links_the_list_row_and_adds_the_participation(
    scenario: Scenario, run: Run
) -> None:
    w = scenario.world
    before = registry()
    pair = confirm_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))
    assert (pair.status, pair.decided_by) == ("confirmed", w.county_admin)
    assert HostRecord.objects.get(pk=scenario.rec_chen.pk).member_id == scenario.chen.pk
    added = Participation.objects.get(member=scenario.chen, organization=w.host)
    assert (added.started_on, added.ended_on, added.note) == (
        dt.date(2026, 4, 8),
        None,
        "双向对账确认",
    )
    merge = Merge.objects.get()
    assert (merge.kind, merge.survivor, merge.duplicate, merge.host_record, merge.pair) == (
        "host_record",
        scenario.chen,
        None,
        scenario.rec_chen,
        pair,
    )
    assert merge.summary == {
        "host_record": "陈伟",
        "organization": w.host.name,
        "participation_added": True,
    }
    assert json.loads(merge.undo_data) == {
        "host_record": {
            "id": scenario.rec_chen.pk,
            "before": {"member_id": None},
            "after": {"member_id": scenario.chen.pk},
        },
        "participation_added": added.pk,
    }
    event = Event.objects.filter(verb="reconciliation.pair_confirmed").get()
    assert (event.target_id, event.data["merge"], event.data["kind"]) == (
        str(pair.pk),
        merge.pk,
        "host_record",
    )
    # The member record itself is unchanged; nothing else moved.
    assert state(scenario.chen) == before["members"][scenario.chen.pk]
    # Confirming again changes nothing.
    confirm_pair(actor=w.county_admin, pair=pair)
    assert Merge.objects.count() == 1
    assert Participation.objects.filter(member=scenario.chen).count() == 1
    assert Event.objects.filter(verb="reconciliation.pair_confirmed").count() == 1
    # The pair now counts as decided: the matched list shows it confirmed.
    lists = selectors.run_lists(w.county_admin, run)
    assert lists.matched.get(pk=pair.pk).status == "confirmed"
    assert lists.counts()["merges"] == 1


def test_undo_of_a_list_row_merge_restores_exactly(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    before = registry()
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))
    merge = Merge.objects.get()
    assert registry() != before
    undone = undo_merge(actor=w.county_admin, merge=merge)
    assert registry() == before
    assert (undone.undone_by, undone.is_undone) == (w.county_admin, True)
    assert pair_of(run, "陈伟").status == "proposed"
    assert pair_of(run, "陈伟").decided_by is None
    event = Event.objects.filter(verb="reconciliation.merge_undone").get()
    assert (event.target_id, event.data["kind"], event.actor_id) == (
        str(merge.pk),
        "host_record",
        w.county_admin.pk,
    )
    # Undoing again changes nothing; the pair can be confirmed again, as a new merge.
    undo_merge(actor=w.county_admin, merge=merge)
    assert Event.objects.filter(verb="reconciliation.merge_undone").count() == 1
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))
    assert Merge.objects.active().count() == 1 and Merge.objects.count() == 2


def test_confirm_of_a_row_of_a_member_already_taking_part_adds_no_participation(
    scenario: Scenario,
) -> None:
    w = scenario.world
    member_services.add_participation(
        actor=w.county_admin,
        member=scenario.chen,
        organization=w.host,
        started_on=dt.date(2025, 2, 1),
    )
    run = finished_run(scenario)
    # 陈伟 now takes part: his member row is matched by identity, his list row by the engine.
    pair = RunPair.objects.get(run=run, right__host_record=scenario.rec_chen)
    count = Participation.objects.count()
    confirm_pair(actor=w.county_admin, pair=pair)
    assert Participation.objects.count() == count
    assert Merge.objects.get().summary["participation_added"] is False


def test_a_row_confirmed_to_another_member_is_refused(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    HostRecord.objects.filter(pk=scenario.rec_zhang.pk).update(member=scenario.zhao)
    with pytest.raises(BusinessRuleError):
        confirm_pair(actor=w.county_admin, pair=pair_of(run, "章志强"))
    assert pair_of(run, "章志强").status == "proposed"
    assert HostRecord.objects.get(pk=scenario.rec_zhang.pk).member_id == scenario.zhao.pk
    assert Merge.objects.count() == 0


# --------------------------------------------------------------------------------------------
# Two member records of one person
# --------------------------------------------------------------------------------------------


def test_member_merge_and_exact_undo(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    zhou, dup = scenario.zhou, scenario.zhou_host
    account = User.objects.create(username="zhou_host", kind=User.Kind.MEMBER, member=dup)
    HostRecord.objects.filter(pk=scenario.rec_sun.pk).update(member=dup)  # linked earlier
    before = registry()
    dup_participation = Participation.objects.get(member=dup)

    confirm_pair(actor=w.county_admin, pair=pair_of(run, "周杰"))

    merged = Member.objects.get(pk=dup.pk)
    survivor = Member.objects.get(pk=zhou.pk)
    assert merged.is_active is False
    # Empty fields of the survivor filled from the duplicate; the rest kept.
    assert (survivor.employer, survivor.wish_return_business) == ("鑫源机械制造有限公司", "yes")
    assert (survivor.name, survivor.id_number, survivor.phone) == (
        "周杰",
        zhou.id_number,
        "13912340013",
    )
    assert participations(zhou, dup) == [
        (dup_participation.pk, zhou.pk, w.host.pk, dt.date(2025, 9, 1), None)
    ]
    assert HostRecord.objects.get(pk=scenario.rec_sun.pk).member_id == zhou.pk
    assert User.objects.get(pk=account.pk).member_id == zhou.pk
    merge = Merge.objects.get()
    assert (merge.kind, merge.survivor_id, merge.duplicate_id) == ("member", zhou.pk, dup.pk)
    assert list(dup.merged_into.all()) == [merge]
    assert merge.summary == {
        "filled": ["employer", "wish_return_business"],
        "participations_moved": 1,
        "participations_ended": 0,
        "host_records": 1,
        "account_moved": True,
    }
    # The merge is in the members' field history, with the reason.
    assert survivor.history.first().history_change_reason == f"双向对账确认：并入 #{dup.pk}"

    undo_merge(actor=w.county_admin, merge=merge)
    assert registry() == before
    assert pair_of(run, "周杰").status == "proposed"


def test_merge_moves_the_id_number_and_undo_gives_it_back(scenario: Scenario, run: Run) -> None:
    """The survivor has no ID number, the duplicate has one (unique in the registry)."""
    w = scenario.world
    left = RunRecord.objects.get(run=run, side="left", member=scenario.liu_again)
    right = RunRecord.objects.create(
        run=run,
        side="right",
        key=f"m{scenario.liu.pk}",
        source="member",
        organization=w.host,
        member=scenario.liu,
        name="刘芳",
    )
    pair = RunPair.objects.create(
        run=run, left=left, right=right, score=0.9, decision="review", reasons=[]
    )
    before = registry()
    confirm_pair(actor=w.county_admin, pair=pair)
    survivor = Member.objects.get(pk=scenario.liu_again.pk)
    merged = Member.objects.get(pk=scenario.liu.pk)
    assert (survivor.id_number, survivor.id_masked, survivor.birth_date, survivor.sex) == (
        ID_LIU,
        ID_LIU[:4] + "*" * 10 + ID_LIU[-4:],
        dt.date(1987, 4, 17),
        "F",
    )
    assert survivor.id_hash == before["members"][scenario.liu.pk]["id_hash"]
    assert (merged.id_number, merged.id_hash, merged.is_active) == ("", "", False)
    assert Merge.objects.get().summary["filled"] == ["id_number"]
    undo_merge(actor=w.county_admin, merge=Merge.objects.get())
    assert registry() == before


def test_merge_with_a_participation_in_the_same_organization(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    member_services.add_participation(
        actor=w.county_admin,
        member=scenario.zhou,
        organization=w.host,
        started_on=dt.date(2025, 1, 1),
    )
    before = registry()
    dup_participation = Participation.objects.get(member=scenario.zhou_host)
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "周杰"))
    # Two active participations in one organization cannot be: the duplicate's is ended.
    ended = Participation.objects.get(pk=dup_participation.pk)
    assert (ended.member_id, ended.ended_on) == (scenario.zhou_host.pk, dt.date.today())
    assert Merge.objects.get().summary["participations_ended"] == 1
    undo_merge(actor=w.county_admin, merge=Merge.objects.get())
    assert registry() == before


def test_undo_is_refused_after_a_later_change(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "周杰"))
    member_services.update_member(actor=w.county_admin, member=scenario.zhou, employer="另一单位")
    after = registry()
    with pytest.raises(BusinessRuleError):
        undo_merge(actor=w.county_admin, merge=Merge.objects.get())
    assert registry() == after
    assert Merge.objects.get().is_undone is False


def test_merge_needs_the_right_to_change_both_records(scenario: Scenario, run: Run) -> None:
    """The village's secretary may reconcile the county's run? No: decisions need the action
    over the run's home organization; and a merge needs members.change on both records."""
    w = scenario.world
    with pytest.raises(OutOfScope):
        confirm_pair(actor=w.home_secretary, pair=pair_of(run, "周杰"))
    with pytest.raises(OutOfScope):
        confirm_pair(actor=w.host_secretary, pair=pair_of(run, "周杰"))
    assert Merge.objects.count() == 0
    assert Member.objects.get(pk=scenario.zhou_host.pk).is_active is True


# --------------------------------------------------------------------------------------------
# Reject, reopen, bulk
# --------------------------------------------------------------------------------------------


def test_reject_and_reopen(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    pair = reject_pair(actor=w.county_admin, pair=pair_of(run, "马文武"))
    assert (pair.status, pair.decided_by) == ("rejected", w.county_admin)
    lists = selectors.run_lists(w.county_admin, run)
    assert [p.right.name for p in lists.review] == ["黄梅"]
    assert "马文斌" in {r.name for r in lists.unmanaged}
    assert not getattr(lists.unmanaged.get(name="马文斌"), "has_candidate")
    reject_pair(actor=w.county_admin, pair=pair)  # no-op
    assert Event.objects.filter(verb="reconciliation.pair_rejected").count() == 1
    with pytest.raises(BusinessRuleError):
        confirm_pair(actor=w.county_admin, pair=pair)
    pair = reopen_pair(actor=w.county_admin, pair=pair)
    assert (pair.status, pair.decided_by) == ("proposed", None)
    # Rejecting a match removes it from the matched list.
    reject_pair(actor=w.county_admin, pair=pair_of(run, "章志强"))
    lists = selectors.run_lists(w.county_admin, run)
    assert "章志强" in {r.name for r in lists.unknown}
    assert "张志强" in {r.name for r in lists.unmanaged}


def test_identity_pairs_cannot_be_rejected_and_merged_pairs_need_an_undo_first(
    scenario: Scenario, run: Run
) -> None:
    w = scenario.world
    identity = RunPair.objects.get(run=run, left__member=w.m_away)
    with pytest.raises(BusinessRuleError):
        reject_pair(actor=w.county_admin, pair=identity)
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))
    with pytest.raises(BusinessRuleError):
        reject_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))
    assert pair_of(run, "陈伟").status == "confirmed"


def test_bulk_confirm_and_reject(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    ma, huang = pair_of(run, "马文武"), pair_of(run, "黄梅")
    identity = RunPair.objects.get(run=run, left__member=w.m_away)
    # A pair of another run is not this run's and is left out.
    other_run = finished_run(scenario, quarter=schedule.shift_quarter(run.quarter, -1))
    foreign = RunPair.objects.get(run=other_run, right__name="陈伟")
    done, refused = bulk_decide(
        actor=w.county_admin,
        run=run,
        pair_ids=[ma.pk, huang.pk, identity.pk, foreign.pk],
        decision="confirm",
    )
    assert sorted(p.pk for p in done) == sorted([ma.pk, huang.pk, identity.pk])
    assert refused == []
    assert RunPair.objects.get(pk=foreign.pk).status == "proposed"
    assert HostRecord.objects.get(pk=scenario.rec_ma.pk).member_id == scenario.ma.pk
    assert HostRecord.objects.get(pk=scenario.rec_huang.pk).member_id == scenario.huang.pk
    assert Merge.objects.count() == 2
    event = Event.objects.filter(verb="reconciliation.bulk_confirm").get()
    assert sorted(event.data["done"]) == sorted([ma.pk, huang.pk, identity.pk])
    # Bulk confirm of the proposed matches; one refused (the row was confirmed elsewhere).
    HostRecord.objects.filter(pk=scenario.rec_zhang.pk).update(member=scenario.zhao)
    matches = list(RunPair.objects.filter(run=run, decision="match", status="proposed"))
    done, refused = bulk_decide(
        actor=w.county_admin, run=run, pair_ids=[p.pk for p in matches], decision="confirm"
    )
    assert sorted(p.right.name for p in done) == ["周杰", "陈伟"]
    assert [(p.right.name, bool(reason)) for p, reason in refused] == [("章志强", True)]
    done, refused = bulk_decide(
        actor=w.county_admin, run=run, pair_ids=[pair_of(run, "章志强").pk], decision="reject"
    )
    assert [p.status for p in done] == ["rejected"] and refused == []
    assert RunPair.objects.filter(run=run, status="proposed").count() == 0
    with pytest.raises(BusinessRuleError):
        bulk_decide(actor=w.county_admin, run=run, pair_ids=[ma.pk], decision="merge")
    with pytest.raises(OutOfScope):
        bulk_decide(actor=w.host_secretary, run=run, pair_ids=[ma.pk], decision="reject")


# --------------------------------------------------------------------------------------------
# Conflicts
# --------------------------------------------------------------------------------------------


def conflict(run: Run, left_name: str, field: str) -> RunConflict:
    return RunConflict.objects.get(run=run, pair__left__name=left_name, field=field)


def test_resolve_conflicts(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    phone = conflict(run, "陈伟", "phone")
    # Only on a confirmed pair.
    with pytest.raises(BusinessRuleError):
        resolve_conflict(actor=w.county_admin, conflict=phone, choice="host")
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))
    resolved = resolve_conflict(actor=w.county_admin, conflict=phone, choice="host")
    assert (resolved.resolution, resolved.resolved_by) == ("host", w.county_admin)
    chen = Member.objects.get(pk=scenario.chen.pk)
    assert (chen.phone, chen.phone_masked) == ("13800000022", "138****0022")
    kept = resolve_conflict(
        actor=w.county_admin, conflict=conflict(run, "陈伟", "employer"), choice="home"
    )
    assert kept.resolution == "home"
    assert Member.objects.get(pk=scenario.chen.pk).employer == "顺达物流有限公司"
    # Again with the same choice: nothing; with the other: refused.
    resolve_conflict(actor=w.county_admin, conflict=phone, choice="host")
    with pytest.raises(BusinessRuleError):
        resolve_conflict(actor=w.county_admin, conflict=phone, choice="home")
    assert Event.objects.filter(verb="reconciliation.conflict_resolved").count() == 2
    # A name is corrected in the member record, not taken over from a list.
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "章志强"))
    with pytest.raises(BusinessRuleError):
        resolve_conflict(
            actor=w.county_admin, conflict=conflict(run, "张志强", "name"), choice="host"
        )
    assert Member.objects.get(pk=scenario.zhang.pk).name == "张志强"


def test_resolve_a_status_conflict(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    resolve_conflict(
        actor=w.county_admin, conflict=conflict(run, "吴敏", "mobility_status"), choice="host"
    )
    wu = Member.objects.get(pk=scenario.wu.pk)
    assert (wu.mobility_status, wu.destination_id) == ("away", w.host.host_division_id)


def test_resolve_a_lost_contact_conflict(scenario: Scenario) -> None:
    w = scenario.world
    member_services.mark_lost_contact(
        actor=w.county_admin, member=scenario.chen, since=dt.date(2025, 3, 1), note="电话停机"
    )
    run = finished_run(scenario)
    confirm_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))
    resolve_conflict(
        actor=w.county_admin, conflict=conflict(run, "陈伟", "contact_state"), choice="host"
    )
    chen = Member.objects.get(pk=scenario.chen.pk)
    assert (chen.contact_state, chen.last_contact_on) == ("in_contact", dt.date.today())


# --------------------------------------------------------------------------------------------
# Sign-off
# --------------------------------------------------------------------------------------------


def decide_everything(scenario: Scenario, run: Run) -> None:
    admin = scenario.world.county_admin
    pending = RunPair.objects.filter(run=run, status="proposed")
    bulk_decide(actor=admin, run=run, pair_ids=[p.pk for p in pending], decision="confirm")


def test_both_sides_sign_off(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    # Not while pairs wait.
    with pytest.raises(BusinessRuleError):
        sign_off(actor=w.county_admin, run=run, organization=w.county)
    with pytest.raises(BusinessRuleError):
        sign_off(actor=w.host_secretary, run=run, organization=w.host)
    # Only for one's own side.
    with pytest.raises(OutOfScope):
        sign_off(actor=w.host_secretary, run=run, organization=w.county)
    with pytest.raises(OutOfScope):
        sign_off(actor=w.other_secretary, run=run, organization=w.other_branch)
    decide_everything(scenario, run)
    host = sign_off(actor=w.host_secretary, run=run, organization=w.host, note="名单已核对")
    assert (host.side, host.signed_by, host.signer_name, host.note) == (
        "host",
        w.host_secretary,
        "host_secretary",
        "名单已核对",
    )
    run.refresh_from_db()
    assert run.closed_at is None
    home = sign_off(actor=w.county_admin, run=run, organization=w.county)
    run.refresh_from_db()
    assert run.closed_at == home.signed_at
    assert sign_off(actor=w.county_admin, run=run, organization=w.county) == home
    assert SignOff.objects.filter(run=run).count() == 2
    assert [e.verb for e in Event.objects.filter(target_id=str(run.pk)).order_by("id")][-3:] == [
        "reconciliation.signed_off",
        "reconciliation.signed_off",
        "reconciliation.run_closed",
    ]
    # Signed by the home side: the results are final.
    with pytest.raises(BusinessRuleError):
        undo_merge(actor=w.county_admin, merge=Merge.objects.all()[0])
    with pytest.raises(BusinessRuleError):
        reject_pair(actor=w.county_admin, pair=pair_of(run, "陈伟"))


def test_a_later_decision_withdraws_the_hosts_sign_off(scenario: Scenario, run: Run) -> None:
    w = scenario.world
    decide_everything(scenario, run)
    sign_off(actor=w.host_secretary, run=run, organization=w.host)
    undo_merge(actor=w.county_admin, merge=Merge.objects.filter(kind="member").get())
    assert SignOff.objects.filter(run=run).count() == 0
    event = Event.objects.filter(verb="reconciliation.signoff_withdrawn").get()
    assert event.org_path == w.host.path
    # The pair waits again: neither side can sign until it is decided.
    with pytest.raises(BusinessRuleError):
        sign_off(actor=w.host_secretary, run=run, organization=w.host)


# --------------------------------------------------------------------------------------------
# The quarterly schedule
# --------------------------------------------------------------------------------------------


def overdue_names(actor: Any) -> list[tuple[str, int, str]]:
    return [
        (item.organization.name, item.away, item.quarter) for item in selectors.overdue_for(actor)
    ]


def test_overdue_organizations(scenario: Scenario) -> None:
    w = scenario.world
    previous = schedule.previous_quarter()
    # The village holds the county's nine away members (吴敏 is at home).
    assert overdue_names(w.county_admin) == [("城西村党支部", 9, previous)]
    assert overdue_names(w.home_secretary) == [("城西村党支部", 9, previous)]
    assert overdue_names(w.host_secretary) == []
    assert overdue_names(w.other_secretary) == [("乙县驻东莞党支部", 1, previous)]
    # A run of this quarter does not count for the previous one; an unsigned run neither.
    current = finished_run(scenario, quarter=schedule.current_quarter())
    run = finished_run(scenario)
    assert overdue_names(w.county_admin) == [("城西村党支部", 9, previous)]
    decide_everything(scenario, run)
    sign_off(actor=w.county_admin, run=run, organization=w.county)
    assert overdue_names(w.county_admin) == [("城西村党支部", 9, previous)]
    sign_off(actor=w.host_secretary, run=run, organization=w.host)
    assert overdue_names(w.county_admin) == []
    assert overdue_names(w.home_secretary) == []
    assert overdue_names(w.other_secretary) == [("乙县驻东莞党支部", 1, previous)]
    assert current.closed_at is None
