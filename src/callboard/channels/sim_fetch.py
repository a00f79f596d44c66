"""TwiML the simulator fetches from outside Callboard (a flow's ``<Redirect>`` or
Add TwiML Redirect to another server, a status call-back URL).

Every fetch goes through the egress policy (:mod:`callboard.runtime.egress`), and one
simulator request (a call started, one input) may spend at most
:data:`MAX_EXTERNAL_FETCHES` documents and :data:`BUDGET_SECONDS` seconds on them, each
at most :data:`MAX_TWIML_BYTES` and :data:`MAX_REDIRECTS` HTTP redirects. A refused,
failed, slow or over-budget fetch ends the simulated call with the reason
(:class:`~callboard.channels.call_driver.CallError`); it is never an error of the API.
"""

from __future__ import annotations

import time

import httpx

from callboard.channels.call_driver import CallError
from callboard.runtime.egress import EgressPolicy, egress_client

__all__ = ["BUDGET_SECONDS", "MAX_EXTERNAL_FETCHES", "ExternalFetch"]

MAX_EXTERNAL_FETCHES = 10
BUDGET_SECONDS = 15.0
FETCH_TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 5
MAX_TWIML_BYTES = 1024 * 1024


class ExternalFetch:
    def __init__(self, policy: EgressPolicy | None = None) -> None:
        self.policy = policy or EgressPolicy.from_env()
        self.count = 0
        self.deadline = time.monotonic() + BUDGET_SECONDS

    def __call__(self, url: str, method: str, params: dict[str, str]) -> str:
        self.count += 1
        if self.count > MAX_EXTERNAL_FETCHES:
            raise CallError(f"more than {MAX_EXTERNAL_FETCHES} TwiML documents fetched at once")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CallError(f"fetching TwiML took more than {BUDGET_SECONDS:g} s")
        timeout = min(left, FETCH_TIMEOUT_SECONDS)
        try:
            with egress_client(
                self.policy, follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout
            ) as client:
                return self._read(client, url, method, params)
        except httpx.TimeoutException:
            raise CallError(f"{method} {url} did not answer within {timeout:.3g} s") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise CallError(f"{method} {url} failed: {type(exc).__name__}: {exc}") from None

    def _read(self, client: httpx.Client, url: str, method: str, params: dict[str, str]) -> str:
        get = method.upper() == "GET"
        with client.stream(
            "GET" if get else "POST",
            url,
            params=params if get else None,
            data=None if get else params,
        ) as response:
            if response.status_code >= 400:
                raise CallError(f"{method} {url} answered {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_TWIML_BYTES:
                    raise CallError(f"{method} {url}: the TwiML is over {MAX_TWIML_BYTES} bytes")
                if time.monotonic() > self.deadline:
                    raise CallError(f"fetching TwiML took more than {BUDGET_SECONDS:g} s")
                chunks.append(chunk)
            return b"".join(chunks).decode(response.charset_encoding or "utf-8", "replace")
