"""Every setting of inboxbridge, read from the environment (and a `.env` file) in this one module.

The README lists each variable with its default; keep the two in step.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from dotenv import load_dotenv

from inboxbridge.lib.data_dir import stored_text

load_dotenv(os.environ.get("INBOXBRIDGE_ENV_FILE", ".env"), override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Values the environment got wrong: reported by the system check inboxbridge.E007 (configuration/
# checks.py) at start-up, which stops serve, worker and sync; importing the settings never exits.
SETTING_PROBLEMS: list[str] = []


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        SETTING_PROBLEMS.append(f"{name} must be a whole number, got {value!r}.")
        return default
    if minimum is not None and number < minimum:
        SETTING_PROBLEMS.append(f"{name} must be at least {minimum}, got {number}.")
        return default
    return number


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
# Importing the settings creates no file: the directory, the keys not set in the environment and
# the SQLite file are created at start-up (lib/data_dir.py, from the accounts app's ready()).
DATA_DIR = Path(env_str("INBOXBRIDGE_DATA_DIR") or Path.home() / ".local" / "share" / "inboxbridge")

DEBUG = env_bool("INBOXBRIDGE_DEBUG")
# A key the environment does not set is generated into its file at the first start.
SECRET_KEY_FILE = None if env_str("INBOXBRIDGE_SECRET_KEY") else DATA_DIR / "secret_key"
SECRET_KEY = env_str("INBOXBRIDGE_SECRET_KEY") or stored_text(SECRET_KEY_FILE)

# Several keys for rotation: the first encrypts, all decrypt (`inboxbridge manage reencrypt_secrets`).
ENCRYPTION_KEYS_FILE = None if env_list("INBOXBRIDGE_ENCRYPTION_KEYS") else DATA_DIR / "encryption.keys"
ENCRYPTION_KEYS = env_list("INBOXBRIDGE_ENCRYPTION_KEYS") or stored_text(ENCRYPTION_KEYS_FILE).split()

# The public URL the Redirect URI is built from; empty = the request's own scheme and host.
BASE_URL = env_str("INBOXBRIDGE_BASE_URL").rstrip("/")
_base_host = urlsplit(BASE_URL).hostname if BASE_URL else None
# Without a base URL only loopback names: a service reached by another name must be told it.
_LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = env_list("INBOXBRIDGE_ALLOWED_HOSTS") or ([_base_host] if _base_host else []) + _LOOPBACK_HOSTS
CSRF_TRUSTED_ORIGINS = env_list("INBOXBRIDGE_CSRF_TRUSTED_ORIGINS") or (
    [f"{urlsplit(BASE_URL).scheme}://{urlsplit(BASE_URL).netloc}"] if BASE_URL else []
)
# Behind a reverse proxy that sets X-Forwarded-Proto/-Host/-For, trust those headers (only then).
BEHIND_PROXY = env_bool("INBOXBRIDGE_BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# HTTPS follows the scheme each request was served with: every cookie of an https response is
# marked Secure (accounts.middleware.SecureCookiesMiddleware), and SecurityMiddleware sends HSTS on
# https responses only. An https base URL marks the cookies Secure on every response besides (the
# browser is on https whatever reaches waitress) and, behind a proxy that says which scheme it
# served, redirects plain http to https; /healthz stays on http for load balancers' probes.
_https = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https and BEHIND_PROXY
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("INBOXBRIDGE_HSTS_SECONDS", 365 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # the OAuth callback is a top-level GET from Microsoft: Lax keeps the session
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The Content-Security-Policy of every page (django-csp): scripts and style sheets only from this
# service's static files, no inline script or event handler, no plugins, no <base>, no framing
# (as X-Frame-Options). Style attributes are allowed: they cannot run code, and whatever they would
# load is held to default-src. A response with a policy of its own keeps it (the message frame and
# attachment parts have stricter ones). No form-action: the sign-in and connect forms answer with a
# redirect to the identity platform, and browsers hold that redirect to form-action as well.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",  # before accounts: its sign-in receivers run first, so ours see whether it locked
    "inboxbridge.accounts",
    "inboxbridge.configuration",
    "inboxbridge.events",
    "inboxbridge.microsoft",
    "inboxbridge.mailboxes",
    "inboxbridge.mail",
    "inboxbridge.sync",
    "inboxbridge.jobs",
    "inboxbridge.sending",
    "inboxbridge.signin",
    "inboxbridge.autoresponse",
    "inboxbridge.notifications",
    "inboxbridge.webhooks",
    "inboxbridge.api",
    "ninja",  # its Swagger UI files, served from here (no CDN)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "inboxbridge.accounts.middleware.SecureCookiesMiddleware",  # outside session and CSRF: sees their cookies
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: turns a lockout into the locked page
]

ROOT_URLCONF = "inboxbridge.urls"
WSGI_APPLICATION = "inboxbridge.wsgi.application"

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
                "inboxbridge.mailboxes.context_processors.mailbox_alerts",
                "inboxbridge.microsoft.context_processors.credential_alerts",
                "inboxbridge.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    # Created owner-only at start-up (lib/data_dir.py), before SQLite would create it through the umask.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "inboxbridge.sqlite3"),
            "OPTIONS": {
                # WAL lets the in-process worker write while pages read; IMMEDIATE avoids
                # "database is locked" when two writers upgrade their locks at once. 16 KB pages
                # (taken by a new database only) store attachments in a quarter of the pages:
                # about a tenth off a first sync (docs/benchmarks.md, "Sync").
                "init_command": "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Password sign-in against guessing (django-axes) ----------------------------------------------
# A user name with LOGIN_FAILURE_LIMIT failed sign-ins (from any address) is locked, and so is an
# address with that many (for any user names): the first stops guessing one account from many
# addresses, the second one address trying many accounts. The lock lasts LOGIN_LOCKOUT_MINUTES
# after the latest failure; failures within them count. Sign in with Microsoft is not a password
# sign-in and stays open. Administrators unlock with `inboxbridge manage axes_reset_username NAME`
# (or axes_reset_ip ADDRESS, axes_reset).
LOGIN_FAILURE_LIMIT = env_int("INBOXBRIDGE_LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("INBOXBRIDGE_LOGIN_LOCKOUT_MINUTES", 15)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked sign-in before the password is tried
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "inboxbridge.accounts.views.locked_out"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure kept (the latest 1000 per user name) for audit
AXES_VERBOSE = False
# The client's address: REMOTE_ADDR, or behind the proxy the right-most X-Forwarded-For entry, the
# one the proxy itself appended (what a client sends ahead of it is not trusted).
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if BEHIND_PROXY else ("REMOTE_ADDR",)
AXES_IPWARE_PROXY_COUNT = 0
IPWARE_STRICT = False  # a client's own X-Forwarded-For entries ahead of the proxy's do not void the header

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("INBOXBRIDGE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Microsoft identity platform and Office 365 mail hosts -------------------------------------
MICROSOFT_AUTHORITY_HOST = env_str("INBOXBRIDGE_MICROSOFT_AUTHORITY_HOST", "https://login.microsoftonline.com")
MICROSOFT_CLIENT_ID = env_str("INBOXBRIDGE_MICROSOFT_CLIENT_ID")
MICROSOFT_CLIENT_SECRET = env_str("INBOXBRIDGE_MICROSOFT_CLIENT_SECRET")
MICROSOFT_TENANT_ID = env_str("INBOXBRIDGE_MICROSOFT_TENANT_ID")
MICROSOFT_IMAP_HOST = env_str("INBOXBRIDGE_MICROSOFT_IMAP_HOST", "outlook.office365.com")
MICROSOFT_IMAP_PORT = env_int("INBOXBRIDGE_MICROSOFT_IMAP_PORT", 993)
MICROSOFT_SMTP_HOST = env_str("INBOXBRIDGE_MICROSOFT_SMTP_HOST", "smtp.office365.com")
MICROSOFT_SMTP_PORT = env_int("INBOXBRIDGE_MICROSOFT_SMTP_PORT", 587)
# The resource the mail scopes belong to; sovereign clouds use another one.
MICROSOFT_MAIL_RESOURCE = env_str("INBOXBRIDGE_MICROSOFT_MAIL_RESOURCE", "https://outlook.office.com")
CA_BUNDLE = env_str("INBOXBRIDGE_CA_BUNDLE")
HTTP_TIMEOUT = env_int("INBOXBRIDGE_HTTP_TIMEOUT", 20)

# --- "Other" (IMAP/SMTP with a password) mail servers: users name them, so they are vetted ------
# Deployment defaults of the settings on System > Configuration > Other Mail Servers.
OTHER_ACCOUNTS_ENABLED = env_bool("INBOXBRIDGE_OTHER_ACCOUNTS_ENABLED", True)
OTHER_ACCOUNTS_ALLOWED_HOSTS = env_str("INBOXBRIDGE_OTHER_ACCOUNTS_ALLOWED_HOSTS")
# Loopback, private and link-local addresses are refused unless this is set (on-premises servers).
ALLOW_PRIVATE_MAIL_HOSTS = env_bool("INBOXBRIDGE_ALLOW_PRIVATE_MAIL_HOSTS")
MAIL_CHECK_TIMEOUT = env_int("INBOXBRIDGE_MAIL_CHECK_TIMEOUT", 10)
MAIL_CHECKS_PER_10_MINUTES = env_int("INBOXBRIDGE_MAIL_CHECK_LIMIT", 5)

# --- Webhooks (docs/webhooks.md) ------------------------------------------------------------------
# Endpoints on loopback, private or link-local addresses are refused unless this is set.
WEBHOOKS_ALLOW_PRIVATE = env_bool("INBOXBRIDGE_WEBHOOKS_ALLOW_PRIVATE")
WEBHOOK_TIMEOUT_SECONDS = env_int("INBOXBRIDGE_WEBHOOK_TIMEOUT", 10, minimum=1)
# A delivery is retried (30 s, doubling, at most an hour apart) for this long, then given up.
WEBHOOK_RETRY_HOURS = env_int("INBOXBRIDGE_WEBHOOK_RETRY_HOURS", 24, minimum=1)
# After a rotation, deliveries are signed with the old secret too for this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("INBOXBRIDGE_WEBHOOK_SECRET_OVERLAP_HOURS", 24, minimum=0)
# Events (and their delivery log) are deleted after this many days.
EVENT_RETENTION_DAYS = env_int("INBOXBRIDGE_EVENT_RETENTION_DAYS", 7, minimum=2)

# --- Sending -------------------------------------------------------------------------------------
# The files one message may carry (attachments and inline images together, before encoding).
# Office 365 accepts 35 MB per message by default and base64 makes a file a third bigger, so
# 25 MB of files is the most that still goes through: lower it for a tenant with a lower limit.
SEND_MAX_BYTES = env_int("INBOXBRIDGE_SEND_MAX_BYTES", 25 * 1024 * 1024, minimum=1024 * 1024)

# --- Sync ----------------------------------------------------------------------------------------
MAIL_NETWORK_TIMEOUT = env_int("INBOXBRIDGE_MAIL_TIMEOUT", 60)
ATTACHMENT_MAX_BYTES = env_int("INBOXBRIDGE_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
# The most bytes of one message (one IMAP literal) read into memory; a bigger message keeps only
# its headers and is marked. Twice the attachment limit covers an attachment of that size in base64.
IMAP_MAX_LITERAL_BYTES = env_int("INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES", max(64 * 1024 * 1024, 2 * ATTACHMENT_MAX_BYTES),
                                 minimum=1024 * 1024)
# Per message: the text and the HTML body kept (each, bytes of UTF-8) and the body parts read; past
# them the message is cut and marked (lib/mime.py).
BODY_MAX_BYTES = env_int("INBOXBRIDGE_BODY_MAX_BYTES", 2 * 1024 * 1024)
MESSAGE_MAX_PARTS = env_int("INBOXBRIDGE_MESSAGE_MAX_PARTS", 1000)
# The HTML of one message sanitised for display; the page says when it was cut (lib/html.py).
HTML_MAX_BYTES = env_int("INBOXBRIDGE_HTML_MAX_BYTES", 2 * 1024 * 1024)
# Where attachment contents go: files (content-addressed, beside the SQLite database: each written
# once, streamed on download) or database (rows every machine of a fleet shares without a shared
# disk). The default follows the database. Contents already stored stay readable after a switch.
# Another value fails the system check inboxbridge.E006 (mail/checks.py) at start.
ATTACHMENT_STORE = env_str("INBOXBRIDGE_ATTACHMENT_STORE", "database" if DATABASE_URL else "files")
ATTACHMENTS_DIR = Path(env_str("INBOXBRIDGE_ATTACHMENTS_DIR") or DATA_DIR / "attachments")
SYNC_BATCH_SIZE = env_int("INBOXBRIDGE_SYNC_BATCH_SIZE", 200)
SYNC_INTERVAL_SECONDS = env_int("INBOXBRIDGE_SYNC_INTERVAL", 60)
SYNC_TIME_BUDGET_SECONDS = env_int("INBOXBRIDGE_SYNC_TIME_BUDGET", 60)
SYNC_MAX_BACKOFF_SECONDS = env_int("INBOXBRIDGE_SYNC_MAX_BACKOFF", 30 * 60)
SYNC_LEASE_SECONDS = env_int("INBOXBRIDGE_SYNC_LEASE", 5 * 60)
# Syncs of at least this many messages parse in a helper process while the main one writes.
SYNC_PARALLEL_MIN_MESSAGES = env_int("INBOXBRIDGE_SYNC_PARALLEL_MIN_MESSAGES", 300)
SYNC_CONNECTIONS = env_int("INBOXBRIDGE_SYNC_CONNECTIONS", 2)
# A system mailbox whose sync failed this many times in a row (with the back-off, about half an hour at
# the defaults) alerts its administrators and alert recipients (mailboxes/alerts.py); below 1 fails E007.
MAILBOX_ALERT_AFTER_FAILURES = env_int("INBOXBRIDGE_MAILBOX_ALERT_AFTER_FAILURES", 5, minimum=1)

# --- Mail the application sends itself, and notifications --------------------------------------------
# Django's mail (notifications, and anything a host application sends) goes through a system mailbox
# with its own credential (sending/email_backend.py): the one whose address INBOXBRIDGE_EMAIL_MAILBOX
# names, else the one picked in System > Configuration > Email Configuration > Application Email. With
# neither, nothing is sent and the error says so. INBOXBRIDGE_EMAIL_BACKEND picks another Django backend
# (e.g. django.core.mail.backends.smtp.EmailBackend with Django's EMAIL_HOST settings, or .console).
APPLICATION_EMAIL_MAILBOX = env_str("INBOXBRIDGE_EMAIL_MAILBOX").lower()
EMAIL_BACKEND = env_str("INBOXBRIDGE_EMAIL_BACKEND", "inboxbridge.sending.email_backend.SystemMailboxEmailBackend")
# The system mailbox backend sends From the mailbox whatever this says (Exchange refuses other senders).
DEFAULT_FROM_EMAIL = env_str("INBOXBRIDGE_DEFAULT_FROM_EMAIL") or APPLICATION_EMAIL_MAILBOX or "webmaster@localhost"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# How often the notifications job looks for new incidents and hands out emails to send (again).
NOTIFICATIONS_INTERVAL_SECONDS = env_int("INBOXBRIDGE_NOTIFICATIONS_INTERVAL", 60, minimum=5)
# A user's mailbox whose sync has failed for this many hours (since its last success) notifies its owner.
NOTIFY_SYNC_FAILING_HOURS = env_int("INBOXBRIDGE_NOTIFY_SYNC_FAILING_HOURS", 24, minimum=1)
# Notifications are deleted this many days after they were made, once their incident is over.
NOTIFICATION_RETENTION_DAYS = env_int("INBOXBRIDGE_NOTIFICATION_RETENTION_DAYS", 90, minimum=1)

# --- REST API (docs/api.md) ------------------------------------------------------------------------
# Requests per minute per API token; past it the API answers 429 with Retry-After. Counted in the
# cache: per process with the default in-memory cache, fleet-wide with INBOXBRIDGE_CACHE_URL.
API_RATE_LIMIT_PER_MINUTE = env_int("INBOXBRIDGE_API_RATE_LIMIT", 600, minimum=1)
# How long an Idempotency-Key of a send is remembered (hours).
API_IDEMPOTENCY_HOURS = env_int("INBOXBRIDGE_API_IDEMPOTENCY_HOURS", 24, minimum=1)
# How long a connect link (POST /api/v1/mailboxes/connect-links) may be opened (minutes).
API_CONNECT_LINK_MINUTES = env_int("INBOXBRIDGE_API_CONNECT_LINK_MINUTES", 30, minimum=1)
# A Redis URL (redis://...) for a cache every process shares (the API's rate limits); default: in-memory.
CACHE_URL = env_str("INBOXBRIDGE_CACHE_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
          if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks ------------------------------------------------------------------------------
# database: django-tasks-db, the embedded default (SQLite or PostgreSQL); redis: RQ through
# django-tasks-rq for fleets; immediate: run tasks inline (tests, debugging).
# Another value fails the system check inboxbridge.E005 (jobs/checks.py) at start.
TASKS_BACKEND = env_str("INBOXBRIDGE_TASKS_BACKEND", "database")
REDIS_URL = env_str("INBOXBRIDGE_REDIS_URL", "redis://127.0.0.1:6379/0")
# The longest any one task may run before RQ stops it; a sync slice is far shorter (its time budget).
TASK_TIMEOUT_SECONDS = env_int("INBOXBRIDGE_TASK_TIMEOUT", 3600)
if TASKS_BACKEND == "redis":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": TASK_TIMEOUT_SECONDS}}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# `inboxbridge serve` works through the database queue in-process unless told not to.
EMBEDDED_WORKER = env_bool("INBOXBRIDGE_EMBEDDED_WORKER", TASKS_BACKEND == "database")
# How often each scheduler loop looks for due mailboxes (a due mailbox waits at most this long).
SCHEDULER_TICK_SECONDS = env_int("INBOXBRIDGE_SCHEDULER_TICK", 5)
# Every worker and scheduler loop writes a heartbeat this often; /healthz answers 503 when the
# freshest one is older than HEARTBEAT_MAX_AGE_SECONDS.
HEARTBEAT_SECONDS = env_int("INBOXBRIDGE_HEARTBEAT", 10)
HEARTBEAT_MAX_AGE_SECONDS = env_int("INBOXBRIDGE_HEARTBEAT_MAX_AGE", 120)
HOUSEKEEPING_INTERVAL_SECONDS = env_int("INBOXBRIDGE_HOUSEKEEPING_INTERVAL", 3600)
# Finished task results (database backend, and failed RQ jobs) are deleted after this many days.
TASK_RESULT_RETENTION_DAYS = env_int("INBOXBRIDGE_TASK_RESULT_RETENTION_DAYS", 7)
# The per-sync run log (who synced which mailbox when); 0 turns it off.
SYNC_RUN_RETENTION_HOURS = env_int("INBOXBRIDGE_SYNC_RUN_RETENTION_HOURS", 24)

LOG_LEVEL = env_str("INBOXBRIDGE_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "inboxbridge.lib.redact.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "msal": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # The Tasks API logs every task start at INFO: one line per mailbox per minute is noise.
        "django_tasks": {"level": "WARNING"},
        # django-axes masks the user name in its own lines; accounts.audit logs sign-in failures instead.
        "axes": {"level": "ERROR"},
        # Django's own handlers (a console one in debug mode, error emails, the development server's
        # request lines with their query strings) would write without the redacting filter: every
        # Django line goes to the one filtered console instead.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["console"], "propagate": False},
    },
}
