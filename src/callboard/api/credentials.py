"""Verified HTTP Basic credentials, cached per process (issue 11), with immediate
invalidation across processes and servers.

An entry maps the SHA-256 of a request's ``Authorization`` header (never the header
itself) to what checking it gave: the account, the user name (AC… or SK…) and the role
(``owner`` for the Auth Token; an API key's own role capped by its creator's, None when
its creator has been removed). Every request first reads the database's credentials
generation (:mod:`callboard.store.credentials`: one tiny statement on a connection of its
own, on the event loop); when it moved since the cache was filled, the whole cache is
dropped. The triggers bump it in the transaction of every change to those rows, so a
rotated Auth Token, a deleted API key, a suspended account or a changed role is refused
by every process of every server from the commit on.

Misses (and every request when the generation cannot be read) are checked as before,
in a worker thread: :func:`verify` reads the account or key and the key's role there in
one hop; the generation read before it files the result.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from callboard.runtime.team import Team
from callboard.store.credentials import GenerationReader

__all__ = ["CredentialsCache", "Verified", "cache_key", "verify"]

MAX_ENTRIES = 4096
RECONNECT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Verified:
    user: str  # the Account SID or API Key SID the request authenticated as
    account: Account
    role: str | None  # None: an API key whose creator has been removed


def cache_key(authorization: bytes) -> bytes:
    return hashlib.sha256(authorization).digest()


def verify(service: Callboard, team: Team, user: str, password: str) -> Verified | None:
    """Blocking (worker thread): the credentials checked against the database, with the
    role they carry; None when they are wrong."""
    account = service.authenticate(user, password)
    if account is None:
        return None
    role = team.key_role(user) if user.startswith("SK") else "owner"
    return Verified(user, account, role)


class CredentialsCache:
    """Used from the event loop only (no locks). ``reader`` None: nothing is cached."""

    def __init__(self, reader: GenerationReader | None, size: int = MAX_ENTRIES) -> None:
        self.reader = reader
        self.size = size
        self.generation: int | None = None
        self._items: dict[bytes, Verified] = {}
        self._next_connect = 0.0

    async def current(self) -> int | None:
        """The database's generation now, the cache emptied if it moved; None when it
        cannot be read (then nothing is looked up or filed)."""
        reader = self.reader
        if reader is None:
            return None
        found = reader.read()
        if found is None and not reader.connected:
            now = time.monotonic()
            if now < self._next_connect:
                return None
            self._next_connect = now + RECONNECT_SECONDS
            if not await run_in_threadpool(reader.connect):
                return None
            found = reader.read()
        if found is not None and found != self.generation:
            self._items.clear()
            self.generation = found
        return found

    def get(self, key: bytes) -> Verified | None:
        """The entry filed under the generation :meth:`current` just returned."""
        return self._items.get(key)

    def put(self, key: bytes, generation: int, verified: Verified) -> None:
        """File ``verified``, checked after ``generation`` was read — unless the
        generation has moved on since (the entry may be stale already)."""
        if generation != self.generation:
            return
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = verified

    def clear(self) -> None:
        self._items.clear()
