"""Field encryption with a key ring, blind indexes, and the encrypted model field."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection

from tests import conftest
from tests.conftest import ID_AWAY, PHONE_AWAY
from yanxing.core import crypto
from yanxing.core.crypto import DecryptionError, KeyRing, _build, blind_index, keyring
from yanxing.members.models import Member

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
world = conftest.world

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(100, 132))).decode()
KEY_C = base64.b64encode(bytes(range(200, 232))).decode()
INDEX_1 = base64.b64encode(b"i" * 32).decode()
INDEX_2 = base64.b64encode(b"j" * 32).decode()


def ring(keys: str, index: str = INDEX_1) -> KeyRing:
    return _build(keys, index)


class TestRoundTrip:
    def test_encrypt_then_decrypt(self) -> None:
        r = ring(f"a:{KEY_A}")
        token = r.encrypt(ID_AWAY, "member.id_number")
        assert token.startswith("a$")
        assert ID_AWAY not in token
        assert r.decrypt(token, "member.id_number") == ID_AWAY

    def test_unicode_and_empty(self) -> None:
        r = ring(f"a:{KEY_A}")
        note = "患有慢性病，家庭困难 — needs visits"
        assert (
            r.decrypt(r.encrypt(note, "member.sensitive_notes"), "member.sensitive_notes") == note
        )
        assert r.decrypt(r.encrypt("", "p"), "p") == ""

    def test_fresh_nonce_each_time(self) -> None:
        r = ring(f"a:{KEY_A}")
        tokens = {r.encrypt(PHONE_AWAY, "member.phone") for _ in range(20)}
        assert len(tokens) == 20
        # nonce (12) + plaintext (11) + tag (16)
        assert {len(base64.b64decode(t.partition("$")[2])) for t in tokens} == {12 + 11 + 16}

    def test_associated_data_binds_purpose(self) -> None:
        r = ring(f"a:{KEY_A}")
        token = r.encrypt(ID_AWAY, "member.id_number")
        with pytest.raises(DecryptionError, match=r"member\.phone failed authentication"):
            r.decrypt(token, "member.phone")

    def test_tampered_ciphertext_fails(self) -> None:
        r = ring(f"a:{KEY_A}")
        token = r.encrypt(ID_AWAY, "member.id_number")
        kid, _, body = token.partition("$")
        raw = bytearray(base64.b64decode(body))
        for position in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
            changed = bytearray(raw)
            changed[position] ^= 0x01
            forged = kid + "$" + base64.b64encode(bytes(changed)).decode()
            with pytest.raises(DecryptionError):
                r.decrypt(forged, "member.id_number")
        truncated = kid + "$" + base64.b64encode(bytes(raw[:-1])).decode()
        with pytest.raises(DecryptionError):
            r.decrypt(truncated, "member.id_number")

    def test_unknown_key_id_and_empty_body(self) -> None:
        r = ring(f"a:{KEY_A}")
        token = r.encrypt(ID_AWAY, "p")
        with pytest.raises(DecryptionError, match="no key 'zz' for p"):
            r.decrypt("zz$" + token.partition("$")[2], "p")
        with pytest.raises(DecryptionError):
            r.decrypt("a$", "p")
        with pytest.raises(DecryptionError):
            r.decrypt("no separator at all", "p")

    def test_same_key_id_with_other_key_material_fails(self) -> None:
        token = ring(f"a:{KEY_A}").encrypt(ID_AWAY, "p")
        with pytest.raises(DecryptionError):
            ring(f"a:{KEY_B}").decrypt(token, "p")


class TestKeyRing:
    def test_primary_is_first_and_old_keys_still_decrypt(self) -> None:
        old = ring(f"a:{KEY_A}")
        old_token = old.encrypt(ID_AWAY, "p")
        rotated = ring(f"b:{KEY_B},a:{KEY_A}")
        assert rotated.primary == "b"
        assert set(rotated.keys) == {"a", "b"}
        new_token = rotated.encrypt(ID_AWAY, "p")
        assert rotated.key_id_of(new_token) == "b"
        assert rotated.key_id_of(old_token) == "a"
        assert rotated.decrypt(old_token, "p") == ID_AWAY
        assert rotated.decrypt(new_token, "p") == ID_AWAY
        # Once the old key is dropped, old values no longer decrypt; new ones still do.
        final = ring(f"b:{KEY_B}")
        assert final.decrypt(new_token, "p") == ID_AWAY
        with pytest.raises(DecryptionError):
            final.decrypt(old_token, "p")

    def test_whitespace_around_entries(self) -> None:
        r = ring(f" b:{KEY_B} , a:{KEY_A} ")
        assert r.primary == "b"
        assert set(r.keys) == {"a", "b"}

    def test_settings_keyring(self, settings) -> None:
        r = keyring()
        assert r.primary == "t2"
        assert set(r.keys) == {"t1", "t2"}
        _build.cache_clear()
        settings.FIELD_ENCRYPTION_KEYS = f"c:{KEY_C}," + settings.FIELD_ENCRYPTION_KEYS
        try:
            assert keyring().primary == "c"
            assert keyring().decrypt(r.encrypt("x", "p"), "p") == "x"
        finally:
            _build.cache_clear()

    @pytest.mark.parametrize(
        ("keys", "index", "message"),
        [
            ("", INDEX_1, "must be set"),
            (f"a:{KEY_A}", "", "must be set"),
            (f":{KEY_A}", INDEX_1, "kid:base64key"),
            ("a:", INDEX_1, "kid:base64key"),
            (f"a$b:{KEY_A}", INDEX_1, "kid:base64key"),
            ("a:not base64!", INDEX_1, "field key a is not valid base64"),
            (f"a:{base64.b64encode(b'short').decode()}", INDEX_1, "must be 32 bytes"),
            (f"a:{KEY_A}", base64.b64encode(b"x" * 16).decode(), "index key must be 32 bytes"),
        ],
    )
    def test_bad_configuration(self, keys: str, index: str, message: str) -> None:
        with pytest.raises(ImproperlyConfigured, match=message):
            _build(keys, index)


class TestBlindIndex:
    def test_deterministic(self) -> None:
        r = ring(f"a:{KEY_A}")
        first = r.blind_index(ID_AWAY, "member.id_number")
        assert first == r.blind_index(ID_AWAY, "member.id_number")
        assert len(first) == 64
        assert set(first) <= set("0123456789abcdef")
        assert ID_AWAY not in first

    def test_independent_of_field_keys(self) -> None:
        one = ring(f"a:{KEY_A}", INDEX_1).blind_index(ID_AWAY, "p")
        other = ring(f"b:{KEY_B}", INDEX_1).blind_index(ID_AWAY, "p")
        assert one == other

    def test_purpose_separated(self) -> None:
        r = ring(f"a:{KEY_A}")
        assert r.blind_index("13912340001", "member.phone") != r.blind_index(
            "13912340001", "member.id_number"
        )

    def test_values_separated(self) -> None:
        r = ring(f"a:{KEY_A}")
        assert r.blind_index("13912340001", "member.phone") != r.blind_index(
            "13912340002", "member.phone"
        )

    def test_index_key_changes_the_hash(self) -> None:
        assert ring(f"a:{KEY_A}", INDEX_1).blind_index(ID_AWAY, "p") != ring(
            f"a:{KEY_A}", INDEX_2
        ).blind_index(ID_AWAY, "p")

    def test_module_helper(self) -> None:
        assert blind_index("", "member.phone") == ""
        assert blind_index(None, "member.phone") == ""
        assert blind_index(PHONE_AWAY, "member.phone") == keyring().blind_index(
            PHONE_AWAY, "member.phone"
        )
        assert crypto.SEPARATOR == "$"


@pytest.mark.django_db
class TestEncryptedTextField:
    def test_refuses_exact_and_other_lookups(self, world) -> None:
        for lookup in (
            "id_number",
            "id_number__exact",
            "phone__iexact",
            "phone__contains",
            "id_number__startswith",
            "sensitive_notes__in",
        ):
            value = [ID_AWAY] if lookup.endswith("__in") else ID_AWAY
            with pytest.raises(FieldError, match="Unsupported lookup"):
                Member.objects.filter(**{lookup: value}).count()

    def test_isnull_is_allowed(self, world) -> None:
        assert Member.objects.filter(id_number__isnull=True).count() == 0
        assert Member.objects.filter(id_number__isnull=False).count() == 3

    def test_stored_as_ciphertext_and_read_as_plaintext(self, world) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id_number, phone, sensitive_notes FROM members_member WHERE id = %s",
                [world.m_away.pk],
            )
            raw_id, raw_phone, raw_notes = cursor.fetchone()
        assert raw_id.startswith("t2$")
        assert raw_phone.startswith("t2$")
        assert raw_notes == ""
        assert ID_AWAY not in raw_id
        assert PHONE_AWAY not in raw_phone
        assert keyring().decrypt(raw_id, "member.id_number") == ID_AWAY
        assert keyring().decrypt(raw_phone, "member.phone") == PHONE_AWAY
        fresh = Member.objects.get(pk=world.m_away.pk)
        assert fresh.id_number == ID_AWAY
        assert fresh.phone == PHONE_AWAY
        assert fresh.sensitive_notes == ""

    def test_value_copied_to_another_column_does_not_decrypt(self, world) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE members_member SET phone = id_number WHERE id = %s", [world.m_away.pk]
            )
        with pytest.raises(DecryptionError):
            Member.objects.get(pk=world.m_away.pk)

    def test_deconstruct_keeps_purpose(self) -> None:
        field = Member._meta.get_field("phone")
        _, path, _, kwargs = field.deconstruct()
        assert path == "yanxing.core.fields.EncryptedTextField"
        assert kwargs["purpose"] == "member.phone"
