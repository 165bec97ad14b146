"""Password hashing with Argon2 (pwdlib) and a constant-cost check for unknown accounts."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("photoflux-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, stored_hash: str | None) -> bool:
    """True when `password` matches. An unknown account still pays for one Argon2 check,
    so response time does not reveal which e-mail addresses have accounts."""
    if stored_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return _hasher().verify(password, stored_hash)


def warm_up() -> None:
    """Build the dummy hash at start-up rather than inside the first failed login."""
    _dummy_hash()
