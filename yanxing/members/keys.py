"""Key rotation for encrypted member fields and blind indexes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from yanxing.core.crypto import keyring

from .models import SENSITIVE_FIELDS, Member

#: field name → the purpose its ciphertext is bound to (declared on the model field)
ENCRYPTED = {name: Member._meta.get_field(name).purpose for name in SENSITIVE_FIELDS}  # type: ignore[union-attr]


@dataclass
class RotationResult:
    rows: int = 0
    reencrypted: int = 0


def rotate_member_keys(batch_size: int = 1000) -> RotationResult:
    """Re-encrypt every value not under the primary key and recompute blind indexes.

    Reads raw column values, so rows already under the primary key are left alone; safe to run
    again after an interruption (each batch is its own transaction).
    """
    from .services import id_hash as compute_id_hash
    from .services import phone_hash as compute_phone_hash

    ring = keyring()
    result = RotationResult()
    table = Member._meta.db_table
    columns = ", ".join(ENCRYPTED)
    last_id = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {columns}, id_hash, phone_hash FROM {table} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
                [last_id, batch_size],
            )
            rows = cursor.fetchall()
            if not rows:
                return result
            for row in rows:
                pk, raw_values, old_id_hash, old_phone_hash = row[0], row[1:4], row[4], row[5]
                last_id = pk
                result.rows += 1
                plain = {
                    name: ring.decrypt(raw, purpose) if raw else ""
                    for (name, purpose), raw in zip(ENCRYPTED.items(), raw_values, strict=True)
                }
                updates: dict[str, str] = {}
                for (name, purpose), raw in zip(ENCRYPTED.items(), raw_values, strict=True):
                    if raw and ring.key_id_of(raw) != ring.primary:
                        updates[name] = ring.encrypt(plain[name], purpose)
                id_hash = compute_id_hash(plain["id_number"])
                phone_hash = compute_phone_hash(plain["phone"])
                if id_hash != old_id_hash:
                    updates["id_hash"] = id_hash
                if phone_hash != old_phone_hash:
                    updates["phone_hash"] = phone_hash
                if updates:
                    result.reencrypted += 1
                    assignments = ", ".join(f"{name} = %s" for name in updates)
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
                        [*updates.values(), pk],
                    )
