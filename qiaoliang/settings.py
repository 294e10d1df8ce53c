"""Qiaoliang settings: read from the environment only, with safe embedded defaults.

Every variable is documented in `.env.example`. `QIAOLIANG_ENV=production` turns on the
strict checks: no default secret key, HTTPS-only cookies, HSTS, explicit hosts.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """Return a string variable from the environment."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return a boolean variable: 1/true/yes/on are true."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Return an integer variable, failing loudly on garbage."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    """Return a decimal variable, failing loudly on garbage."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated list variable."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


ENVIRONMENT = env_str("QIAOLIANG_ENV", "development")
IS_PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", default=not IS_PRODUCTION)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when QIAOLIANG_ENV=production")
    SECRET_KEY = "insecure-development-key-qiaoliang-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PRODUCTION else "127.0.0.1,localhost,testserver")
if IS_PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when QIAOLIANG_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "qiaoliang.core",
    "qiaoliang.accounts",
    "qiaoliang.orgs",
    "qiaoliang.exchange",
    "qiaoliang.events",
    "qiaoliang.appeals",
    "qiaoliang.policies",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "qiaoliang.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "qiaoliang.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "qiaoliang.core.middleware.SessionTouchMiddleware",
    "qiaoliang.core.middleware.ChineseByDefaultLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "qiaoliang.core.errors.DomainErrorMiddleware",
]
CSRF_FAILURE_VIEW = "qiaoliang.core.errors.csrf_failure"

ROOT_URLCONF = "qiaoliang.urls"
WSGI_APPLICATION = "qiaoliang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "qiaoliang" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "qiaoliang.core.context_processors.site",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'qiaoliang.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if IS_PRODUCTION else 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django turns psycopg's prepared statements off (prepare_threshold None), and then psycopg ignores even an
    # explicit prepare=True. Django's own cursors bind on the client and are never prepared whatever this says;
    # the hot paths' statements (core.sql.fetch_one_prepared) ask for preparation explicitly. The threshold only
    # has to be set: high, so nothing else is prepared by count.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 1_000_000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": env_str("SQLITE_TEST_NAME") or None}
    # The appeals' covering index (INCLUDE columns) is a PostgreSQL optimisation; SQLite builds the plain index.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "qiaoliang.accounts.backends.UsernameOrMobileBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle timeout: the session expires after SESSION_IDLE_MINUTES without a request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
# Renewed at most once a minute (core.middleware.SessionTouchMiddleware), not written on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = env_int("SESSION_TOUCH_SECONDS", 60)
# A user's scope (what their roles let them see) is kept in the shared cache this long at most; every write to
# roles, the organisation tree, zones or memberships makes it stale at once (orgs.scope). 0: built per request.
SCOPE_CACHE_SECONDS = env_int("SCOPE_CACHE_SECONDS", 300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Lockout (django-axes): per username and IP address together, temporary.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
# Failures count per account, whatever the spelling or the mobile number used (accounts.lockout).
AXES_USERNAME_CALLABLE = "qiaoliang.accounts.lockout.canonical_username"
AXES_LOCKOUT_CALLABLE = "qiaoliang.accounts.views.locked_out"
AXES_IPWARE_META_PRECEDENCE_ORDER = env_list("AXES_IP_HEADERS", "REMOTE_ADDR")
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "Qiaoliang"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "qiaoliang" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("REDIS_URL")}
        if env_str("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "qiaoliang"}
    )
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Qiaoliang <noreply@localhost>")
# The site's address for links in e-mails, text messages and WeCom messages.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Text messages and WeCom group robots: console (the demo writes them to the log), locmem (tests), http.
SMS_BACKEND = env_str("SMS_BACKEND", "console")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL")
WECOM_BACKEND = env_str("WECOM_BACKEND", "console")
# One-time codes (password reset, mobile checks): lifetime, tries, and how often one number may ask.
VERIFICATION_CODE_MINUTES = env_int("VERIFICATION_CODE_MINUTES", 10)
VERIFICATION_CODE_ATTEMPTS = env_int("VERIFICATION_CODE_ATTEMPTS", 5)
VERIFICATION_CODE_INTERVAL_SECONDS = env_int("VERIFICATION_CODE_INTERVAL_SECONDS", 60)
VERIFICATION_CODES_PER_DAY = env_int("VERIFICATION_CODES_PER_DAY", 10)

# Upload limits (bytes): imports (compressed and unpacked), attachments and licences.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 20) * 1024 * 1024
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_MAX_UNCOMPRESSED_MB", 200) * 1024 * 1024
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", 10) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Private files (attachments, licences) are served by the permission-checked views; in production the web
# server sends the bytes (X-Accel-Redirect to an internal location that maps to MEDIA_ROOT).
PRIVATE_FILES_ACCEL_PREFIX = env_str("PRIVATE_FILES_ACCEL_PREFIX", "/protected/" if IS_PRODUCTION else "")

# Idempotency keys of API writes are kept this long (hours).
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)

# Background work (django-tasks): in-process by default; the database queue in production
# (TASKS_BACKEND=django_tasks_db.DatabaseBackend, workers: `manage.py db_worker`).
TASKS_BACKEND = env_str("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}

# Resource exchange.
MATCHING_INDEX_DIR = Path(env_str("MATCHING_INDEX_DIR", str(BASE_DIR / "var" / "matching")))
MATCH_SUGGESTIONS = env_int("MATCH_SUGGESTIONS", 10)
LISTING_ATTACHMENT_MAX_BYTES = env_int("LISTING_ATTACHMENT_MAX_MB", 10) * 1024 * 1024


# A ranked match's score is its calibrated probability of being relevant (exchange/matching/README.md). It is
# stored as a suggestion from MATCH_SUGGEST_SCORE on (out of fold: 59 % precise, 73 % of the relevant top-10 kept)
# and pushed to both sides from MATCH_NOTIFY_SCORE on (85 % precise).
MATCH_SUGGEST_SCORE = env_float("MATCH_SUGGEST_SCORE", 0.2)
MATCH_NOTIFY_SCORE = env_float("MATCH_NOTIFY_SCORE", 0.6)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "qiaoliang.core.authentication.PreparedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "qiaoliang.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["qiaoliang.core.api.BoundedFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "qiaoliang.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Qiaoliang API",
    "DESCRIPTION": "Organisations, zones, member enterprises, memberships and people of a business federation.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status"; name each choice set so the schema's enums do not collide.
    "ENUM_NAME_OVERRIDES": {
        "ListingStatusEnum": "qiaoliang.exchange.models.Listing.Status",
        "MatchStatusEnum": "qiaoliang.exchange.models.Match.Status",
        "MatchMoveEnum": "qiaoliang.exchange.api.serializers.MATCH_MOVES",
        "MembershipStatusEnum": "qiaoliang.orgs.models.Membership.Status",
        "EventKindEnum": "qiaoliang.events.models.Kind",
        "PolicyLevelEnum": "qiaoliang.policies.models.Policy.Level",
        "MemberLevelEnum": "qiaoliang.orgs.models.Membership.Level",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "django_tasks": {"level": "WARNING"}},
}

if IS_PRODUCTION:
    # Refuse defaults that only work on one process: tasks inside web requests, per-process caches (idempotency,
    # throttles and sessions' helpers must be shared by every app server).
    if TASKS_BACKEND.endswith("ImmediateBackend") or TASKS_BACKEND.endswith("DummyBackend"):
        raise ImproperlyConfigured(
            "TASKS_BACKEND must be a shared queue in production (django_tasks_db.DatabaseBackend), "
            "not in-process work inside web requests"
        )
    if not env_str("REDIS_URL"):
        raise ImproperlyConfigured("REDIS_URL must be set in production: the cache is shared by every app server")
    if SMS_BACKEND == "locmem" or WECOM_BACKEND == "locmem":
        raise ImproperlyConfigured("SMS_BACKEND and WECOM_BACKEND cannot be locmem (a test backend) in production")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
