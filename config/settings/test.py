"""Settings for the test suite: fixed throwaway keys, fast hashing, immediate tasks."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR

SECRET_KEY = "test-only-secret-key-not-for-production"
FIELD_ENCRYPTION_KEYS = "t2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,t1:ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A="
BLIND_INDEX_KEY = "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY="
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SMS_OUTBOX_FILE = BASE_DIR / "var" / "test-sms-outbox.log"
(BASE_DIR / "var").mkdir(exist_ok=True)

# Each test process gets its own database, so separate runs (and xdist workers) never collide.
if os.environ.get("YANXING_DB", "sqlite") == "sqlite":
    _test_db = str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")
    DATABASES["default"]["NAME"] = _test_db  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": _test_db}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_yanxing_{os.getpid()}"}  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
