"""The operator PIN: stored salted and hashed, never plain; wrong tries lock it."""

from __future__ import annotations

import pytest

from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.kiosk_pin import (
    FIRST_LOCKOUT_S,
    FREE_TRIES,
    PinGuard,
    hash_pin,
    pin_matches,
)
from photoflux_desktop.engine.settings import Settings, load_settings, save_settings


def test_the_pin_is_stored_salted_and_hashed(tmp_path):
    stored = hash_pin("2468")
    assert stored.startswith("scrypt$") and "2468" not in stored
    assert hash_pin("2468") != stored  # a fresh salt each time
    assert pin_matches("2468", stored) and not pin_matches("2469", stored)
    assert not pin_matches("2468", "garbage")
    path = tmp_path / "settings.json"
    save_settings(Settings(kiosk_pin_hash=stored), path)
    assert "2468" not in path.read_text()
    assert load_settings(path)[0].kiosk_pin_hash == stored


@pytest.mark.parametrize("pin", ["123", "12ab", "", "1234567890123"])
def test_a_pin_is_4_to_12_digits(pin):
    with pytest.raises(PhotoFluxError):
        hash_pin(pin)


def test_wrong_tries_lock_entry_with_a_growing_backoff():
    now = [1000.0]
    guard = PinGuard(hash_pin("2468"), clock=lambda: now[0])
    for _ in range(FREE_TRIES - 1):
        assert not guard.check("0000")
    assert guard.seconds_locked() == 0
    assert not guard.check("0000")  # the last free try locks
    assert guard.seconds_locked() == FIRST_LOCKOUT_S
    assert not guard.check("2468")  # even the right PIN waits out the lockout
    now[0] += FIRST_LOCKOUT_S
    assert not guard.check("1111")  # the next wrong one locks twice as long
    assert guard.seconds_locked() == 2 * FIRST_LOCKOUT_S
    now[0] += 2 * FIRST_LOCKOUT_S
    assert guard.check("2468")
    assert guard.wrong_in_a_row == 0
