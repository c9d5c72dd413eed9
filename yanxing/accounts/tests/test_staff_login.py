"""Staff sign-in: password form, lockout after repeated failures, idle timeout."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import conftest
from tests.conftest import PASSWORD, World
from yanxing.accounts.middleware import LAST_SEEN

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
client_for = conftest.client_for
world = conftest.world

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
WRONG = "用户名或密码错误。 / Wrong username or password."
LOCKED = "登录失败次数过多，账户已锁定15分钟，请稍后再试。 / Too many failed sign-ins: the account is locked for 15 minutes."


@pytest.fixture(autouse=True)
def clean_axes():
    axes_reset()
    yield
    axes_reset()


def post_login(client: Client, username: str, password: str, **extra: str):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def errors(response) -> list[str]:
    return [str(e) for e in response.context["form"].non_field_errors()]


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


class TestLogin:
    def test_page(self, world: World) -> None:
        response = Client().get(LOGIN)
        assert response.status_code == 200
        assert response.templates[0].name == "accounts/login.html"

    def test_success_redirects_home(self, world: World) -> None:
        client = Client()
        response = post_login(client, "home_secretary", PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == reverse("dashboards:home")
        assert signed_in_user_id(client) == str(world.home_secretary.pk)
        assert client.get("/").status_code == 200

    def test_success_follows_a_safe_next(self, world: World) -> None:
        response = post_login(Client(), "home_secretary", PASSWORD, next="/members/")
        assert response["Location"] == "/members/"
        response = post_login(Client(), "home_secretary", PASSWORD, next="https://evil.example/")
        assert response["Location"] == "/"

    def test_wrong_password(self, world: World) -> None:
        client = Client()
        response = post_login(client, "home_secretary", "wrong-password-1")
        assert response.status_code == 200
        assert errors(response) == [WRONG]
        assert signed_in_user_id(client) is None

    def test_unknown_user_gets_the_same_message(self, world: World) -> None:
        response = post_login(Client(), "nobody", PASSWORD)
        assert errors(response) == [WRONG]

    def test_empty_form(self, world: World) -> None:
        response = Client().post(LOGIN, {"username": "", "password": ""})
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"username", "password"}
        assert AccessAttempt.objects.count() == 0  # no credentials, no failed attempt

    def test_member_account_cannot_use_the_staff_form(self, world: World) -> None:
        world.member_user.set_password(PASSWORD)
        world.member_user.save()
        client = Client()
        response = post_login(client, "member_away", PASSWORD)
        assert errors(response) == [WRONG]
        assert signed_in_user_id(client) is None

    def test_signed_in_staff_skip_the_form(self, world: World, client_for) -> None:
        response = client_for("county_admin").get(LOGIN)
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_logout(self, world: World) -> None:
        client = Client()
        post_login(client, "home_secretary", PASSWORD)
        response = client.post("/logout/")
        assert response["Location"] == LOGIN
        assert signed_in_user_id(client) is None


class TestLockout:
    def test_five_failures_lock_for_fifteen_minutes(self, world: World) -> None:
        client = Client()
        for _ in range(4):
            response = post_login(client, "home_secretary", "wrong-password-1")
            assert response.status_code == 200
            assert errors(response) == [WRONG]
        fifth = post_login(client, "home_secretary", "wrong-password-1")
        assert fifth.status_code == 403
        assert errors(fifth) == [LOCKED]
        # Locked: even the right password is refused.
        locked = post_login(client, "home_secretary", PASSWORD)
        assert locked.status_code == 403
        assert errors(locked) == [LOCKED]
        assert signed_in_user_id(client) is None
        # The lock is per account: another account signs in from the same address.
        other = Client()
        assert post_login(other, "host_secretary", PASSWORD).status_code == 302
        # Fourteen minutes later it still holds; after fifteen minutes it is lifted.
        attempt = AccessAttempt.objects.get(username="home_secretary")
        assert attempt.failures_since_start == 6  # the refused right password counts too
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=timezone.now() - dt.timedelta(minutes=14)
        )
        assert post_login(Client(), "home_secretary", PASSWORD).status_code == 403
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=timezone.now() - dt.timedelta(minutes=16)
        )
        response = post_login(client, "home_secretary", PASSWORD)
        assert response.status_code == 302
        assert signed_in_user_id(client) == str(world.home_secretary.pk)

    def test_success_resets_the_count(self, world: World) -> None:
        for _ in range(4):
            post_login(Client(), "home_secretary", "wrong-password-1")
        assert post_login(Client(), "home_secretary", PASSWORD).status_code == 302
        assert AccessAttempt.objects.filter(username="home_secretary").count() == 0
        for _ in range(4):
            assert post_login(Client(), "home_secretary", "wrong-password-1").status_code == 200
        assert post_login(Client(), "home_secretary", PASSWORD).status_code == 302


class TestIdleTimeout:
    def set_last_seen(self, client: Client, seconds_ago: float) -> None:
        session = client.session
        session[LAST_SEEN] = time.time() - seconds_ago
        session.save()

    def test_staff_session_ends_after_idle_minutes(self, world: World, settings) -> None:
        settings.STAFF_IDLE_TIMEOUT_MINUTES = 30
        client = Client()
        post_login(client, "home_secretary", PASSWORD)
        assert client.get("/").status_code == 200
        first = client.session[LAST_SEEN]
        assert abs(first - time.time()) < 60

        self.set_last_seen(client, 29 * 60)
        assert client.get("/").status_code == 200
        assert client.session[LAST_SEEN] > time.time() - 60  # activity moves the mark

        self.set_last_seen(client, 31 * 60)
        response = client.get("/members/")
        assert response.status_code == 302
        assert response["Location"] == "/login/?expired=1"
        assert signed_in_user_id(client) is None
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert page.context["expired"] == "1"
        assert client.get("/").status_code == 302

    def test_timeout_follows_the_setting(self, world: World, settings) -> None:
        settings.STAFF_IDLE_TIMEOUT_MINUTES = 5
        client = Client()
        post_login(client, "home_secretary", PASSWORD)
        client.get("/")
        self.set_last_seen(client, 6 * 60)
        assert client.get("/")["Location"] == "/login/?expired=1"

    def test_member_sessions_use_the_member_timeout(
        self, world: World, client_for, settings
    ) -> None:
        settings.STAFF_IDLE_TIMEOUT_MINUTES = 30
        settings.MEMBER_IDLE_TIMEOUT_MINUTES = 1440
        client = client_for("member_user")
        assert client.get("/m/").status_code == 200
        self.set_last_seen(client, 31 * 60)
        assert client.get("/m/").status_code == 200
        self.set_last_seen(client, 1441 * 60)
        response = client.get("/m/")
        assert response["Location"] == "/m/login/?expired=1"
        assert signed_in_user_id(client) is None
