"""A Flask app whose routes call a shop API: run with `flask --app flask_app run`.

Logging is configured before the app is created, as Flask's documentation advises. The integration id and
the API keys come from the SENDCLOUD_* environment variables.
"""

import logging.config
import os

import requests
from flask import Flask, jsonify

SHOP_URL = os.environ.get("SHOP_URL", "https://myshop.example")

logging.config.dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "level": "ERROR", "base_url": SHOP_URL},
        },
        "loggers": {
            # app.logger is named after the app's import name: unhandled exceptions in views arrive there.
            "flask_app": {"handlers": ["sendcloud"], "level": "INFO"},
        },
    }
)

app = Flask(__name__)
log = logging.getLogger("flask_app.sync")
session = requests.Session()


@app.get("/orders/<int:order_id>/sync")
def sync_order(order_id: int) -> tuple[object, int]:
    """Fetch an order from the shop; a failure is logged and answered 502."""
    try:
        response = session.get(f"{SHOP_URL}/api/orders/{order_id}", timeout=10)
        response.raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order %s", order_id)
        return jsonify(synced=False), 502
    return jsonify(synced=True), 200


@app.post("/orders/<int:order_id>/note")
def post_note(order_id: int) -> tuple[object, int]:
    """Post a note; a failure is not caught: Flask logs it with app.logger ("Exception on /orders/...")."""
    response = session.post(f"{SHOP_URL}/api/orders/{order_id}/notes", json={"order_note": {"note": "Shipped"}},
                            timeout=10)
    response.raise_for_status()
    return jsonify(posted=True), 200
