"""Journeys 2 and 5: find a member, reveal the ID number (audited); scope by county."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ID_AWAY, World

from .conftest import no_horizontal_scroll, staff_sign_in

pytestmark = pytest.mark.browser


def test_find_member_reveal_id_and_audit(desktop_page: Page, live_world: World, shot) -> None:
    page = desktop_page
    member = live_world.m_away
    staff_sign_in(page, "county_admin")

    page.goto("/members/")
    table = page.get_by_test_id("member-table")
    expect(table).to_contain_text(live_world.m_local.name)
    page.get_by_test_id("member-search").fill(member.name)
    page.get_by_test_id("member-search").press("Enter")
    expect(table).not_to_contain_text(live_world.m_local.name)
    expect(table.get_by_role("link", name=member.name)).to_be_visible()
    shot(page, "1-search")

    table.get_by_role("link", name=member.name).click()
    page.wait_for_url(f"**/members/{member.pk}/")
    masked = ID_AWAY[:4] + "*" * 10 + ID_AWAY[-4:]
    expect(page.get_by_test_id("masked-id")).to_have_text(masked)
    expect(page.locator("body")).not_to_contain_text(ID_AWAY)
    shot(page, "2-detail")

    page.get_by_test_id("reveal-id").click()
    expect(page.get_by_test_id("revealed-id_number")).to_have_text(ID_AWAY)
    expect(page.get_by_test_id("masked-id")).to_have_count(0)
    shot(page, "3-revealed")

    page.goto("/audit/access/")
    row = page.get_by_test_id("access-table").locator("tbody tr").filter(has_text=member.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(str(live_world.county_admin))
    expect(row).to_contain_text("身份证号")
    expect(row).to_contain_text("查看明文")
    shot(page, "4-audit")


def test_host_secretary_sees_own_member_not_other_county(
    desktop_page: Page, live_world: World, shot
) -> None:
    page = desktop_page
    staff_sign_in(page, "host_secretary")

    page.goto("/members/")
    table = page.get_by_test_id("member-table")
    expect(table.get_by_role("link", name=live_world.m_away.name)).to_be_visible()
    expect(table).not_to_contain_text(live_world.m_other.name)
    expect(table).not_to_contain_text(live_world.m_local.name)
    shot(page, "1-list")

    response = page.goto(f"/members/{live_world.m_other.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_test_id("not-found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(live_world.m_other.name)
    shot(page, "2-not-found")
    out_of_scope = page.locator("body").inner_text()

    missing = page.goto(f"/members/{live_world.m_other.pk + 1000}/")
    assert missing is not None and missing.status == 404
    assert page.locator("body").inner_text() == out_of_scope


def test_branch_secretary_uses_member_list_on_phone(
    phone_page: Page, live_world: World, shot
) -> None:
    page = phone_page
    staff_sign_in(page, "home_secretary")
    assert no_horizontal_scroll(page)
    shot(page, "1-dashboard")

    page.locator(".navbar-toggler").click()
    page.locator("#sidebar-menu").get_by_role("link", name="党员名册").click()
    page.wait_for_url("**/members/")
    table = page.get_by_test_id("member-table")
    expect(table.get_by_role("link", name=live_world.m_away.name)).to_be_visible()
    expect(table.get_by_role("link", name=live_world.m_local.name)).to_be_visible()
    assert no_horizontal_scroll(page)
    shot(page, "2-list")

    page.get_by_test_id("member-search").fill(live_world.m_local.name)
    page.get_by_test_id("member-search").press("Enter")
    expect(table).not_to_contain_text(live_world.m_away.name)
    table.get_by_role("link", name=live_world.m_local.name).click()
    page.wait_for_url(f"**/members/{live_world.m_local.pk}/")
    expect(page.get_by_test_id("masked-id")).to_be_visible()
    assert no_horizontal_scroll(page)
    shot(page, "3-detail")
