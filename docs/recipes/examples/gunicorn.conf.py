"""gunicorn settings for gunicorn_app: the app (and its logging) is loaded once, in the master."""

import logging
import os
from typing import Any

from sendcloud_logging import SendcloudHandler

preload_app = True
workers = 2
bind = "127.0.0.1:8000"


def worker_exit(server: Any, worker: Any) -> None:
    """A worker that stops delivers what its handler still holds, open storm summaries included.

    gunicorn calls this hook in the worker itself, and in the master for workers it reaps: act in the worker.
    """
    if worker.pid != os.getpid():
        return
    for handler in logging.getLogger("gunicorn_app").handlers:
        if isinstance(handler, SendcloudHandler):
            handler.close()
