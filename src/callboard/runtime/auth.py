"""Credentials: generating Auth Tokens and API key secrets, hashing and checking them.

API key secrets are stored as ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``. Auth Tokens
are kept as they are (like Twilio, which shows them in its console and needs them to
sign webhooks); they are compared in constant time.

Hashing is deliberately slow, so :class:`CredentialCache` remembers which stored hash a
``(username, password)`` pair was verified against (keyed by a SHA-256 of the pair, never
the password itself). The caller still reads the key's row on every request and only
skips the slow hash when the row holds that same hash: a deleted key or a new secret
stops working at once, even when another process changed it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

__all__ = ["CredentialCache", "hash_secret", "new_secret", "new_token", "verify_secret"]

_N, _R, _P = 2**14, 8, 1


def new_token() -> str:
    """A new Auth Token: 32 lowercase hex digits, like Twilio's."""
    return secrets.token_hex(16)


def new_secret() -> str:
    """A new API key secret (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            secret.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual.hex(), digest)


class CredentialCache:
    """Recently verified ``(username, password)`` → the stored hash it matched."""

    def __init__(self, ttl: float = 300.0, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, password: str) -> bytes:
        return hashlib.sha256(f"{username}\x00{password}".encode()).digest()

    def get(self, username: str, password: str) -> str | None:
        key = self._key(username, password)
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[1] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, username: str, password: str, account_sid: str) -> None:
        key = self._key(username, password)
        with self._lock:
            self._items[key] = (account_sid, time.monotonic() + self.ttl)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
