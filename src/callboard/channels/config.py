"""Channel settings, read from the environment (issue 4).

* ``CALLBOARD_TWILIO_ACCOUNT_SID`` / ``CALLBOARD_TWILIO_AUTH_TOKEN`` — the server-wide
  Twilio account: every Callboard account without its own Twilio credentials
  (``callboard accounts set-twilio``) sends and receives through it. With neither, an
  account is on the **simulator channel**.
* ``CALLBOARD_TWILIO_API_URL`` — the base URL of Twilio's REST API (default Twilio's own,
  ``https://api.twilio.com``); a local address lets tests stand in for Twilio.
* ``CALLBOARD_SKIP_SIGNATURE_CHECK=1`` — accept webhooks without checking
  ``X-Twilio-Signature``. For local development only; off by default, and the server
  warns about it at start.
* ``CALLBOARD_PUBLIC_URL`` — the server's public base URL (signatures are checked against
  it, and status call-back URLs are built from it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_TWILIO_API_URL", "ChannelConfig"]

DEFAULT_TWILIO_API_URL = "https://api.twilio.com"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_url: str | None = None
    skip_signature_check: bool = False
    public_url: str | None = None
    # Where ``callboard serve`` listens: the call-back base when there is no public URL.
    # Given by the command, never learnt from a request (which would let one account
    # steer another's call-backs).
    listen_url: str | None = None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, listen_url: str | None = None
    ) -> ChannelConfig:
        env = os.environ if environ is None else environ
        sid = (env.get("CALLBOARD_TWILIO_ACCOUNT_SID") or "").strip() or None
        token = (env.get("CALLBOARD_TWILIO_AUTH_TOKEN") or "").strip() or None
        if bool(sid) != bool(token):
            raise ValueError(
                "CALLBOARD_TWILIO_ACCOUNT_SID and CALLBOARD_TWILIO_AUTH_TOKEN must be set together"
            )
        url = (env.get("CALLBOARD_TWILIO_API_URL") or "").strip().rstrip("/") or None
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"CALLBOARD_TWILIO_API_URL={url!r}: expected an http(s) URL")
        public = (env.get("CALLBOARD_PUBLIC_URL") or "").strip().rstrip("/") or None
        skip = (env.get("CALLBOARD_SKIP_SIGNATURE_CHECK") or "").strip().lower() in _TRUE
        return cls(sid, token, url, skip, public, listen_url)

    @property
    def callback_base(self) -> str | None:
        """The base of the call-back URLs given to Twilio: the public URL, else the
        listen address (None: neither is known)."""
        return self.public_url or self.listen_url

    @property
    def default_credentials(self) -> tuple[str, str] | None:
        if self.twilio_account_sid and self.twilio_auth_token:
            return self.twilio_account_sid, self.twilio_auth_token
        return None
