"""Event Streams v1 (``events.twilio.com/v1`` shapes): Sinks, Subscriptions,
SubscribedEvents, the Types catalogue and Schemas.

Point twilio-python at the server with ``client.events.base_url = <server URL>``.
Requests are Twilio's form fields; responses the resources of Twilio's Events OpenAPI
(``events.v1.sink``, ``events.v1.subscription``, ...), with absolute ``url``/``links``,
Twilio paging and error bodies. HTTP Basic auth, as on ``/v2``.
"""

from __future__ import annotations

from starlette.routing import Route

from callboard.api.events_common import account, events_service, sid_param
from callboard.api.events_sinks import render_sink, sink_routes
from callboard.api.events_subscriptions import (
    render_subscribed,
    render_subscription,
    subscription_routes,
)

__all__ = [
    "account",
    "events_service",
    "render_sink",
    "render_subscribed",
    "render_subscription",
    "routes",
    "sid_param",
]


def routes() -> list[Route]:
    """Sinks (:mod:`callboard.api.events_sinks`), then Subscriptions and their
    SubscribedEvents (:mod:`callboard.api.events_subscriptions`)."""
    return [*sink_routes(), *subscription_routes()]
