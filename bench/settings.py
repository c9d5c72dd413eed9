"""Settings for the benchmarks: fixed throwaway keys and a separate database.

The database comes from the environment exactly as in `config.settings.base` (YANXING_DB,
YANXING_SQLITE_PATH, PGDATABASE); `bench/registry.py` sets those before Django starts. The keys
are fixed so a generated database can be reused across runs; they protect synthetic data only.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR

SECRET_KEY = "bench-only-secret-key-not-for-production"
FIELD_ENCRYPTION_KEYS = "b1:QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="
BLIND_INDEX_KEY = "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8="
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SMS_OUTBOX_FILE = BASE_DIR / "bench" / "data" / "sms-outbox.log"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"yanxing": {"handlers": ["console"], "level": "WARNING"}},
}
# Pages are rendered, not served: an empty directory stands in for collected static files.
STATIC_ROOT = BASE_DIR / "bench" / "data" / "staticfiles"
