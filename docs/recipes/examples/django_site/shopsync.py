"""Views that call the shop's API, and the URLs that route to them."""

import logging

import requests
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

log = logging.getLogger("shopsync")
session = requests.Session()


def sync_order(request: HttpRequest, order_id: int) -> JsonResponse:
    """Fetch an order from the shop; a failure is logged and answered 502."""
    try:
        response = session.get(f"{settings.SHOP_URL}/api/orders/{order_id}", timeout=10)
        response.raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order %s", order_id)
        return JsonResponse({"synced": False}, status=502)
    return JsonResponse({"synced": True})


def post_note(request: HttpRequest, order_id: int) -> JsonResponse:
    """Post a note to the shop; a failure is not caught here: Django logs it on django.request."""
    response = session.post(
        f"{settings.SHOP_URL}/api/orders/{order_id}/notes", json={"order_note": {"note": "Shipped"}}, timeout=10
    )
    response.raise_for_status()
    return JsonResponse({"posted": True})


urlpatterns = [
    path("orders/<int:order_id>/sync", sync_order),
    path("orders/<int:order_id>/note", post_note),
]
