"""Journey 4: a member signs in by phone and SMS code inside WeChat on a phone."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect

from tests.conftest import PHONE_AWAY, World

from .conftest import no_horizontal_scroll

pytestmark = pytest.mark.browser


def latest_code(phone: str) -> str:
    """The 6-digit code in the newest outbox line for this phone (timestamp, phone, message)."""
    lines = django_settings.SMS_OUTBOX_FILE.read_text(encoding="utf-8").splitlines()
    messages = [line.split("\t", 2)[2] for line in lines if line.split("\t")[1:2] == [phone]]
    assert messages, f"no SMS to {phone}"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", messages[-1])
    assert match, messages[-1]
    return match.group(1)


def test_member_phone_login_in_wechat(
    phone_page: Page, live_world: World, shot, settings, tmp_path
) -> None:
    # One outbox per test, so parallel workers never read each other's codes.
    settings.SMS_BACKEND = "yanxing.notifications.sms.ConsoleFileBackend"
    settings.SMS_OUTBOX_FILE = tmp_path / "sms-outbox.log"
    page = phone_page

    page.goto("/m/login/")
    assert "MicroMessenger" in page.evaluate("() => navigator.userAgent")
    expect(page.locator(".invalid-feedback")).to_have_count(0)
    shot(page, "1-phone")
    assert no_horizontal_scroll(page)

    page.locator("#id_phone").fill(PHONE_AWAY)
    page.locator("form button[type=submit]").click()
    expect(page.locator("#id_code")).to_be_visible()
    shot(page, "2-code")

    page.locator("#id_code").fill(latest_code(PHONE_AWAY))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/m/")
    expect(page.get_by_test_id("member-name")).to_have_text(live_world.m_away.name)
    expect(page.get_by_test_id("home-org")).to_have_text(live_world.village.name)
    shot(page, "3-home")
    assert no_horizontal_scroll(page)
