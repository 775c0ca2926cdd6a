"""Django settings for videoroom, read from the environment (see .env.example)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url

from rooms.redis_target import RedisTarget, UrlTarget
from videoroom_project.config import (
    ConfigError,
    Env,
    read_allowed_origins,
    read_limits,
    read_media_config,
    read_ops_settings,
    read_redis_sentinel,
    read_videoroom_settings,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

DEBUG = env.boolean("DJANGO_DEBUG", default=False)
SECRET_KEY = env.string("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError("DJANGO_SECRET_KEY", "required unless DJANGO_DEBUG is true")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env.items("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.items("DJANGO_CSRF_TRUSTED_ORIGINS")
# Websocket Origins allowed (rooms/web/origins.py); empty: only the page's own origin.
VIDEOROOM_ALLOWED_ORIGINS = read_allowed_origins(env)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "rooms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 response.
    "axes.middleware.AxesMiddleware",
]

# Admin login throttling (django-axes): after VIDEOROOM_ADMIN_LOGIN_FAILURE_LIMIT wrong
# passwords for one username from one address, that pair is locked out for
# VIDEOROOM_ADMIN_LOGIN_LOCKOUT_MINUTES, whatever the password (HTTP 429). Attempts are
# stored in the database, so every web process sees them. The address is the ASGI
# client (daphne's --proxy-headers puts X-Forwarded-For there behind a proxy).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.integer("VIDEOROOM_ADMIN_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(
    minutes=env.number("VIDEOROOM_ADMIN_LOGIN_LOCKOUT_MINUTES", 15.0, minimum=1.0)
)
# Per username and address: one attacker cannot lock the real admin out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

ROOT_URLCONF = "videoroom_project.urls"
ASGI_APPLICATION = "videoroom_project.asgi.application"
# For `manage.py runserver` (daphne's); the daphne command lines pass the same values.
# Above PhoenixSocket.max_frame_bytes (1 MiB), so that the socket answers an oversized
# frame with close code 4009 instead of daphne dropping the connection (docs/protocol.md).
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = 2 * 1024 * 1024
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = 2 * 1024 * 1024

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

_database_url = env.string("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
except ValueError as error:
    raise ConfigError("DATABASE_URL", str(error)) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Room workers and daphne share the file. Write-ahead logging lets readers (joins'
    # policy reads, the admin) go on while a recorder writes; IMMEDIATE transactions take
    # the write lock when they begin, so a writer waits out the busy timeout instead of
    # failing at once with "database is locked" when two transactions that both read
    # first try to write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "dist"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Channel layer: Redis when REDIS_URL is set, otherwise the in-memory layer with
# the room worker embedded in the server process (DESIGN.md invariant 4).
VIDEOROOM = read_videoroom_settings(env)
VIDEOROOM_MEDIA = read_media_config(env)
VIDEOROOM_LIMITS = read_limits(env)
VIDEOROOM_OPS = read_ops_settings(env)

REDIS_URL = env.url("REDIS_URL", schemes=("redis", "rediss", "unix"))
# Or a master that Redis Sentinel names (docs/operations.md, Redis): exclusive with REDIS_URL.
REDIS_SENTINEL = read_redis_sentinel(env, REDIS_URL)
_REDIS_TARGET: RedisTarget | None = UrlTarget(REDIS_URL) if REDIS_URL else REDIS_SENTINEL
if _REDIS_TARGET is not None:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis, with a receive that waits out a Redis outage and sends
            # that fail fast with LayerUnavailable (docs/architecture.md, Redis outages).
            "BACKEND": "rooms.layers.ResilientRedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same as
                # channels-redis's 5 s BZPOPMIN: an idle receive then fails with
                # TimeoutError and kills the consumer or the worker's receive loop.
                "hosts": [_REDIS_TARGET.layer_host(socket_timeout=30)],
                "prefix": VIDEOROOM["REDIS_PREFIX"],
                # Media events arrive in bursts (ICE candidates, track events).
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # LOG_FORMAT=json: one object per line with room, peer and worker ids (docs/operations.md).
        "json": {"()": "rooms.metrics.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": VIDEOROOM_OPS["LOG_FORMAT"]}
    },
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "aioice": {"level": "WARNING"},
        "aiortc": {"level": "WARNING"},
    },
}
