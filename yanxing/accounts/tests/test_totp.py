"""TOTP second factor: the policy on the path to a grant, enrolment and verification."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pyotp
import pytest
from axes.utils import reset as axes_reset
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import conftest
from tests.conftest import PASSWORD, World, staff
from yanxing.accounts import services
from yanxing.accounts.models import User
from yanxing.audit.models import Event
from yanxing.core.exceptions import BusinessRuleError
from yanxing.orgs import services as org_services

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
world = conftest.world

pytestmark = pytest.mark.django_db

SETUP = "/account/totp/setup/"
VERIFY = "/account/totp/verify/"


@pytest.fixture(autouse=True)
def clean_axes():
    axes_reset()
    yield
    axes_reset()


def token(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(
        base64.b32encode(device.bin_key).decode(), digits=device.digits, interval=device.step
    )
    return totp.at(time.time() + offset_steps * device.step)


def wrong(device: TOTPDevice) -> str:
    good = {token(device, step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in good)


def sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def require(world: World, org_name: str) -> None:
    org_services.set_staff_totp_policy(
        actor=world.county_admin, org=getattr(world, org_name), required=True
    )


def reload(user: User) -> User:
    return User.objects.get(pk=user.pk)


class TestPolicy:
    def test_nobody_by_default(self, world: World) -> None:
        for name in (
            "county_admin",
            "home_secretary",
            "host_secretary",
            "other_secretary",
            "member_user",
        ):
            assert services.totp_required(world.persona(name)) is False

    def test_policy_on_the_path_to_the_grant(self, world: World) -> None:
        require(world, "township")
        assert (
            services.totp_required(reload(world.home_secretary)) is True
        )  # village lies below the township
        assert services.totp_required(reload(world.host_secretary)) is False  # a sibling subtree
        assert services.totp_required(reload(world.county_admin)) is False  # above the township
        assert services.totp_required(reload(world.other_secretary)) is False

    def test_policy_at_the_root_covers_the_county(self, world: World) -> None:
        require(world, "county")
        for name in ("county_admin", "home_secretary", "host_secretary"):
            assert services.totp_required(reload(world.persona(name))) is True  # type: ignore[arg-type]
        assert services.totp_required(reload(world.other_secretary)) is False

    def test_any_grant_counts(self, world: World) -> None:
        require(world, "host")
        both = staff("both", "branch_secretary", world.village)
        assert services.totp_required(both) is False
        from yanxing.access.models import Grant

        Grant.objects.create(user=both, role="viewer", organization=world.host)
        assert services.totp_required(both) is True

    def test_members_and_anonymous_never(self, world: World) -> None:
        require(world, "county")
        from django.contrib.auth.models import AnonymousUser

        assert services.totp_required(world.member_user) is False
        assert services.totp_required(AnonymousUser()) is False
        without_grants = User.objects.create_user(username="loose", password=PASSWORD)
        assert services.totp_required(without_grants) is False


class TestEnrolment:
    def test_setup_then_verify(self, world: World) -> None:
        require(world, "township")
        client = sign_in("home_secretary")
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"] == SETUP
        assert client.get("/members/")["Location"] == SETUP

        page = client.get(SETUP)
        assert page.status_code == 200
        device = TOTPDevice.objects.get(user=world.home_secretary)
        assert device.confirmed is False
        assert page.context["secret"] == base64.b32encode(device.bin_key).decode().rstrip("=")
        assert "<svg" in page.context["qr_svg"]

        refused = client.post(SETUP, {"token": wrong(device)})
        assert refused.status_code == 200
        assert refused.context["form"].errors["token"] == [
            "动态口令不正确，请核对手机上的6位数字。 / Wrong code; check the 6 digits in your app."
        ]
        assert client.get("/")["Location"] == SETUP

        accepted = client.post(SETUP, {"token": token(device)})
        assert accepted.status_code == 302
        assert accepted["Location"] == "/"
        device.refresh_from_db()
        assert device.confirmed is True
        assert client.get("/").status_code == 200
        event = Event.objects.get(verb="account.totp_enrolled")
        assert (event.actor_id, event.target_id) == (
            world.home_secretary.pk,
            str(world.home_secretary.pk),
        )

        # A new session must pass the second factor before any page.
        later = sign_in("home_secretary")
        response = later.get("/members/")
        assert response.status_code == 302
        assert response["Location"] == f"{VERIFY}?next=/members/"
        assert later.get(VERIFY).status_code == 200
        refused = later.post(VERIFY, {"token": wrong(device), "next": "/members/"})
        assert refused.status_code == 200
        assert refused.context["form"].errors["token"] == [
            "动态口令不正确或已过期。 / Wrong or expired code."
        ]
        assert later.get("/")["Location"] == f"{VERIFY}?next=/"
        # django-otp throttles after a wrong code (1 s, doubling); the user waits a moment.
        device.refresh_from_db()
        assert device.throttling_failure_count == 1
        TOTPDevice.objects.filter(pk=device.pk).update(
            throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=5)
        )
        passed = later.post(VERIFY, {"token": token(device, 1), "next": "/members/"})
        assert passed.status_code == 302
        assert passed["Location"] == "/members/"
        assert later.get("/").status_code == 200

    def test_verify_without_device_goes_to_setup(self, world: World) -> None:
        require(world, "township")
        client = sign_in("home_secretary")
        assert client.get(VERIFY)["Location"] == SETUP

    def test_staff_outside_the_policy_are_not_asked(self, world: World) -> None:
        require(world, "township")
        client = sign_in("host_secretary")
        assert client.get("/").status_code == 200
        assert TOTPDevice.objects.count() == 0

    def test_a_new_enrolment_replaces_the_old_device(self, world: World) -> None:
        user = world.home_secretary
        first = services.start_totp_enrolment(actor=user)
        services.confirm_totp_enrolment(actor=user, token=token(first))
        second = services.start_totp_enrolment(actor=user)
        assert second.bin_key != first.bin_key
        with pytest.raises(BusinessRuleError):
            services.confirm_totp_enrolment(actor=user, token=wrong(second))
        assert services.confirmed_device(user) == first
        services.confirm_totp_enrolment(actor=user, token=token(second))
        assert list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == [
            (second.pk, True)
        ]
        assert services.confirmed_device(user) == second

    def test_confirm_without_enrolment(self, world: World) -> None:
        with pytest.raises(BusinessRuleError):
            services.confirm_totp_enrolment(actor=world.home_secretary, token="123456")
