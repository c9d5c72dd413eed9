"""Two-way reconciliation in the browser: the county's staff open a finished run, see the five
lists, confirm a pair and undo the merge, decide the rest and sign off; the Beijing branch's
secretary signs for the host side. A run still working shows its progress and the page turns
into the result by itself when the job finishes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from yanxing.reconciliation import schedule
from yanxing.reconciliation.models import Merge, Run, RunPair, SignOff
from yanxing.reconciliation.services import execute_run
from yanxing.reconciliation.tests.scenario import build, finished_run

from .conftest import no_horizontal_scroll, staff_sign_in

pytestmark = pytest.mark.browser


def test_review_merge_undo_and_sign_off(desktop_page: Page, live_world: World, shot) -> None:
    page = desktop_page
    scenario = build(live_world)
    run = finished_run(scenario)
    staff_sign_in(page, "county_admin")

    page.goto("/reconciliation/")
    expect(page.get_by_test_id("run-table")).to_contain_text(run.quarter)
    expect(page.get_by_test_id("overdue")).to_contain_text("城西村党支部")
    shot(page, "1-runs")

    page.get_by_test_id("run-table").get_by_role("link", name=run.quarter).click()
    page.wait_for_url(f"**/reconciliation/{run.pk}/")
    for name, count in (
        ("matched", 5),
        ("review", 2),
        ("unmanaged", 5),
        ("unknown", 3),
        ("duplicates", 1),
        ("conflicts", 5),
    ):
        expect(page.get_by_test_id(f"count-{name}")).to_have_text(str(count))
    table = page.get_by_test_id("pair-table")
    expect(table).to_contain_text("章志强")
    expect(table).to_contain_text("姓名同音（张志强/章志强）")
    expect(table).to_contain_text("1408**********0711")
    expect(page.locator("body")).not_to_contain_text("140822199003150711")
    shot(page, "2-matched")

    # The review queue: confirm 马文斌 ↔ 马文武 (a list row becomes his).
    page.get_by_test_id("tab-review").click()
    ma = RunPair.objects.get(run=run, right__name="马文武")
    expect(page.get_by_test_id(f"pair-{ma.pk}")).to_contain_text("姓名差一个字（马文斌/马文武）")
    shot(page, "3-review")
    page.get_by_test_id(f"confirm-{ma.pk}").click()
    page.wait_for_url("**/?list=review")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id(f"pair-{ma.pk}")).to_have_count(0)
    expect(page.get_by_test_id("count-review")).to_have_text("1")
    merge = Merge.objects.get(pair=ma)
    assert merge.host_record_id == scenario.rec_ma.pk

    # The merge, and its undo.
    page.get_by_test_id("tab-merges").click()
    row = page.get_by_test_id(f"merge-{merge.pk}")
    expect(row).to_contain_text("马文斌")
    expect(row).to_contain_text("马文武")
    shot(page, "4-merge")
    page.get_by_test_id(f"undo-{merge.pk}").click()
    expect(page.get_by_test_id(f"merge-{merge.pk}")).to_contain_text("已撤销")
    expect(page.get_by_test_id("count-review")).to_have_text("2")
    assert Merge.objects.get(pk=merge.pk).is_undone
    shot(page, "5-undone")

    # Decide the rest in bulk: confirm the matches, reject the review pairs.
    page.get_by_test_id("tab-matched").click()
    page.locator("[data-select-all]").check()
    page.get_by_test_id("bulk-confirm").click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.get_by_test_id("tab-review").click()
    page.locator("[data-select-all]").check()
    page.get_by_test_id("bulk-reject").click()
    expect(page.get_by_test_id("count-review")).to_have_text("0")
    assert RunPair.objects.filter(run=run, status="proposed").count() == 0

    # A conflict: take the host's phone number for 陈伟.
    page.get_by_test_id("tab-conflicts").click()
    conflicts = page.get_by_test_id("conflict-table")
    conflicts.locator("tr", has_text="138****0022").get_by_role(
        "button", name="采用流入地信息"
    ).click()
    expect(conflicts.locator("tr", has_text="138****0022")).to_contain_text("采用流入地信息")
    shot(page, "6-conflicts")

    # The home side signs.
    page.get_by_test_id("signoff-submit").click()
    expect(page.get_by_test_id(f"side-{live_world.county.pk}")).to_contain_text("county_admin")
    shot(page, "7-home-signed")

    # The Beijing branch's secretary signs for the host side: the run is closed.
    page.context.clear_cookies()
    staff_sign_in(page, "host_secretary")
    page.goto(f"/reconciliation/{run.pk}/")
    expect(page.get_by_test_id("count-unmanaged")).to_have_text("0")
    page.get_by_test_id("signoff-submit").click()
    expect(page.get_by_test_id(f"side-{live_world.host.pk}")).to_contain_text("host_secretary")
    expect(page.locator(".page-title")).to_contain_text("双方已签字")
    assert SignOff.objects.filter(run=run).count() == 2
    assert Run.objects.get(pk=run.pk).closed_at is not None
    shot(page, "8-closed")


def test_progress_turns_into_the_result(desktop_page: Page, live_world: World, shot) -> None:
    page = desktop_page
    build(live_world)
    run = Run.objects.create(
        home_org=live_world.county,
        quarter=schedule.previous_quarter(),
        status=Run.Status.RUNNING,
        progress=50,
        stage="matching",
        started_by=live_world.county_admin,
    )
    run.run_hosts.create(organization=live_world.host)
    staff_sign_in(page, "county_admin")
    page.goto(f"/reconciliation/{run.pk}/")
    expect(page.get_by_test_id("run-progress")).to_have_text("50%")
    expect(page.get_by_test_id("run-status")).to_contain_text("比对")
    shot(page, "1-progress")
    # The worker finishes; the polling page reloads into the result.
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED)
    execute_run(run_id=run.pk)
    expect(page.get_by_test_id("count-matched")).to_have_text("5", timeout=15_000)
    shot(page, "2-result")


def test_run_page_on_a_phone(phone_page: Page, live_world: World, shot) -> None:
    page = phone_page
    run = finished_run(build(live_world))
    staff_sign_in(page, "county_admin")
    page.goto(f"/reconciliation/{run.pk}/")
    expect(page.get_by_test_id("count-matched")).to_have_text("5")
    assert no_horizontal_scroll(page)
    shot(page, "1-result")
    page.get_by_test_id("tab-unmanaged").click()
    expect(page.get_by_test_id("record-table")).to_contain_text("赵丽")
    assert no_horizontal_scroll(page)
    shot(page, "2-unmanaged")
