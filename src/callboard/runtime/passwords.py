"""User passwords (issue 14): argon2id (``argon2-cffi``'s current default parameters),
generated passwords and one-time tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "MIN_PASSWORD",
    "check_password_rules",
    "hash_password",
    "new_password",
    "new_token",
    "token_hash",
    "verify_password",
]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024

_hasher = PasswordHasher()


@functools.cache
def _dummy() -> str:
    """A hash to verify against when there is none (made on first use, not at import:
    hashing costs a third of a second, which every process start would pay)."""
    return _hasher.hash("callboard: no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Constant work whether or not there is a stored hash (``None``: a user without a
    password, or no user at all, still costs one verification)."""
    try:
        ok = _hasher.verify(stored or _dummy(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored is not None


def check_password_rules(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"Password must have at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"Password must have at most {MAX_PASSWORD} characters"
    return None


def new_password() -> str:
    """A generated password (16 URL-safe characters, ~96 bits)."""
    return secrets.token_urlsafe(12)


def new_token() -> str:
    """A session, CSRF or invitation token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session or invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()
