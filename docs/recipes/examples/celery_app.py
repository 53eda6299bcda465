"""A Celery app whose tasks call a shop API; the worker runs with the prefork pool (Celery's default).

    celery -A celery_app worker --loglevel=INFO

Celery sets up logging in the worker's main process, before it forks the pool's children: a receiver of
``setup_logging`` makes Celery use our configuration instead of its own. Each child notices it was forked
and starts its own delivery thread. Children end with ``os._exit``, which skips ``logging.shutdown()``, so
``worker_process_shutdown`` delivers what they still hold.

The integration id and API keys come from the SENDCLOUD_* environment variables; the broker from
CELERY_BROKER_URL (or, for a quick local try without a broker server, a folder: CELERY_BROKER_FOLDER).
"""

import logging
import logging.config
import os

import requests
from celery import Celery
from celery.signals import setup_logging, worker_process_shutdown

from sendcloud_logging import SendcloudHandler

SHOP_URL = os.environ.get("SHOP_URL", "https://myshop.example")

app = Celery("celery_app", broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"))
app.conf.task_ignore_result = True
if os.environ.get("CELERY_BROKER_FOLDER"):  # kombu's filesystem transport: no broker server needed
    folder = os.environ["CELERY_BROKER_FOLDER"]
    app.conf.broker_url = "filesystem://"
    app.conf.broker_transport_options = {
        "data_folder_in": folder,
        "data_folder_out": folder,
        "control_folder": os.path.join(folder, "control"),
        "polling_interval": 0.1,
    }
    app.conf.worker_enable_remote_control = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "level": "ERROR", "base_url": SHOP_URL},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "celery_app": {"handlers": ["sendcloud"], "level": "INFO"},
        # Exceptions a task does not catch: "Task celery_app.post_note[<id>] raised unexpected: HTTPError(...)".
        "celery.app.trace": {"handlers": ["sendcloud"], "level": "ERROR"},
    },
}


@setup_logging.connect
def configure_logging(**kwargs: object) -> None:
    """Celery leaves logging alone when this signal has a receiver."""
    logging.config.dictConfig(LOGGING)


@worker_process_shutdown.connect
def deliver_before_exit(**kwargs: object) -> None:
    """A pool child ends with os._exit: deliver what its handler still holds (summaries included) first."""
    for name in ("celery_app", "celery.app.trace"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, SendcloudHandler):
                handler.close()


log = logging.getLogger("celery_app.tasks")
session = requests.Session()


@app.task
def sync_order(order_id: int) -> bool:
    """Fetch an order from the shop; a failure is logged, and the task ends normally."""
    try:
        session.get(f"{SHOP_URL}/api/orders/{order_id}", timeout=10).raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order %s", order_id)
        return False
    return True


@app.task
def post_note(order_id: int) -> None:
    """Post a note; a failure is not caught: Celery logs it on celery.app.trace."""
    session.post(
        f"{SHOP_URL}/api/orders/{order_id}/notes", json={"order_note": {"note": "Shipped"}}, timeout=10
    ).raise_for_status()
