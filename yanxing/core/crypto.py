"""Field encryption (AES-256-GCM with a key ring) and keyed hashes for exact lookup (blind index).

Keys come from settings, which read them from the environment:
- FIELD_ENCRYPTION_KEYS: "kid:base64key,kid:base64key"; the first key encrypts new values, every
  listed key can decrypt, so rotation is: put a new key first, run `rotate_keys`, drop the old one.
- BLIND_INDEX_KEY: base64 key for HMAC-SHA256 over normalised values.

A stored value looks like "kid$<base64 nonce||ciphertext||tag>"; the associated data binds it to
its purpose (e.g. "member.id_number"), so a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEPARATOR = "$"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@dataclass(frozen=True)
class KeyRing:
    primary: str
    keys: dict[str, bytes]
    index_key: bytes

    def encrypt(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.primary]).encrypt(
            nonce, plaintext.encode("utf-8"), purpose.encode()
        )
        return self.primary + SEPARATOR + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, purpose: str) -> str:
        kid, _, body = token.partition(SEPARATOR)
        key = self.keys.get(kid)
        if key is None or not body:
            raise DecryptionError(f"no key {kid!r} for {purpose}")
        raw = base64.b64decode(body)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], purpose.encode()).decode("utf-8")
        except Exception as exc:  # cryptography raises InvalidTag
            raise DecryptionError(f"value for {purpose} failed authentication") from exc

    def key_id_of(self, token: str) -> str:
        return token.partition(SEPARATOR)[0]

    def blind_index(self, value: str, purpose: str) -> str:
        mac = hmac.new(self.index_key, f"{purpose}:{value}".encode(), hashlib.sha256)
        return mac.hexdigest()


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} must be 32 bytes (base64 of 32 random bytes)")
    return key


@lru_cache(maxsize=4)
def _build(field_keys: str, index_key: str) -> KeyRing:
    if not field_keys or not index_key:
        raise ImproperlyConfigured("YANXING_FIELD_KEYS and YANXING_INDEX_KEY must be set")
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in field_keys.split(","):
        kid, _, b64 = item.strip().partition(":")
        if not kid or not b64 or SEPARATOR in kid:
            raise ImproperlyConfigured("YANXING_FIELD_KEYS entries look like kid:base64key")
        keys[kid] = _decode_key(b64, f"field key {kid}")
        order.append(kid)
    return KeyRing(primary=order[0], keys=keys, index_key=_decode_key(index_key, "index key"))


def keyring() -> KeyRing:
    return _build(settings.FIELD_ENCRYPTION_KEYS, settings.BLIND_INDEX_KEY)


def blind_index(value: str | None, purpose: str) -> str:
    if not value:
        return ""
    return keyring().blind_index(value, purpose)
