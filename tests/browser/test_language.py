"""Journey 3: switch the staff interface to English and back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World

from .conftest import staff_sign_in

pytestmark = pytest.mark.browser


def test_switch_language(desktop_page: Page, live_world: World, shot) -> None:
    page = desktop_page
    staff_sign_in(page, "county_admin")
    sidebar = page.locator("#sidebar-menu")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(sidebar).to_contain_text("党员名册")
    shot(page, "1-chinese")

    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "2-english")
    expect(sidebar.locator(".nav-link-title", has_text="Dashboard")).to_be_visible()
    expect(sidebar.locator(".nav-link-title", has_text="Member registry")).to_be_visible()
    expect(sidebar).not_to_contain_text("党员名册")

    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(sidebar).to_contain_text("工作台")
    expect(sidebar).to_contain_text("党员名册")
    shot(page, "3-chinese-again")
