"""Skranke settings.

Operators configure Skranke with a handful of environment variables (see ``docs/operations.md``);
everything an administrator changes at run time lives in the database instead.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SKRANKE_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _env_bool("SKRANKE_DEBUG", False)


def _embedded_secret_key(path: Path) -> str:
    """The embedded default keeps a generated key under var/ so sessions survive restarts
    without the operator having to invent one. Created once, readable by the owner only; a
    second process starting at the same moment reads the winner's key."""
    import secrets
    import time

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _attempt in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty; delete it or set SKRANKE_SECRET_KEY") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = os.environ.get("SKRANKE_SECRET_KEY", "") or _embedded_secret_key(
    VAR_DIR / "secret_key"
)

ALLOWED_HOSTS = _env_list("SKRANKE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("SKRANKE_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Only for its bundled Swagger UI assets, so /api/v1/docs needs no CDN.
    "ninja",
    "channels",
    "django_htmx",
    "django_tasks_db",
    "skranke.accounts",
    "skranke.customers",
    "skranke.cases",
    "skranke.mail",
    "skranke.workforce",
    "skranke.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "skranke.lib.timing.ServerTimingMiddleware",
]

ROOT_URLCONF = "skranke.config.urls"
ASGI_APPLICATION = "skranke.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "skranke.accounts.context_processors.workspace",
            ],
            "builtins": ["django.templatetags.i18n", "django.templatetags.static"],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("SKRANKE_DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    # Parameters bound on the server, and statements run five times on a connection kept
    # prepared: PostgreSQL then skips parsing and planning them, about half of its CPU time
    # for email intake. Turn off (SKRANKE_PG_PREPARED=0) behind a pooler in transaction
    # mode that cannot keep prepared statements (PgBouncer before 1.21).
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and (
        os.environ.get("SKRANKE_PG_PREPARED", "1") != "0"
    ):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SKRANKE_SQLITE_PATH", str(VAR_DIR / "skranke.sqlite3")),
            "OPTIONS": {
                # WAL lets the web process read while the worker writes; IMMEDIATE avoids the
                # "database is locked" upgrade deadlock between concurrent writers.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA mmap_size=268435456;"
                ),
            },
            # A file, not memory: the live-server tests share it with a server thread. One per
            # process, so parallel test runs on one machine never share a database.
            "TEST": {
                "NAME": str(Path(tempfile.gettempdir()) / f"skranke-test-{os.getpid()}.sqlite3")
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "cases:queue"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- Channels / cache -------------------------------------------------------------------------
REDIS_URL = os.environ.get("SKRANKE_REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Tasks ------------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- I18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("SKRANKE_LANGUAGE", "nb")
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("SKRANKE_TIME_ZONE", "Europe/Oslo")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves the packaged files through its finders; an empty STATIC_ROOT only keeps it
# from warning on every start until `collectstatic` fills it.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("SKRANKE_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG


# --- Outgoing mail ----------------------------------------------------------------------------
# The site's default SMTP relay, used by mailboxes without an SMTP host of their own
# (docs/email.md#sending). Either one URL, smtp://user:password@host:587 (smtp+tls:// for
# STARTTLS, smtps:// or smtp+ssl:// for TLS from the first byte), or SKRANKE_SMTP_HOST with
# _PORT, _USER, _PASSWORD and _TLS (starttls, ssl or none). Unset, mail is printed to the
# console (console/locmem are for development: `check --deploy` flags them).
def _smtp_options() -> dict[str, object] | None:
    from urllib.parse import parse_qs, unquote, urlsplit

    url = os.environ.get("SKRANKE_SMTP_URL", "").strip()
    if url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in {"smtp", "smtp+tls", "smtp+starttls", "smtps", "smtp+ssl"}:
            raise ValueError(f"SKRANKE_SMTP_URL: unsupported scheme {parts.scheme!r}")
        query = parse_qs(parts.query)
        security = "ssl" if scheme in {"smtps", "smtp+ssl"} else "none"
        if scheme in {"smtp+tls", "smtp+starttls"}:
            security = "starttls"
        host, port = parts.hostname or "", parts.port
        username, password = unquote(parts.username or ""), unquote(parts.password or "")
        timeout = float(query["timeout"][0]) if "timeout" in query else 30.0
    else:
        host = os.environ.get("SKRANKE_SMTP_HOST", "").strip()
        if not host:
            return None
        port = int(os.environ.get("SKRANKE_SMTP_PORT", "0")) or None
        username = os.environ.get("SKRANKE_SMTP_USER", "")
        password = os.environ.get("SKRANKE_SMTP_PASSWORD", "")
        default_security = {465: "ssl", 587: "starttls"}.get(port or 0, "none")
        raw = os.environ.get("SKRANKE_SMTP_TLS", default_security).strip().lower()
        # Also a yes/no: "1"/"true" mean STARTTLS, "0"/"false" none.
        aliases = {"1": "starttls", "true": "starttls", "0": "none", "false": "none"}
        security = aliases.get(raw, raw)
        if security not in {"starttls", "ssl", "none"}:
            raise ValueError("SKRANKE_SMTP_TLS must be starttls, ssl or none")
        timeout = float(os.environ.get("SKRANKE_SMTP_TIMEOUT", "30"))
    if not host:
        raise ValueError("SKRANKE_SMTP_URL has no host")
    return {
        "host": host,
        "port": port or {"ssl": 465, "starttls": 587}.get(security, 25),
        "username": username,
        "password": password,
        "use_tls": security == "starttls",
        "use_ssl": security == "ssl",
        "timeout": timeout,
    }


_SMTP_OPTIONS = _smtp_options()
MAILERS = {
    "default": (
        {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": _SMTP_OPTIONS}
        if _SMTP_OPTIONS
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}

# --- Skranke ----------------------------------------------------------------------------------
# Largest attachment an agent or the API may upload (bytes). Email has its own limits.
SKRANKE_MAX_ATTACHMENT_BYTES = int(os.environ.get("SKRANKE_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
SKRANKE_QUEUE_PAGE_SIZE = 50
# Email intake (docs/email.md): a larger message still makes a case, with a note of what was
# refused; more than SKRANKE_MAIL_LOOP_LIMIT mails an hour from one sender are held, not cased.
SKRANKE_MAIL_MAX_MESSAGE_BYTES = int(
    os.environ.get("SKRANKE_MAIL_MAX_MESSAGE_BYTES", 50 * 1024 * 1024)
)
SKRANKE_MAIL_MAX_ATTACHMENT_BYTES = int(
    os.environ.get("SKRANKE_MAIL_MAX_ATTACHMENT_BYTES", SKRANKE_MAX_ATTACHMENT_BYTES)
)
SKRANKE_MAIL_LOOP_LIMIT = int(os.environ.get("SKRANKE_MAIL_LOOP_LIMIT", 30))

SESSION_COOKIE_HTTPONLY = True
# Behind TLS (the scaled set-up, or any public desk) set SKRANKE_HTTPS=1: secure cookies, HSTS
# and a redirect from plain HTTP; the proxy must send X-Forwarded-Proto.
if _env_bool("SKRANKE_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SKRANKE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Periodic jobs run every minute; their start/finish lines would drown the console.
        "django.tasks": {"level": os.environ.get("SKRANKE_TASK_LOG_LEVEL", "WARNING")},
    },
}
