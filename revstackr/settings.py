"""RevStackr settings, read from the environment.

Every value has a default that needs nothing on one machine: a SQLite file,
django-q2's ORM broker, mail printed to the console. Production sets
``DATABASE_URL`` (PostgreSQL through psycopg 3), ``REDIS_URL``,
``SECRET_KEY``, ``TOKEN_ENCRYPTION_KEYS``, ``ALLOWED_HOSTS`` and
``DEBUG=false``; see README.md for the full list.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("REVSTACKR_VAR_DIR", default=str(BASE_DIR / "var")))

VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # optional; values already set win

DEBUG = env.bool("DEBUG", default=False)

# The default key only suits a developer's machine; `check --deploy` flags
# it, and production must set its own.
SECRET_KEY = env.str(
    "SECRET_KEY", default="django-insecure-revstackr-development-key-change-me"
)

# Where people reach the app, for links in emails sent outside a request.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth.usersessions' pages
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "django_q",
    "accounts",
    "staff",
    "contacts",
    "conversations",
    "mailsync",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mailsync.middleware.ConsentPopupOpenerMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "revstackr.urls"
WSGI_APPLICATION = "revstackr.wsgi.application"

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
            ],
        },
    },
]

# Database

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'revstackr.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; immediate
    # transactions take the write lock up front, so two writers queue on
    # the busy timeout instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts and sign-in

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.EmployeeBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False

# Two-factor sign-in with an authenticator app, and recovery codes for a
# lost phone. Employees turn it on for themselves under Settings.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "RevStackr"

# allauth.usersessions records which sessions belong to whom, so that
# deactivating an employee can end every session they have; it does not
# track activity per request.
USERSESSIONS_TRACK_ACTIVITY = False

# Mail a person receives (invitations, password resets, disconnect notices).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "outbox"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="RevStackr <noreply@localhost>"
)


def _development_token_key(secret: str) -> str:
    digest = hashlib.sha256(f"revstackr-tokens:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Fernet keys for provider tokens at rest. The first key encrypts; every key
# decrypts, so a new key goes first and old ones stay until re-encrypted.
TOKEN_ENCRYPTION_KEYS = env.list(
    "TOKEN_ENCRYPTION_KEYS", default=[_development_token_key(SECRET_KEY)]
)

# Task queue

REDIS_URL = env.str("REDIS_URL", default="")

# A task must finish well inside `timeout`, and `retry` must exceed it, or a
# slow task is handed to a second worker while the first still runs it.
Q_CLUSTER = {
    "name": "revstackr",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "save_limit": 500,
    "catch_up": False,
    "poll": 1,
    "orm": None if REDIS_URL else "default",
    "redis": REDIS_URL or None,
}
if not REDIS_URL:
    del Q_CLUSTER["redis"]
else:
    del Q_CLUSTER["orm"]

# Mail providers
#
# By default every provider URL points at the local sandbox
# (`python -m mailsync.sandbox`); USE_REAL_PROVIDERS=true points them at
# Google and Microsoft. allauth reads Google's URLs when its views module is
# imported, so they are settled here, before Django starts.

PROVIDER_SANDBOX_URL = env.str(
    "PROVIDER_SANDBOX_URL", default="http://127.0.0.1:8025"
).rstrip("/")
USE_REAL_PROVIDERS = env.bool("USE_REAL_PROVIDERS", default=False)

if USE_REAL_PROVIDERS:
    GOOGLE_ENDPOINTS = {
        "authorize": "https://accounts.google.com/o/oauth2/v2/auth",
        "token": "https://oauth2.googleapis.com/token",
        "certs": "https://www.googleapis.com/oauth2/v1/certs",
        "issuer": "https://accounts.google.com",
        "userinfo": "https://www.googleapis.com/oauth2/v2/userinfo",
        "revoke": "https://oauth2.googleapis.com/revoke",
        "api_root": "https://gmail.googleapis.com/",
    }
    MICROSOFT_ENDPOINTS = {
        "login": "https://login.microsoftonline.com",
        "graph": "https://graph.microsoft.com",
    }
else:
    GOOGLE_ENDPOINTS = {
        "authorize": f"{PROVIDER_SANDBOX_URL}/google/o/oauth2/v2/auth",
        "token": f"{PROVIDER_SANDBOX_URL}/google/token",
        "certs": f"{PROVIDER_SANDBOX_URL}/google/oauth2/v1/certs",
        "issuer": f"{PROVIDER_SANDBOX_URL}/google",
        "userinfo": f"{PROVIDER_SANDBOX_URL}/google/oauth2/v2/userinfo",
        "revoke": f"{PROVIDER_SANDBOX_URL}/google/revoke",
        "api_root": f"{PROVIDER_SANDBOX_URL}/",
    }
    MICROSOFT_ENDPOINTS = {
        "login": f"{PROVIDER_SANDBOX_URL}/microsoft",
        "graph": f"{PROVIDER_SANDBOX_URL}/graph",
    }
MICROSOFT_TENANT = env.str("MICROSOFT_TENANT", default="common")

# Read and send, nothing more (least privilege).
GOOGLE_SCOPES = [
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.send",
]
MICROSOFT_SCOPES = [
    "openid",
    "email",
    "profile",
    "offline_access",
    "User.Read",
    "Mail.ReadWrite",
    "Mail.Send",
]

SOCIALACCOUNT_ADAPTER = "mailsync.adapters.MailboxConnectionAdapter"
SOCIALACCOUNT_STORE_TOKENS = False  # tokens live encrypted on the Mailbox
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": [
            {
                "client_id": env.str(
                    "GOOGLE_CLIENT_ID", default="revstackr-sandbox-google"
                ),
                "secret": env.str("GOOGLE_CLIENT_SECRET", default="sandbox-secret"),
            }
        ],
        "SCOPE": GOOGLE_SCOPES,
        "AUTH_PARAMS": {"access_type": "offline", "prompt": "consent"},
        "OAUTH_PKCE_ENABLED": True,
        "AUTHORIZE_URL": GOOGLE_ENDPOINTS["authorize"],
        "ACCESS_TOKEN_URL": GOOGLE_ENDPOINTS["token"],
        "CERTS_URL": GOOGLE_ENDPOINTS["certs"],
        "ID_TOKEN_ISSUER": GOOGLE_ENDPOINTS["issuer"],
        "IDENTITY_URL": GOOGLE_ENDPOINTS["userinfo"],
    },
    "microsoft": {
        "APPS": [
            {
                "client_id": env.str(
                    "MICROSOFT_CLIENT_ID", default="revstackr-sandbox-microsoft"
                ),
                "secret": env.str("MICROSOFT_CLIENT_SECRET", default="sandbox-secret"),
                "settings": {
                    "tenant": MICROSOFT_TENANT,
                    "login_url": MICROSOFT_ENDPOINTS["login"],
                    "graph_url": MICROSOFT_ENDPOINTS["graph"],
                },
            }
        ],
        "SCOPE": MICROSOFT_SCOPES,
        "OAUTH_PKCE_ENABLED": True,
    },
}

# Internationalisation

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# Files attached to mail written in the CRM wait here until the worker sends
# them. TODO: the worker reads them from this folder, so workers on other
# machines than the web server need it on a shared volume (or "default" in
# STORAGES set to an object store); until then they fail such sends.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production runs collectstatic and sets the manifest storage for
        # cache-busting names; the default needs no build step.
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedStaticFilesStorage",
        )
    },
}
# Without a collectstatic run (tests, a quick start), serve from the finders.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG

# Security

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("BEHIND_TLS_PROXY", default=False)
    else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Logging

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"werkzeug": {"level": "WARNING"}},
}
