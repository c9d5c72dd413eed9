"""Browser fixtures: one headless Chromium per session, a fresh context per test.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety guard
must be switched off before the tests touch the database.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import PASSWORD, World, build_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# WeChat's in-app browser on Android (X5/XWEB): the member portal is opened from WeChat groups.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 "
    "MMWEBSDK/20240301 MMWEBID/2541 MicroMessenger/8.0.49.2600(0x2800313D) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def live_world(transactional_db: Any) -> World:
    """The shared world, committed so the live server thread can read it."""
    return build_world()


class PageProblems:
    """JavaScript errors and failed static files seen by a page; both mean a broken screen."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.items.append(f"JS error: {error}"))
        page.on(
            "response",
            lambda response: (
                self.items.append(f"{response.status} {response.url}")
                if "/static/" in response.url and response.status >= 400
                else None
            ),
        )


def _context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="zh-CN", **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def _page(context: BrowserContext) -> Iterator[Page]:
    problems = PageProblems()
    page = context.new_page()
    problems.watch(page)
    yield page
    context.close()
    assert not problems.items, problems.items


@pytest.fixture
def desktop_page(chromium: Browser, live_server: Any) -> Iterator[Page]:
    yield from _page(_context(chromium, live_server.url, viewport=DESKTOP))


@pytest.fixture
def phone_page(chromium: Browser, live_server: Any) -> Iterator[Page]:
    context = _context(
        chromium,
        live_server.url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
    )
    yield from _page(context)


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """shot(page, "step") saves test-artifacts/screenshots/<test>-<step>.png (full page)."""
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(page: Page, step: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def staff_sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill the staff sign-in form and wait until the server has answered it."""
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def no_horizontal_scroll(page: Page) -> bool:
    width = page.viewport_size["width"] if page.viewport_size else 0
    return bool(page.evaluate("() => document.documentElement.scrollWidth") <= width)
