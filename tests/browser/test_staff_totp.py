"""Journey 1: a county requires TOTP; its admin enrols a device, then signs in with a code."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World

from .conftest import staff_sign_in

pytestmark = pytest.mark.browser

STEP = 30


def code_for(secret: str, step: int) -> str:
    """The code an authenticator app shows for a base32 secret in a given 30-second step."""
    return pyotp.TOTP(secret, interval=STEP).at(step * STEP)


def current_step() -> int:
    return int(time.time()) // STEP


def test_staff_totp_enrolment_then_verification(
    desktop_page: Page, live_world: World, shot, settings
) -> None:
    # A failed code throttles the device for one second; a person takes longer than that to
    # type the next code, a browser does not.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    live_world.county.require_staff_totp = True
    live_world.county.save(update_fields=["require_staff_totp"])
    page = desktop_page

    staff_sign_in(page, "county_admin")
    page.wait_for_url("**/account/totp/setup/")
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    assert len(secret) >= 16
    expect(page.locator("svg")).to_have_count(1)
    shot(page, "1-setup")

    used_step = current_step()
    page.locator("#id_token").fill(code_for(secret, used_step))
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: url.endswith("/"))
    expect(page.locator(".page-title")).to_have_text("工作台")
    expect(page.locator(".alert-success")).to_contain_text("动态口令已启用")
    shot(page, "2-dashboard")

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/login/")

    staff_sign_in(page, "county_admin")
    page.wait_for_url("**/account/totp/verify/**")
    # A code is accepted once: the next one must come from a later step than the enrolment's.
    right = code_for(secret, max(current_step(), used_step + 1))
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    page.locator("#id_token").fill(wrong)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("动态口令不正确或已过期")
    assert "/account/totp/verify/" in page.url
    shot(page, "3-wrong-code")

    page.locator("#id_token").fill(right)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: url.endswith("/"))
    expect(page.locator(".page-title")).to_have_text("工作台")
    shot(page, "4-verified")
