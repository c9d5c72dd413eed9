"""Building a run's tables, the five lists on the hand-made scenario, and the job itself:
queueing, progress, idempotent retries, failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests import conftest
from tests.conftest import ID_AWAY, ID_OTHER, PHONE_AWAY, World
from yanxing.audit.models import Event
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.ledgers.models import HostRecord
from yanxing.members import services as member_services
from yanxing.members.models import Member, Participation
from yanxing.orgs import services as org_services
from yanxing.orgs.models import OrgKind
from yanxing.regions.models import Division

from .. import matching, schedule, selectors, tables
from ..demo import add_host_record
from ..models import DuplicateGroup, Run, RunConflict, RunPair, RunRecord
from ..services import execute_run, retry_run, run_counts, start_run
from .scenario import ID_CHEN, ID_SUN, Scenario, build, finished_run

world = conftest.world
pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(world: World) -> Scenario:
    return build(world)


def keys(rows: Any) -> list[str]:
    return sorted(f"{r.key}:{r.name}" for r in rows)


def mkey(member: Member) -> str:
    return f"m{member.pk}"


# --------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------


def test_home_ledger(scenario: Scenario) -> None:
    w = scenario.world
    run = Run.objects.create(home_org=w.county, quarter="2026Q3")
    run.run_hosts.create(organization=w.host)
    rows = {row.key: row for row in tables.home_ledger(run)}
    # Away members of the county, and 吴敏 (at home, yet taking part in the Beijing branch).
    # Not 李秀英 (at home), not the branch's own record of 周杰 (held by an external branch),
    # not county B's member.
    assert sorted(row.name for row in rows.values()) == sorted(
        ["王建国", "张志强", "陈伟", "周杰", "赵丽", "刘芳", "刘芳", "马文斌", "黄海", "吴敏"]
    )
    away = rows[mkey(w.m_away)]
    assert away.linkage() == {
        "record_id": mkey(w.m_away),
        "name": "王建国",
        "id_number": ID_AWAY,
        "phone": PHONE_AWAY,
        "sex": "男",
        "birth_date": "1990-03-15",
        "home_village": "山西省运城市万荣县解店镇城西村",
        "city": "北京市",
        "employer": "建工集团第三项目部",
    }
    assert (away.side, away.source, away.organization_id, away.note) == (
        "left",
        "member",
        w.village.pk,
        "",
    )
    assert rows[mkey(scenario.wu)].note == "local"
    assert rows[mkey(scenario.zhao)].city == "东莞市"
    # What a run stores is masked.
    stored = away.stored()
    assert (stored["id_masked"], stored["phone_masked"]) == ("1408**********0711", "139****0001")
    assert "id_number" not in stored and "phone" not in stored


def test_host_ledgers(scenario: Scenario) -> None:
    w = scenario.world
    # County B's member also takes part in the Beijing branch: county B's ledger accounts for
    # him, so he is not on county A's host side.
    Participation.objects.create(
        member=w.m_other, organization=w.host, started_on=dt.date(2025, 1, 1)
    )
    # A list row that left the branch's latest list is not compared.
    gone = add_host_record(organization=w.host, name="离开者", phone="13800000099")
    HostRecord.objects.filter(pk=gone.pk).update(is_active=False)
    run = Run.objects.create(home_org=w.county, quarter="2026Q3")
    run.run_hosts.create(organization=w.host)
    rows = tables.host_ledgers(run)
    assert keys(rows) == sorted(
        [
            f"{mkey(w.m_away)}:王建国",
            f"{mkey(scenario.wu)}:吴敏",
            f"{mkey(scenario.zhou_host)}:周杰",
            f"h{scenario.rec_zhang.pk}:章志强",
            f"h{scenario.rec_chen.pk}:陈伟",
            f"h{scenario.rec_sun.pk}:孙明",
            f"h{scenario.rec_ma.pk}:马文武",
            f"h{scenario.rec_huang.pk}:黄梅",
        ]
    )
    assert {row.organization_id for row in rows} == {w.host.pk}
    assert {row.side for row in rows} == {"right"}
    chen = next(row for row in rows if row.key == f"h{scenario.rec_chen.pk}")
    assert (chen.source, chen.id_number, chen.sex, chen.birth_date, chen.city) == (
        "host_list",
        ID_CHEN,
        "男",
        "1979-11-03",
        "北京市",
    )
    # The member taking part in the branch: the host side's city is the branch's.
    away = next(row for row in rows if row.key == mkey(w.m_away))
    assert (away.city, away.member_id) == ("北京市", w.m_away.pk)


def test_rows_go_to_the_closest_chosen_host(world: World) -> None:
    group = org_services.create_organization(
        actor=world.county_admin, name="北京第一党小组", kind=OrgKind.PARTY_GROUP, parent=world.host
    )
    record = add_host_record(organization=group, name="小组成员", phone="13800000031")
    member_services.add_participation(
        actor=world.county_admin,
        member=world.m_away,
        organization=group,
        started_on=dt.date(2025, 1, 1),
    )
    run = Run.objects.create(home_org=world.county, quarter="2026Q3")
    run.run_hosts.create(organization=world.host)
    rows = tables.host_ledgers(run)
    # The group lies under the chosen branch: its rows are the branch's; the member taking
    # part in both is one row.
    assert sorted((r.key, r.organization_id) for r in rows) == sorted(
        [(mkey(world.m_away), world.host.pk), (f"h{record.pk}", world.host.pk)]
    )
    run.run_hosts.create(organization=group)
    rows = tables.host_ledgers(run)
    assert sorted((r.key, r.organization_id) for r in rows) == sorted(
        [
            (mkey(world.m_away), world.host.pk),
            (mkey(world.m_away), group.pk),
            (f"h{record.pk}", group.pk),
        ]
    )


def test_village_text_and_city_names(world: World) -> None:
    assert (
        tables.village_text("山西省运城市万荣县解店镇城西村委会")
        == "山西省运城市万荣县解店镇城西村"
    )
    assert (
        tables.village_text("山西省运城市万荣县解店镇五一社区居委会")
        == "山西省运城市万荣县解店镇五一社区"
    )
    assert tables.village_text("某某居委会") == "某某社区"
    assert tables.village_text("某某村村委会") == "某某村"
    assert tables.village_text("城西村") == "城西村"
    cities = tables.Cities()
    cities.load({"110100000000", "441900000000", "140822100201", "110000000000"})
    assert [
        cities.of(code)
        for code in ("110100000000", "441900000000", "140822100201", "110000000000", None)
    ] == ["北京市", "东莞市", "运城市", "北京市", ""]


def test_quarters() -> None:
    assert schedule.quarter_of(dt.date(2026, 11, 22)) == "2026Q4"
    assert schedule.quarter_of(dt.date(2026, 1, 1)) == "2026Q1"
    assert schedule.shift_quarter("2026Q1", -1) == "2025Q4"
    assert schedule.shift_quarter("2025Q4", 1) == "2026Q1"
    assert schedule.previous_quarter(dt.date(2026, 4, 1)) == "2026Q1"
    assert schedule.recent_quarters(3, dt.date(2026, 2, 3)) == ["2026Q1", "2025Q4", "2025Q3"]
    with pytest.raises(ValueError):
        schedule.parse_quarter("2026Q5")


# --------------------------------------------------------------------------------------------
# The five lists
# --------------------------------------------------------------------------------------------


def names(rows: Any) -> list[str]:
    return sorted(r.name for r in rows)


def pair_names(pairs: Any) -> list[tuple[str, str, str, str]]:
    return sorted((p.left.name, p.right.name, p.decision, p.status) for p in pairs)


def test_the_five_lists(scenario: Scenario) -> None:
    w = scenario.world
    run = finished_run(scenario)
    assert (run.status, run.progress, run.error) == (Run.Status.FINISHED, 100, "")
    lists = selectors.run_lists(w.county_admin, run)
    assert pair_names(lists.matched) == [
        ("吴敏", "吴敏", "identity", "confirmed"),
        ("周杰", "周杰", "match", "proposed"),
        ("张志强", "章志强", "match", "proposed"),
        ("王建国", "王建国", "identity", "confirmed"),
        ("陈伟", "陈伟", "match", "proposed"),
    ]
    assert pair_names(lists.review) == [
        ("马文斌", "马文武", "review", "proposed"),
        ("黄海", "黄梅", "review", "proposed"),
    ]
    # 外出未纳管: away members no host has (those with a pair waiting for review included).
    assert names(lists.unmanaged) == ["刘芳", "刘芳", "赵丽", "马文斌", "黄海"]
    assert sorted(r.name for r in lists.unmanaged if getattr(r, "has_candidate")) == [
        "马文斌",
        "黄海",
    ]
    # 来源不明的报到: host-side rows on no home ledger.
    assert names(lists.unknown) == ["孙明", "马文武", "黄梅"]
    sun = lists.unknown.get(name="孙明")
    assert (sun.key, sun.id_masked, sun.phone_masked, getattr(sun, "has_candidate")) == (
        f"h{scenario.rec_sun.pk}",
        ID_SUN[:4] + "*" * 10 + ID_SUN[-4:],
        "138****0023",
        False,
    )
    # 疑似重复: 刘芳's two records in the home ledger.
    groups = list(lists.duplicates)
    assert [(g.side, sorted(r.key for r in getattr(g, "visible_records"))) for g in groups] == [
        ("left", sorted([mkey(scenario.liu), mkey(scenario.liu_again)]))
    ]
    # 信息不一致 on matched pairs (values of ID and phone masked).
    assert sorted(
        (c.pair.left.name, c.field, c.label, c.left_value, c.right_value) for c in lists.conflicts
    ) == [
        ("吴敏", "mobility_status", "流动状态", "在本地", "在流入地参加组织生活"),
        ("张志强", "name", "姓名", "张志强", "章志强"),
        ("张志强", "phone", "手机号", "139****0011", "138****0021"),
        ("陈伟", "employer", "工作单位", "顺达物流有限公司", "华兴电子科技有限公司"),
        ("陈伟", "phone", "手机号", "139****0012", "138****0022"),
    ]
    assert lists.counts() == {
        "matched": 5,
        "review": 2,
        "unmanaged": 5,
        "unknown": 3,
        "duplicates": 1,
        "conflicts": 5,
        "merges": 0,
    }
    assert run.counts == {
        "left": 10,
        "right": 8,
        "matched": 5,
        "review": 2,
        "unmanaged": 5,
        "unknown": 3,
        "duplicates": 1,
        "conflicts": 5,
    }


def test_reasons(scenario: Scenario) -> None:
    run = finished_run(scenario)
    by_right = {p.right.name: p for p in RunPair.objects.filter(run=run).select_related("right")}
    homophone = by_right["章志强"]
    assert (homophone.left.member_id, homophone.right.host_record_id) == (
        scenario.zhang.pk,
        scenario.rec_zhang.pk,
    )
    assert homophone.decision == "match" and homophone.score >= 0.99
    assert "姓名同音（张志强/章志强）" in homophone.reasons
    assert "手机号不同（可能已换号）" in homophone.reasons
    assert "出生日期一致" in homophone.reasons
    review = by_right["马文武"]
    assert review.decision == "review"
    assert "姓名差一个字（马文斌/马文武）" in review.reasons
    assert "出生日期一致" in review.reasons
    identity = RunPair.objects.get(run=run, left__member=scenario.world.m_away)
    assert (identity.score, identity.decision, identity.reasons, identity.status) == (
        1.0,
        "identity",
        [matching.REASON_SAME_RECORD],
        "confirmed",
    )


def test_a_row_confirmed_earlier_is_matched_by_identity(scenario: Scenario) -> None:
    HostRecord.objects.filter(pk=scenario.rec_chen.pk).update(member=scenario.chen)
    run = finished_run(scenario)
    pair = RunPair.objects.get(run=run, right__host_record=scenario.rec_chen)
    assert (pair.left.member_id, pair.decision, pair.status, pair.reasons) == (
        scenario.chen.pk,
        "identity",
        "confirmed",
        [matching.REASON_CONFIRMED_BEFORE],
    )
    # Its conflicts are still shown (compared by the app itself).
    assert sorted(pair.conflicts.values_list("field", flat=True)) == ["employer", "phone"]


def test_a_lost_member_on_a_host_list_is_a_status_conflict(scenario: Scenario) -> None:
    member_services.mark_lost_contact(
        actor=scenario.world.county_admin,
        member=scenario.chen,
        since=dt.date(2025, 3, 1),
        note="电话停机",
    )
    run = finished_run(scenario)
    conflict = RunConflict.objects.get(run=run, field="contact_state")
    assert (conflict.pair.left.name, conflict.left_value, conflict.right_value) == (
        "陈伟",
        "失联",
        "已在流入地名单中",
    )
    assert RunRecord.objects.get(run=run, side="left", member=scenario.chen).note == "lost"


def test_the_run_stores_no_plain_identifiers(scenario: Scenario) -> None:
    run = finished_run(scenario)
    plain = {ID_AWAY, PHONE_AWAY, ID_CHEN, ID_SUN, "13800000022", ID_OTHER}
    for record in RunRecord.objects.filter(run=run).values():
        assert not plain & {str(v) for v in record.values()}
    for conflict in RunConflict.objects.filter(run=run).values("left_value", "right_value"):
        assert not plain & set(conflict.values())


# --------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------


def test_start_runs_in_the_background_once(
    scenario: Scenario, django_capture_on_commit_callbacks: Any
) -> None:
    w = scenario.world
    quarter = schedule.previous_quarter()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = start_run(actor=w.county_admin, home_org=w.county, hosts=[w.host], quarter=quarter)
        # The same request again while the run waits: the same run.
        again = start_run(actor=w.county_admin, home_org=w.county, hosts=[w.host], quarter=quarter)
    assert again.pk == run.pk
    assert Run.objects.count() == 1
    assert (run.status, run.progress, list(run.hosts.all())) == ("queued", 0, [w.host])
    assert RunRecord.objects.count() == 0
    event = Event.objects.filter(verb="reconciliation.run_started").get()
    assert (event.target_id, event.org_path, event.data["quarter"]) == (
        str(run.pk),
        w.county.path,
        quarter,
    )
    # The job queued on commit runs (the test settings run tasks at once).
    for callback in callbacks:
        callback()
    run.refresh_from_db()
    assert (run.status, run.progress, run.counts["matched"]) == ("finished", 100, 5)
    assert run.task_id != ""
    # A second job for the same run (a duplicate delivery, a retry) changes nothing.
    counts = (RunRecord.objects.count(), RunPair.objects.count(), RunConflict.objects.count())
    execute_run(run_id=run.pk)
    assert (
        (
            RunRecord.objects.count(),
            RunPair.objects.count(),
            RunConflict.objects.count(),
        )
        == counts
        == (18, 7, 7)
    )
    assert Event.objects.filter(verb="reconciliation.run_finished").count() == 1
    # Once finished, the same request starts a new run.
    with django_capture_on_commit_callbacks(execute=True):
        newer = start_run(actor=w.county_admin, home_org=w.county, hosts=[w.host], quarter=quarter)
    assert newer.pk != run.pk


def test_an_interrupted_run_is_rebuilt_not_duplicated(scenario: Scenario) -> None:
    w = scenario.world
    run = finished_run(scenario)
    expected = run_counts(run)
    # As if a worker stopped halfway through an earlier pass (rows written, status not).
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, progress=80)
    DuplicateGroup.objects.create(run=run, side="right", score=1)
    run = retry_run(actor=w.county_admin, run=run)
    assert (run.status, run.progress) == ("queued", 0)
    execute_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "finished"
    assert run_counts(run) == expected
    assert RunRecord.objects.filter(run=run).count() == 18
    assert RunPair.objects.filter(run=run).count() == 7
    assert DuplicateGroup.objects.filter(run=run).count() == 1


def test_a_failing_run_is_recorded_and_can_be_retried(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = scenario.world
    run = start_run(
        actor=w.county_admin, home_org=w.county, hosts=[w.host], quarter=schedule.previous_quarter()
    )

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("engine unavailable")

    monkeypatch.setattr(matching, "link", broken)
    with pytest.raises(RuntimeError):
        execute_run(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.stage, run.error) == (
        "failed",
        "matching",
        "RuntimeError: engine unavailable",
    )
    assert RunRecord.objects.filter(run=run).count() == 0
    assert (
        Event.objects.filter(verb="reconciliation.run_failed", target_id=str(run.pk)).count() == 1
    )
    monkeypatch.undo()
    retry_run(actor=w.county_admin, run=run)
    execute_run(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error, run.counts["review"]) == ("finished", "", 2)


def test_start_checks(scenario: Scenario) -> None:
    w = scenario.world
    quarter = schedule.previous_quarter()
    # The reconciliation action over the home organization and every host.
    with pytest.raises(OutOfScope):
        start_run(actor=w.host_secretary, home_org=w.county, hosts=[w.host], quarter=quarter)
    with pytest.raises(OutOfScope):
        start_run(actor=w.home_secretary, home_org=w.village, hosts=[w.host], quarter=quarter)
    with pytest.raises(OutOfScope):
        start_run(actor=w.county_admin, home_org=w.county, hosts=[w.other_branch], quarter=quarter)
    with pytest.raises(BusinessRuleError):
        start_run(actor=w.county_admin, home_org=w.county, hosts=[], quarter=quarter)
    with pytest.raises(BusinessRuleError):
        start_run(actor=w.county_admin, home_org=w.host, hosts=[w.host], quarter=quarter)
    with pytest.raises(BusinessRuleError):
        start_run(
            actor=w.county_admin,
            home_org=w.county,
            hosts=[w.host],
            quarter=schedule.shift_quarter(schedule.current_quarter(), 1),
        )
    with pytest.raises(BusinessRuleError):
        start_run(actor=w.county_admin, home_org=w.county, hosts=[w.host], quarter="2026-3")
    assert Run.objects.count() == 0


def test_a_village_run(scenario: Scenario) -> None:
    """A run of one village: its own away members only; members of other villages on the host's
    books are not on its host side."""
    w = scenario.world
    other_village = org_services.create_organization(
        actor=w.county_admin,
        name="城东村党支部",
        kind=OrgKind.FORMAL_BRANCH,
        parent=w.township,
    )
    neighbour, _ = member_services.create_member(
        actor=w.county_admin,
        home_org=other_village,
        name="邻村党员",
        phone="13912340031",
        mobility_status="away",
        destination=Division.objects.get(code="110100000000"),
    )
    member_services.add_participation(
        actor=w.county_admin, member=neighbour, organization=w.host, started_on=dt.date(2025, 1, 1)
    )
    run = start_run(
        actor=w.county_admin,
        home_org=w.village,
        hosts=[w.host],
        quarter=schedule.previous_quarter(),
    )
    run = execute_run(run_id=run.pk)
    assert "邻村党员" not in set(RunRecord.objects.filter(run=run).values_list("name", flat=True))
    assert run.counts["left"] == 10
    assert Participation.objects.filter(member=neighbour, ended_on__isnull=True).count() == 1
