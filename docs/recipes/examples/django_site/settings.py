"""Settings of a small Django project whose views call a shop API; the part that matters is LOGGING.

The integration id and the API keys come from the SENDCLOUD_* environment variables.
"""

import logging
import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "only-for-this-example")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "shopsync"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
USE_TZ = True

SHOP_URL = os.environ.get("SHOP_URL", "https://myshop.example")


class UnhandledOnly(logging.Filter):
    """Of Django's own django.request records, only those with an exception.

    Django logs every 5xx it answers there; one without an exception says nothing about the shop.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "django.request" or record.exc_info is not None


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"unhandled_only": {"()": "settings.UnhandledOnly"}},
    "handlers": {
        "sendcloud": {
            "class": "sendcloud_logging.SendcloudHandler",
            "level": "ERROR",
            "base_url": SHOP_URL,
            "filters": ["unhandled_only"],
        },
    },
    "loggers": {
        # What your own code logs with log.exception(...).
        "shopsync": {"handlers": ["sendcloud"], "level": "INFO"},
        # Unhandled exceptions in views: Django logs them here ("Internal Server Error: /path") with the
        # exception, so a requests error that escaped a view still arrives with its request and response.
        "django.request": {"handlers": ["sendcloud"], "level": "ERROR"},
    },
}
