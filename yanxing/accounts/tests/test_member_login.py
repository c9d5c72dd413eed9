"""Member sign-in through /m/login/: phone, then the SMS code."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client

from tests import conftest
from tests.conftest import PHONE_AWAY, PHONE_OTHER, World
from yanxing.accounts.models import PhoneCode
from yanxing.notifications.sms import MemoryBackend

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
client_for = conftest.client_for
world = conftest.world

pytestmark = pytest.mark.django_db

LOGIN = "/m/login/"
UNREGISTERED = "13700001111"
REJECTED = "验证码错误或已过期，请重新获取。 / The code is wrong or has expired; request a new one."


@pytest.fixture
def outbox(settings) -> Iterator[list[tuple[str, str]]]:
    settings.SMS_BACKEND = "yanxing.notifications.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


def ask(client: Client, phone: str, capture):
    with capture(execute=True):
        return client.post(LOGIN, {"step": "phone", "phone": phone})


def code_in(message: str) -> str:
    return re.findall(r"\d{6}", message)[0]


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_page(world: World) -> None:
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert response.context["sent"] is False


def test_phone_then_code(world: World, outbox, django_capture_on_commit_callbacks) -> None:
    client = Client()
    response = ask(client, PHONE_AWAY, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert response.context["sent"] is True
    assert response.context["code_form"].initial == {"phone": PHONE_AWAY}
    assert [phone for phone, _ in outbox] == [PHONE_AWAY]
    assert PhoneCode.objects.get().ip == "127.0.0.1"
    response = client.post(
        LOGIN, {"step": "code", "phone": PHONE_AWAY, "code": code_in(outbox[0][1])}
    )
    assert response.status_code == 302
    assert response["Location"] == "/m/"
    assert signed_in_user_id(client) == str(world.member_user.pk)
    home = client.get("/m/")
    assert home.status_code == 200
    assert home.context["member"] == world.m_away
    assert [p.organization for p in home.context["participations"]] == [world.host]
    # Signed in, the login page sends the member home.
    assert client.get(LOGIN)["Location"] == "/m/"


def test_wrong_code(world: World, outbox, django_capture_on_commit_callbacks) -> None:
    client = Client()
    ask(client, PHONE_AWAY, django_capture_on_commit_callbacks)
    code = code_in(outbox[0][1])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = client.post(LOGIN, {"step": "code", "phone": PHONE_AWAY, "code": wrong})
    assert response.status_code == 200
    assert response.context["sent"] is True
    assert response.context["code_form"].errors["code"] == [REJECTED]
    assert signed_in_user_id(client) is None
    assert PhoneCode.objects.get().attempts == 1


def test_unregistered_phone_gets_the_same_page(
    world: World, outbox, django_capture_on_commit_callbacks
) -> None:

    def normalised(response, phone: str) -> str:
        html = response.content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return html.replace(phone, "PHONE")

    registered = ask(Client(), PHONE_AWAY, django_capture_on_commit_callbacks)
    unregistered = ask(Client(), UNREGISTERED, django_capture_on_commit_callbacks)
    assert unregistered.status_code == registered.status_code == 200
    assert normalised(unregistered, UNREGISTERED) == normalised(registered, PHONE_AWAY)
    assert [phone for phone, _ in outbox] == [PHONE_AWAY]


def test_invalid_phone(world: World, outbox, django_capture_on_commit_callbacks) -> None:
    response = ask(Client(), "12345", django_capture_on_commit_callbacks)
    assert response.context["sent"] is False
    assert response.context["phone_form"].errors["phone"] == [
        "手机号应为11位、以1开头的数字。 / A mobile number has 11 digits starting with 1."
    ]
    assert outbox == []


def test_hourly_limit_is_shown(world: World, outbox, django_capture_on_commit_callbacks) -> None:
    client = Client()
    for _ in range(5):
        assert ask(client, PHONE_OTHER, django_capture_on_commit_callbacks).context["sent"] is True
    response = ask(client, PHONE_OTHER, django_capture_on_commit_callbacks)
    assert response.context["sent"] is False
    assert response.context["phone_form"].errors["phone"] == [
        "该手机号1小时内获取验证码次数已达上限，请稍后再试。 / Too many codes this hour."
    ]
    assert len(outbox) == 5


def test_member_session_cannot_open_staff_pages(world: World, client_for) -> None:
    client = client_for("member_user")
    for path in ("/", "/members/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == "/m/"
