"""Phone one-time codes: format, lifetime, single use, attempt limit, rate limits, privacy."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.utils import timezone

from tests import conftest
from tests.conftest import PHONE_AWAY, PHONE_LOCAL, World
from yanxing.accounts import services
from yanxing.accounts.models import PhoneCode, User
from yanxing.accounts.services import CodeRejected
from yanxing.audit.models import Event
from yanxing.core.crypto import blind_index
from yanxing.core.exceptions import BusinessRuleError
from yanxing.notifications.sms import MemoryBackend

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
world = conftest.world

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
UNREGISTERED = "13700001111"
REJECTED = "验证码错误或已过期，请重新获取。 / The code is wrong or has expired; request a new one."


@pytest.fixture
def outbox(settings, django_capture_on_commit_callbacks) -> Iterator[list[tuple[str, str]]]:
    """SMS kept in memory; on-commit callbacks (which enqueue the SMS) run at once."""
    settings.SMS_BACKEND = "yanxing.notifications.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


def request(phone: str, ip: str | None = "203.0.113.7", now: dt.datetime = T0) -> None:
    services.request_phone_code(phone=phone, ip=ip, now=now)


def send(phone: str, capture, ip: str | None = "203.0.113.7", now: dt.datetime = T0) -> None:
    with capture(execute=True):
        services.request_phone_code(phone=phone, ip=ip, now=now)


def code_in(message: str) -> str:
    found = re.findall(r"\d{6}", message)
    assert len(found) == 1, message
    return found[0]


class TestSending:
    def test_six_digit_code_is_sent_and_only_hashes_are_stored(
        self,
        world: World,
        outbox,
        django_capture_on_commit_callbacks,
    ) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        assert len(outbox) == 1
        phone, message = outbox[0]
        assert phone == PHONE_AWAY
        code = code_in(message)
        assert message == f"【雁行】您的登录验证码为 {code}，5分钟内有效。如非本人操作请忽略。"
        entry = PhoneCode.objects.get()
        assert entry.phone_hash == blind_index(PHONE_AWAY, "member.phone")
        assert code not in entry.code_hash
        assert PHONE_AWAY not in entry.phone_hash
        assert (entry.created_at, entry.expires_at) == (T0, T0 + dt.timedelta(minutes=5))
        assert (entry.ip, entry.attempts, entry.used_at) == ("203.0.113.7", 0, None)

    def test_codes_vary(self, world: World, outbox, django_capture_on_commit_callbacks) -> None:
        for minute in range(5):
            send(
                PHONE_AWAY,
                django_capture_on_commit_callbacks,
                now=T0 + dt.timedelta(minutes=minute * 15),
            )
        codes = [code_in(m) for _, m in outbox]
        assert len(codes) == 5
        assert all(len(c) == 6 and c.isdigit() for c in codes)
        assert len(set(codes)) > 1

    def test_normalised_phone(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send("+86 139-1234-0001", django_capture_on_commit_callbacks)
        assert outbox[0][0] == PHONE_AWAY

    @pytest.mark.parametrize("phone", ["", "12345", "0139123400011", "23912340001"])
    def test_invalid_phone(self, world: World, outbox, phone: str) -> None:
        with pytest.raises(BusinessRuleError):
            services.request_phone_code(phone=phone, ip="203.0.113.7", now=T0)
        assert PhoneCode.objects.count() == 0

    def test_unregistered_phone_gets_the_same_answer_and_no_sms(
        self,
        world: World,
        outbox,
        django_capture_on_commit_callbacks,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = services.request_phone_code(phone=UNREGISTERED, ip="203.0.113.7", now=T0)
        assert result is None
        assert callbacks == []
        assert outbox == []
        # A code row is still kept, so the limits apply the same way.
        assert (
            PhoneCode.objects.filter(phone_hash=blind_index(UNREGISTERED, "member.phone")).count()
            == 1
        )
        with pytest.raises(CodeRejected):
            services.verify_phone_code(phone=UNREGISTERED, code="000000", now=T0)
        assert User.objects.filter(kind="member").count() == 1

    def test_inactive_member_gets_no_sms(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        world.m_local.is_active = False
        world.m_local.save()
        send(PHONE_LOCAL, django_capture_on_commit_callbacks)
        assert outbox == []

    def test_member_without_an_account_gets_one(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send(PHONE_LOCAL, django_capture_on_commit_callbacks)
        code = code_in(outbox[0][1])
        user = services.verify_phone_code(
            phone=PHONE_LOCAL, code=code, now=T0 + dt.timedelta(seconds=30)
        )
        assert (user.kind, user.member_id, user.username, user.display_name) == (
            "member",
            world.m_local.pk,
            f"m{world.m_local.pk}",
            "李秀英",
        )
        assert user.check_password("") is False  # no password sign-in for members


class TestVerifying:
    def test_valid_for_five_minutes(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        code = code_in(outbox[0][1])
        user = services.verify_phone_code(
            phone=PHONE_AWAY, code=code, now=T0 + dt.timedelta(seconds=299)
        )
        assert user == world.member_user
        event = Event.objects.filter(verb="account.member_login").get()
        assert (event.actor_id, event.target_id, event.org_path) == (
            world.member_user.pk,
            str(world.m_away.pk),
            world.village.path,
        )

    def test_expired_after_five_minutes(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        code = code_in(outbox[0][1])
        with pytest.raises(CodeRejected) as info:
            services.verify_phone_code(
                phone=PHONE_AWAY, code=code, now=T0 + dt.timedelta(minutes=5)
            )
        assert info.value.messages == [REJECTED]

    def test_single_use(self, world: World, outbox, django_capture_on_commit_callbacks) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        code = code_in(outbox[0][1])
        services.verify_phone_code(phone=PHONE_AWAY, code=code, now=T0 + dt.timedelta(seconds=10))
        assert PhoneCode.objects.get().used_at == T0 + dt.timedelta(seconds=10)
        with pytest.raises(CodeRejected):
            services.verify_phone_code(
                phone=PHONE_AWAY, code=code, now=T0 + dt.timedelta(seconds=20)
            )

    def test_a_new_code_replaces_the_old_one(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        send(PHONE_AWAY, django_capture_on_commit_callbacks, now=T0 + dt.timedelta(seconds=60))
        first, second = (code_in(m) for _, m in outbox)
        if first != second:
            with pytest.raises(CodeRejected):
                services.verify_phone_code(
                    phone=PHONE_AWAY, code=first, now=T0 + dt.timedelta(seconds=70)
                )
        assert services.verify_phone_code(
            phone=PHONE_AWAY, code=second, now=T0 + dt.timedelta(seconds=80)
        ) == (world.member_user)
        assert PhoneCode.objects.filter(used_at__isnull=True).count() == 0

    def test_code_for_another_phone_fails(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        code = code_in(outbox[0][1])
        with pytest.raises(CodeRejected):
            services.verify_phone_code(phone=PHONE_LOCAL, code=code, now=T0)

    def test_wrong_code_attempts_limit(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        code = code_in(outbox[0][1])
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for attempt in range(1, 5):
            with pytest.raises(CodeRejected) as info:
                services.verify_phone_code(phone=PHONE_AWAY, code=wrong, now=T0)
            assert info.value.messages == [REJECTED]  # the same answer every time
            assert PhoneCode.objects.get().attempts == attempt
        # Four wrong attempts leave the code usable.
        assert (
            services.verify_phone_code(phone=PHONE_AWAY, code=f" {code} ", now=T0)
            == world.member_user
        )

    def test_fifth_wrong_attempt_burns_the_code(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        code = code_in(outbox[0][1])
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(5):
            with pytest.raises(CodeRejected):
                services.verify_phone_code(phone=PHONE_AWAY, code=wrong, now=T0)
        entry = PhoneCode.objects.get()
        assert (entry.attempts, entry.used_at) == (5, T0)
        with pytest.raises(CodeRejected):
            services.verify_phone_code(phone=PHONE_AWAY, code=code, now=T0)
        assert Event.objects.filter(verb="account.member_login").count() == 0

    def test_no_code_requested(self, world: World) -> None:
        with pytest.raises(CodeRejected):
            services.verify_phone_code(phone=PHONE_AWAY, code="123456", now=T0)

    def test_default_clock(self, world: World, outbox, django_capture_on_commit_callbacks) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.request_phone_code(phone=PHONE_AWAY, ip=None)
        entry = PhoneCode.objects.get()
        assert abs((entry.created_at - timezone.now()).total_seconds()) < 60
        assert (
            services.verify_phone_code(phone=PHONE_AWAY, code=code_in(outbox[0][1]))
            == world.member_user
        )


class TestLimits:
    def test_five_per_hour_per_phone(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        for minute in range(5):
            send(
                PHONE_AWAY,
                django_capture_on_commit_callbacks,
                now=T0 + dt.timedelta(minutes=minute * 10),
            )
        with pytest.raises(BusinessRuleError) as info:
            request(PHONE_AWAY, now=T0 + dt.timedelta(minutes=59))
        assert info.value.messages == [
            "该手机号1小时内获取验证码次数已达上限，请稍后再试。 / Too many codes this hour."
        ]
        assert len(outbox) == 5
        # Another phone is not affected; after the hour has passed the first phone may ask again.
        send(PHONE_LOCAL, django_capture_on_commit_callbacks, now=T0 + dt.timedelta(minutes=59))
        send(PHONE_AWAY, django_capture_on_commit_callbacks, now=T0 + dt.timedelta(minutes=61))
        assert len(outbox) == 7

    def test_ten_per_day_per_phone(
        self, world: World, outbox, django_capture_on_commit_callbacks
    ) -> None:
        for n in range(10):
            send(PHONE_AWAY, django_capture_on_commit_callbacks, now=T0 + dt.timedelta(hours=2 * n))
        with pytest.raises(BusinessRuleError) as info:
            request(PHONE_AWAY, now=T0 + dt.timedelta(hours=23))
        assert info.value.messages == [
            "该手机号今日获取验证码次数已达上限，请明天再试。 / Daily code limit reached."
        ]
        # 24 hours after the first code one slot frees up again.
        send(
            PHONE_AWAY,
            django_capture_on_commit_callbacks,
            now=T0 + dt.timedelta(hours=24, minutes=1),
        )
        assert len(outbox) == 11

    def test_limits_count_unregistered_phones_the_same(self, world: World) -> None:
        for minute in range(5):
            request(UNREGISTERED, now=T0 + dt.timedelta(minutes=minute))
        with pytest.raises(BusinessRuleError):
            request(UNREGISTERED, now=T0 + dt.timedelta(minutes=6))

    def test_per_ip_limit(self, world: World, settings) -> None:
        assert settings.PHONE_CODE_MAX_PER_IP_HOUR == 20
        phones = [f"1370000{n:04d}" for n in range(21)]
        for n, phone in enumerate(phones[:20]):
            request(phone, ip="198.51.100.9", now=T0 + dt.timedelta(minutes=n))
        with pytest.raises(BusinessRuleError) as info:
            request(phones[20], ip="198.51.100.9", now=T0 + dt.timedelta(minutes=30))
        assert info.value.messages == [
            "请求过于频繁，请稍后再试。 / Too many requests from this network."
        ]
        # Another network may still ask; the same network may ask again an hour after its first request.
        request(phones[20], ip="198.51.100.10", now=T0 + dt.timedelta(minutes=30))
        request(PHONE_AWAY, ip="198.51.100.9", now=T0 + dt.timedelta(minutes=61))
        assert PhoneCode.objects.count() == 22


class TestQueuedDelivery:
    """With the database task queue (the default outside tests) the stored task holds no plaintext."""

    def test_queue_row_is_sealed_and_the_worker_delivers(
        self,
        world: World,
        outbox,
        django_capture_on_commit_callbacks,
        settings,
    ) -> None:
        from django_tasks_db.models import DBTaskResult

        settings.TASKS = {
            "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
        }
        send(PHONE_AWAY, django_capture_on_commit_callbacks)
        assert outbox == []
        queued = DBTaskResult.objects.get()
        assert queued.task_path == "yanxing.notifications.tasks.send_sms"
        stored = repr(queued.args_kwargs)
        assert PHONE_AWAY not in stored
        assert "验证码" not in stored
        # What the worker does with the stored row: call the task with the stored arguments.
        queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
        assert [phone for phone, _ in outbox] == [PHONE_AWAY]
        assert outbox[0][1].startswith("【雁行】您的登录验证码为 ")
