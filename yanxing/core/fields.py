"""Model fields that keep personal data encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.db import models

from .crypto import keyring


class EncryptedTextField(models.TextField):
    """Text stored as AES-GCM ciphertext; reads return plaintext. Not filterable: use a blind index."""

    def __init__(self, *args: Any, purpose: str = "", **kwargs: Any) -> None:
        self.purpose = purpose
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def _purpose(self) -> str:
        return self.purpose or f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        return keyring().decrypt(value, self._purpose())

    def get_prep_value(self, value: Any) -> str:
        value = super().get_prep_value(value)
        if not value:
            return ""
        return keyring().encrypt(str(value), self._purpose())

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)


class PathField(models.CharField):
    """A materialized path. Subtrees are range queries (see core/paths.py), which need bytewise
    ordering: on PostgreSQL the column uses the "C" collation whatever the database default
    (ICU and glibc locales ignore '.' when sorting); SQLite's default BINARY already is."""

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
