"""Sink types: checking a sink's configuration, and sending events to it.

* ``webhook`` — Twilio's configuration ``{"destination": url, "method": "POST"|"GET",
  "batch_events": bool}``. Events are POSTed as a JSON array of CloudEvents (one request
  per event, an array of one, when ``batch_events`` is false; up to
  :data:`MAX_BATCH` per request when true). ``user:pass@`` in the destination is sent as
  HTTP Basic auth (and left out of the requested URL). Every request is signed like
  Twilio's: ``bodySHA256=<hex sha256 of the body>`` is appended to the URL's query and
  ``X-Twilio-Signature`` is Base64(HMAC-SHA1(account Auth Token, that URL)), so
  ``twilio.request_validator.RequestValidator(auth_token).validate(url, body, sig)``
  accepts it. 5 s timeout; any status other than 2xx is a failure.
* ``redis-stream`` (Callboard extension) — ``{"url": "redis://host:6379/0",
  "stream": "callboard-events", "maxlen": 100000}``: each event is ``XADD``-ed to the
  stream (``MAXLEN ~ maxlen``) with the fields ``id``, ``type``, ``source``, ``time``
  and ``event`` (the CloudEvent JSON).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx

from callboard.runtime.egress import EgressPolicy, check_url
from callboard.runtime.records import InvalidParameter

__all__ = [
    "MAX_BATCH",
    "SINK_TYPES",
    "TIMEOUT_SECONDS",
    "DeliveryError",
    "RedisStreamSender",
    "Sender",
    "WebhookSender",
    "check_configuration",
    "make_sender",
    "sign",
    "signed_url",
]

TIMEOUT_SECONDS = 5.0
MAX_BATCH = 100
DEFAULT_STREAM = "callboard-events"
DEFAULT_MAXLEN = 100_000
# Twilio's enum, plus Callboard's streaming sink. kinesis/segment/email are accepted by
# Twilio's API but not implemented here: creating one answers 400.
SINK_TYPES = ("webhook", "redis-stream")
TWILIO_ONLY = ("kinesis", "segment", "email")


class DeliveryError(Exception):
    """A send failed; ``status_code`` is the receiver's HTTP status when it answered."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class Sender(Protocol):
    batch: int  # how many events one send() takes at most

    def send(self, events: Sequence[str]) -> None:
        """Deliver the events (each a CloudEvent JSON text); raise DeliveryError."""

    def close(self) -> None: ...


# ------------------------------------------------------------------------ configuration


def _bad(message: str) -> InvalidParameter:
    return InvalidParameter("SinkConfiguration", f"Invalid SinkConfiguration: {message}")


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(f"{name} must be true or false, got {value!r}")


def check_configuration(sink_type: str, config: Any) -> dict[str, Any]:
    """The configuration, checked and normalised; :class:`InvalidParameter` names the
    problem."""
    if sink_type in TWILIO_ONLY:
        raise InvalidParameter(
            "SinkType",
            f"SinkType {sink_type!r} is not supported by Callboard: use webhook or redis-stream",
        )
    if sink_type not in SINK_TYPES:
        raise InvalidParameter(
            "SinkType", f"Invalid SinkType {sink_type!r}: expected one of {', '.join(SINK_TYPES)}"
        )
    if not isinstance(config, dict):
        raise _bad("expected a JSON object")
    if sink_type == "webhook":
        return _check_webhook(config)
    return _check_redis(config)


def _check_webhook(config: dict[str, Any]) -> dict[str, Any]:
    dest = config.get("destination")
    if not isinstance(dest, str) or not dest.strip():
        raise _bad("destination (the URL to send events to) is required")
    parts = urlsplit(dest.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(f"destination must be an http:// or https:// URL, got {dest!r}")
    method = config.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in ("POST", "GET"):
        raise _bad(f"method must be POST or GET, got {method!r}")
    out = dict(config)
    out["destination"] = dest.strip()
    out["method"] = method.upper()
    out["batch_events"] = _flag(config.get("batch_events", False), "batch_events")
    return out


def _check_redis(config: dict[str, Any]) -> dict[str, Any]:
    url = config.get("url")
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise _bad(f"url must be a redis://, rediss:// or unix:// URL, got {url!r}")
    stream = config.get("stream", DEFAULT_STREAM)
    if not isinstance(stream, str) or not stream or len(stream) > 255:
        raise _bad("stream must be a non-empty stream name")
    maxlen = config.get("maxlen", DEFAULT_MAXLEN)
    if maxlen is not None and (
        isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1
    ):
        raise _bad(f"maxlen must be a positive integer or null, got {maxlen!r}")
    return {"url": url, "stream": stream, "maxlen": maxlen}


# ------------------------------------------------------------------------ signing


def signed_url(url: str, body: bytes) -> str:
    """``url`` with ``bodySHA256=<hex>`` appended to its query."""
    digest = hashlib.sha256(body).hexdigest()
    parts = urlsplit(url)
    query = f"{parts.query}&bodySHA256={digest}" if parts.query else f"bodySHA256={digest}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def sign(auth_token: str, url: str) -> str:
    """X-Twilio-Signature of a JSON-body request: Base64(HMAC-SHA1(token, url))."""
    mac = hmac.new(auth_token.encode(), url.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


# ------------------------------------------------------------------------ senders


@dataclass
class WebhookSender:
    config: dict[str, Any]
    auth_token: str
    client: httpx.Client

    def __post_init__(self) -> None:
        parts = urlsplit(self.config["destination"])
        self.auth: tuple[str, str] | None = None
        if parts.username is not None:
            from urllib.parse import unquote

            self.auth = (unquote(parts.username), unquote(parts.password or ""))
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port is not None else "")
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self.method = self.config.get("method", "POST")
        self.batch = MAX_BATCH if self.config.get("batch_events") else 1

    def send(self, events: Sequence[str]) -> None:
        body = ("[" + ",".join(events) + "]").encode()
        url = signed_url(self.url, body)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Twilio-Signature": sign(self.auth_token, url),
            "User-Agent": "Callboard-EventStreams/1",
        }
        try:
            response = self.client.request(
                self.method,
                url,
                content=body,
                headers=headers,
                auth=self.auth,
                timeout=TIMEOUT_SECONDS,
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            raise DeliveryError(f"timed out after {TIMEOUT_SECONDS:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(
                f"the receiver answered HTTP {response.status_code}", response.status_code
            )

    def close(self) -> None:
        pass  # the client is shared


class RedisStreamSender:
    def __init__(self, config: dict[str, Any]) -> None:
        import redis

        self.config = config
        self.batch = MAX_BATCH
        try:  # where the sink points is checked before anything connects
            check_url(EgressPolicy.from_env(), str(config["url"]))
        except (httpcore.ConnectError, ValueError) as exc:
            raise DeliveryError(f"Redis: {exc}") from None
        self.client = redis.Redis.from_url(
            config["url"],
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
        )

    def send(self, events: Sequence[str]) -> None:
        import redis

        stream = self.config["stream"]
        maxlen = self.config.get("maxlen")
        try:
            pipe = self.client.pipeline(transaction=False)
            for text in events:
                ev = json.loads(text)
                fields = {
                    "id": ev["id"],
                    "type": ev["type"],
                    "source": ev.get("source") or "",
                    "time": ev.get("time") or "",
                    "event": text,
                }
                pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
            pipe.execute()
        except redis.RedisError as exc:
            raise DeliveryError(f"Redis: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self.client.close()


def make_sender(
    sink_type: str, config: dict[str, Any], auth_token: str, client: httpx.Client
) -> Sender:
    if sink_type == "webhook":
        return WebhookSender(config, auth_token, client)
    if sink_type == "redis-stream":
        return RedisStreamSender(config)
    raise DeliveryError(f"unknown sink type {sink_type!r}")
