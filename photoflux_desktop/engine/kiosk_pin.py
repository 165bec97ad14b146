"""The kiosk operator's PIN: stored as a salted scrypt hash, checked with a lockout.

Only the hash ever reaches the settings file ("scrypt$n$r$p$salt$hash", hex), so a
copied settings file does not give the PIN away cheaply. After `FREE_TRIES` wrong
PINs in a row, every further wrong try locks entry for twice as long as the last
(30 s, 60 s, … capped at 15 min): a guest cannot guess a 4-digit PIN at a kiosk.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from photoflux_desktop.engine.errors import bad_input

MIN_PIN_DIGITS = 4
MAX_PIN_DIGITS = 12
FREE_TRIES = 3
FIRST_LOCKOUT_S = 30.0
MAX_LOCKOUT_S = 900.0
# scrypt cost: 0.1-0.3 s per check on a small CPU; makes offline guessing expensive
_N, _R, _P = 2**14, 8, 1


def check_pin_format(pin: str) -> str:
    if not (pin.isdigit() and MIN_PIN_DIGITS <= len(pin) <= MAX_PIN_DIGITS):
        raise bad_input(
            f"The PIN must be {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits.",
            "Choose digits a guest cannot guess (not 1234).",
        )
    return pin


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 2**20)


def hash_pin(pin: str) -> str:
    """The stored form of a new PIN, with a fresh random salt."""
    check_pin_format(pin)
    salt = secrets.token_bytes(16)
    digest = _scrypt(pin, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Constant-time comparison against a stored hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = _scrypt(pin, bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


class PinGuard:
    """Checks PINs against the stored hash and locks out after repeated wrong tries."""

    def __init__(self, stored: str | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stored = stored
        self.clock = clock
        self.wrong_in_a_row = 0
        self.locked_until = 0.0

    @property
    def has_pin(self) -> bool:
        return bool(self.stored)

    def seconds_locked(self) -> float:
        """How long until the next try is accepted; 0 when it is now."""
        return max(0.0, self.locked_until - self.clock())

    def check(self, pin: str) -> bool:
        """True for the right PIN when not locked out. A try while locked out is refused
        without being checked (and without extending the lockout)."""
        if self.seconds_locked() > 0 or not self.stored:
            return False
        if pin_matches(pin, self.stored):
            self.wrong_in_a_row = 0
            return True
        self.wrong_in_a_row += 1
        over = self.wrong_in_a_row - FREE_TRIES
        if over >= 0:
            self.locked_until = self.clock() + min(MAX_LOCKOUT_S, FIRST_LOCKOUT_S * 2**over)
        return False
