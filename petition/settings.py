"""Settings for the petition site, driven by environment variables.

With no environment at all this runs the embedded default: an SQLite file, Celery tasks run
eagerly in-process, emails printed to the console, DEBUG on and a development-only secret.
Production sets DEBUG=false and must then provide SECRET_KEY and ALLOWED_HOSTS; see
.env.example and the README for every variable.
"""

import sys
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

from celery.schedules import crontab
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy
from kombu import Queue

from petition.env import (
    cache_url,
    database_config,
    email_config,
    env_bool,
    env_int,
    env_list,
    env_str,
)
from petition.languages import all_languages

BASE_DIR = Path(__file__).resolve().parent.parent


def _missing(name: str) -> None:
    """Stop start-up with one readable line instead of a traceback."""
    sys.exit(f"Configuration error: {name} must be set when DEBUG is false (see .env.example).")


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        _missing("SECRET_KEY")
    # Development only: never valid in production because DEBUG=false requires a real key.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    if not DEBUG:
        _missing("ALLOWED_HOSTS")
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

# Number of reverse proxies in front of the app that append to X-Forwarded-For. 0 means the
# client address is REMOTE_ADDR and X-Forwarded-For is ignored, so it cannot be forged.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

HTTPS = env_bool("HTTPS", not DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_countries",
    "django_ratelimit",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "statements",
    "statements.outbox",
    "exports",
    "ops",
]

MIDDLEWARE = [
    # Request ids, request metrics, and the health and metrics endpoints (ops/middleware.py).
    "ops.middleware.OperationsMiddleware",
    # Bodies checked from their headers before anything reads them: no file where none is
    # expected, nothing larger than its route takes (statements/bodies.py).
    "statements.bodies.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Above LocaleMiddleware, so that its redirects to a language get the header too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 304 answers from the ETag and Last-Modified that the next one stamps.
    "django.middleware.http.ConditionalGetMiddleware",
    # Public pages say so in their headers, after every middleware below had its say (a
    # cookie or Vary: Cookie added by any of them makes the page private again).
    "statements.caching.SharedCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "statements.middleware.SiteLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "statements.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "petition.urls"
WSGI_APPLICATION = "petition.wsgi.application"
ASGI_APPLICATION = "petition.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "statements.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (psycopg 3 with its connection pool); without it, SQLite.
DATABASES = {
    "default": database_config(
        env_str("DATABASE_URL", ""),
        sqlite_path=BASE_DIR / "db.sqlite3",
        pool_max=env_int("DATABASE_POOL_MAX", 8),
    )
}
# DATABASE_REPLICA_URL: a read replica of the same database, for the reads that may be a moment
# old (exports, public lists, staff dashboards); see ops/routers.py. Under the test runner it
# names the primary's test database, as a replica would show the same rows.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_config(
        DATABASE_REPLICA_URL,
        sqlite_path=BASE_DIR / "db.sqlite3",
        pool_max=env_int("DATABASE_POOL_MAX", 8),
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["ops.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker on one logical database, cache on another --------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis: one connection pool per process, a client kept per thread, incr
            # in one round trip that keeps the key's expiry. Its client here answers from
            # memory while Redis is unreachable (allauth's sign-in limits and spent TOTP
            # codes live in this cache): see petition/cache_fallback.py.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": cache_url(REDIS_URL, env_int("REDIS_CACHE_DB", 1)),
            "KEY_PREFIX": "petition",
            "TIMEOUT": 300,
            "OPTIONS": {
                "CLIENT_CLASS": "petition.cache_fallback.MemoryFallbackClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "petition",
        }
    }
# Per process: rendered template fragments that depend on nothing but the language (the sign
# form's country list), cheaper to keep in memory than to fetch from Redis.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": 3600,
}

SILENCED_SYSTEM_CHECKS = []
if not REDIS_URL:
    # The embedded default runs one process, where the local-memory cache is shared by every
    # request; production always sets REDIS_URL (django-redis, which django-ratelimit supports).
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
# A worker killed mid-task must not acknowledge it, so the task is delivered again.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_PREFETCH_MULTIPLIER", 4)
# Celery's Django fixup closes the database connections before and after every task; with
# the connection pool that closes the pool itself, so each task connects again (a new
# PostgreSQL backend per email). Recycle only every so many tasks; between tasks the
# connection goes back to the pool, as after a web request (petition/celery.py).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
# Every countdown, retry and time limit stays well below this (see statements/tasks.py).
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing gives up quickly while the broker is down: what was not handed over stays in the
# outbox, which the relay hands over again on its next tick.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Declared, so that a plain `celery -A petition worker` consumes every queue; larger
# installations run dedicated workers with -Q email or -Q exports.
CELERY_TASK_QUEUES = (Queue("default"), Queue("email"), Queue("exports"))
CELERY_TASK_ROUTES = {
    "exports.tasks.export_build": {"queue": "exports"},
    "statements.tasks.public_lists_build": {"queue": "exports"},
    "statements.outbox.tasks.*": {"queue": "email"},
}
# Where beat keeps its record of the last runs (the container image points it at /tmp).
CELERY_BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILE", "celerybeat-schedule")
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_BEAT_SCHEDULE = {
    # The outbox relay's tick (statements/outbox/relay.py): an email waits at most this long
    # before it is handed to a sender. A tick older than its expiry is dropped unrun.
    "outbox-relay": {
        "task": "statements.outbox.tasks.outbox_relay",
        "schedule": timedelta(seconds=1),
        "options": {"expires": 10},
    },
    "signature-purge": {
        "task": "statements.tasks.signature_purge",
        "schedule": crontab(minute=17, hour=3),
    },
    "counts-refresh": {
        "task": "statements.tasks.counts_refresh",
        "schedule": timedelta(seconds=30),
    },
    # The open-data history: hourly buckets, rebuilt often enough that the current hour's
    # is at most this old (a refresh rewrites only the buckets that changed).
    "history-refresh": {
        "task": "statements.tasks.history_refresh",
        "schedule": timedelta(minutes=env_int("HISTORY_REFRESH_MINUTES", 5)),
    },
    "exports-expire": {
        "task": "exports.tasks.exports_expire",
        "schedule": crontab(minute=41),
    },
    "public-lists-refresh": {
        "task": "statements.tasks.public_lists_refresh",
        "schedule": timedelta(minutes=5),
    },
}

# --- Email ----------------------------------------------------------------------------------
MAILERS = {"default": email_config(env_str("EMAIL_URL", ""), timeout=env_int("EMAIL_TIMEOUT", 10))}
# The outbox (statements/outbox/): emails per batch, emails claimed and unsent at most, how
# long a claimed batch may wait in the broker before it is claimed again, and how long a
# transient failure is retried (with backoff up to the maximum).
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100)
# Connections to the mail server one batch may use at once (threads of the sending task, so
# that the waits for the server overlap), at most one per OUTBOX_EMAILS_PER_CONNECTION emails:
# a small batch goes over one connection.
OUTBOX_SMTP_CONNECTIONS = env_int("OUTBOX_SMTP_CONNECTIONS", 4)
OUTBOX_EMAILS_PER_CONNECTION = env_int("OUTBOX_EMAILS_PER_CONNECTION", 20)
OUTBOX_MAX_IN_FLIGHT = env_int("OUTBOX_MAX_IN_FLIGHT", 2000)
OUTBOX_CLAIM_SECONDS = env_int("OUTBOX_CLAIM_SECONDS", 30)
OUTBOX_RETRY_HOURS = env_int("OUTBOX_RETRY_HOURS", 48)
OUTBOX_RETRY_MAX_MINUTES = env_int("OUTBOX_RETRY_MAX_MINUTES", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Solidarity petition <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's name in email subjects, senders and pages. Empty: "Solidarity petition" in the
# reader's language; a name set here is a proper name, shown as it is in every language.
SITE_NAME = env_str("SITE_NAME", "")
# Where people write to: the Reply-To of every email and the contact in the privacy notice.
# Default: the address of DEFAULT_FROM_EMAIL (set a mailbox someone reads in production).
CONTACT_EMAIL = env_str("CONTACT_EMAIL", "") or parseaddr(DEFAULT_FROM_EMAIL)[1]
# Who is responsible for the signers' data (the privacy notice names it).
DATA_CONTROLLER = env_str("DATA_CONTROLLER", "International Socialist League")

# --- Internationalisation -------------------------------------------------------------------
# The interface's fallback: messages a catalogue lacks are shown in English. Visitors without
# a preference get the statement's original language (statements/languages.py).
LANGUAGE_CODE = "en"
LANGUAGES = all_languages()
# locale/ is the project's own catalogue (makemessages); locale-libraries/ holds messages of
# the libraries that they do not translate themselves (Kazakh country names, for one).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale-libraries"]
USE_I18N = True
# Country names as people write them, where the list's own are odd ("Naoero", "Bahamas
# (The)") or read oddly in a language of ours (inverted Russian names, Kazakh "Конго" for
# the Democratic Republic). Translated in locale/; a language without our catalogue shows
# these English names.
COUNTRIES_OVERRIDE = {
    "BS": gettext_lazy("Bahamas"),
    "CD": gettext_lazy("Democratic Republic of the Congo"),
    "CG": gettext_lazy("Republic of the Congo"),
    "FK": gettext_lazy("Falkland Islands"),
    "FM": gettext_lazy("Micronesia"),
    "MF": gettext_lazy("Saint Martin"),
    "MM": gettext_lazy("Myanmar"),
    "NR": gettext_lazy("Nauru"),
    "PS": gettext_lazy("Palestine"),
    "SX": gettext_lazy("Sint Maarten"),
    "VG": gettext_lazy("British Virgin Islands"),
    "VI": gettext_lazy("United States Virgin Islands"),
}
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_SECURE = HTTPS
# The public pages' language links set it from the page (static/js/site.js), and the staff
# pages' language form through Django: both must be able to replace it. It holds a language
# code, nothing to protect from scripts.
LANGUAGE_COOKIE_HTTPONLY = False
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
# Where collectstatic writes; the benchmark points it at a scratch folder.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The public lists of signatories, built by a task and served by nginx (deploy/nginx/): a
# file per statement, language and format, at the path of its address.
PUBLIC_LISTS_ROOT = Path(env_str("PUBLIC_LISTS_ROOT", str(BASE_DIR / "public")))
# A change to the public set rebuilds them at most this often; without changes, they are
# rebuilt after PUBLIC_LISTS_MAX_AGE.
PUBLIC_LISTS_SECONDS = env_int("PUBLIC_LISTS_SECONDS", 60)
PUBLIC_LISTS_MAX_AGE = env_int("PUBLIC_LISTS_MAX_AGE", 3600)
# Private files (exports): never under STATIC_ROOT, never served directly.
PRIVATE_STORAGE_ROOT = Path(env_str("PRIVATE_STORAGE_ROOT", str(BASE_DIR / "private")))

# --- Security -------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Messages (staff pages, sign-in) live in the session: the default, a signed cookie, builds
# its signer on every request, public pages included, where no message is ever shown.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks and the metrics scraper call over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$", r"^metrics$"]
# Form posts larger than this are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# Where a file is expected (the paper-signature import, the admin), bodies up to this size.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", 20) * 1024 * 1024

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Staff accounts, signed in by email address (accounts/models.py).
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- Staff accounts (django-allauth) --------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# The user model has no username: the email address is the identifier (USERNAME_FIELD).
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_ADAPTER = "accounts.adapter.StaffAccountAdapter"
# A staff account keeps the one address it was invited with: a further address is how one
# account could claim an invitation meant for another (accounts/services.py).
ACCOUNT_MAX_EMAIL_ADDRESSES = 1
# Sign-up is closed: nothing to invite an unknown address to, and no reason to let anyone make
# the site email any address. The reset page answers the same either way.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_FORMS = {"add_email": "accounts.allauth_forms.StaffAddEmailForm"}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "staff:home"
# Audited through the adapter; also emailed, so a staff member learns of a change they did
# not make (password, second factor, recovery codes).
ACCOUNT_EMAIL_NOTIFICATIONS = True
# allauth's defaults, spelled out because they are part of the threat model: guessing is
# limited per client address (the trusted-proxy rule, see the adapter) and per account.
# They count in the cache, so production needs REDIS_URL (the local-memory cache is per
# process).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    "signup": "20/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Recovery codes are shown once, straight after enrolling (see the adapter), and never again:
# a later session can only make new ones.
MFA_RECOVERY_CODES_SHOW_ONCE = True
# TOTP cannot be switched off while STAFF_REQUIRE_MFA holds, and never with the password alone.
MFA_ADAPTER = "accounts.adapter.StaffMFAAdapter"
MFA_FORMS = {"deactivate_totp": "accounts.allauth_forms.StaffDeactivateTOTPForm"}
MFA_TOTP_ISSUER = "Solidarity petition"
# Accept the previous and next 30-second code too: phones' clocks drift.
MFA_TOTP_TOLERANCE = 1
# Staff must enrol TOTP before any staff page; only the embedded default may turn it off.
STAFF_REQUIRE_MFA = env_bool("STAFF_REQUIRE_MFA", True)
if not STAFF_REQUIRE_MFA and not DEBUG:
    sys.exit("Configuration error: STAFF_REQUIRE_MFA=false is only allowed when DEBUG is true.")
STAFF_INVITATION_MAX_AGE = timedelta(days=env_int("STAFF_INVITATION_DAYS", 3))

# --- Signing --------------------------------------------------------------------------------
SIGNATURE_TOKEN_MAX_AGE = timedelta(days=env_int("SIGNATURE_TOKEN_DAYS", 7))
WITHDRAW_TOKEN_MAX_AGE = timedelta(days=env_int("WITHDRAW_TOKEN_DAYS", 365))
SIGNATURE_RETENTION = timedelta(days=env_int("SIGNATURE_RETENTION_DAYS", 30))
SIGNATURE_MAX_EMAILS = env_int("SIGNATURE_MAX_EMAILS", 3)
# How long the thanks page after signing names the address the email went to and offers to
# send it again (a signed value in its address, statements/thanks.py).
THANKS_LINK_MAX_AGE = timedelta(minutes=env_int("THANKS_LINK_MINUTES", 60))
# How long a browser that confirmed a signature is spared the call to sign (a cookie that
# the statement page's script reads, never the server).
SIGNED_COOKIE_AGE = env_int("SIGNED_COOKIE_DAYS", 365) * 24 * 3600
# Key for hashing client IP addresses; derived from SECRET_KEY unless set.
IP_HASH_KEY = env_str("IP_HASH_KEY", "")
PRIVACY_NOTICE_VERSION = "2026-11"
COUNTS_CACHE_SECONDS = env_int("COUNTS_CACHE_SECONDS", 10)
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 10)
# The public pages, counts.json and the public lists are the same for every visitor and say
# so: browsers and shared caches (nginx, a CDN) keep them this long (max-age, s-maxage), and
# may serve them this much longer while they fetch a fresh copy (stale-while-revalidate).
# With the counts' own memo (2 s) the counts a visitor sees are at most ~10 s old.
PUBLIC_CACHE_SECONDS = env_int("PUBLIC_CACHE_SECONDS", 5)
PUBLIC_STALE_SECONDS = env_int("PUBLIC_STALE_SECONDS", 3)
# How long a shared cache may keep serving a public page while the site answers with errors
# (stale-if-error): the statement stays readable through an outage.
PUBLIC_STALE_IF_ERROR_SECONDS = env_int("PUBLIC_STALE_IF_ERROR_SECONDS", 86400)
# The picture a shared link shows (title and count) is drawn at most this often per
# statement and language, and kept this long by crawlers and shared caches.
OG_IMAGE_SECONDS = env_int("OG_IMAGE_SECONDS", 300)

RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True
# Budgets for the sign form, in django-ratelimit's "count/period" notation, counted for
# valid forms only. One address may be a whole meeting on one Wi-Fi (or a workplace behind
# one NAT): a hundred people sign within ten minutes. Floods are held by the per-email
# budget, the double opt-in (nothing counts unconfirmed), nginx's limit_req, and the staff's
# IP-hash trends and invalidations (README, "Rate limits").
SIGN_RATE_IP_BURST = env_str("SIGN_RATE_IP_BURST", "100/10m")
SIGN_RATE_IP_SUSTAINED = env_str("SIGN_RATE_IP_SUSTAINED", "300/h")
SIGN_RATE_EMAIL = env_str("SIGN_RATE_EMAIL", "3/h")
# Searches of the public list of signatories per client.
SIGNATORIES_SEARCH_RATE = env_str("SIGNATORIES_SEARCH_RATE", "30/m")

EXPORT_MAX_AGE = timedelta(days=env_int("EXPORT_DAYS", 7))

# --- Operations -----------------------------------------------------------------------------
# Bearer token that opens /metrics and the health details to callers other than this host's
# loopback (Prometheus, remote probes); see ops/access.py.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Error reports to Sentry (ops/sentry.py): no personal data, no request bodies.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    from ops import sentry

    sentry.init(
        SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", ""),
        release=env_str("SENTRY_RELEASE", ""),
    )

# --- Logging: no personal data; the formatter never receives emails or IPs ------------------
# LOG_FORMAT=json writes one JSON object per line, with the request id (ops/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    sys.exit(f"Configuration error: LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
# Celery's worker then logs through the same configuration instead of its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "ops.logs.JsonFormatter"},
    },
    # Paths in log lines name the route, not the credential a link carries in its path
    # (petition/access_log.py): on the request loggers, and on every line that is written.
    "filters": {"routes": {"()": "petition.access_log.RouteFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["routes"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["routes"]},
        # Request logs would carry query strings (tokens); errors still reach "django".
        "django.server": {"level": "WARNING", "filters": ["routes"]},
    },
}
