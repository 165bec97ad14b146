"""Studio UI tests: retries without waiting (stamina's testing mode), a fake keyring."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
import stamina

from tests.sync.conftest import MemoryKeyring


@pytest.fixture(autouse=True)
def quick_retries() -> Iterator[None]:
    # a background sync against a closed port must not back off for minutes in a test
    stamina.set_testing(True, attempts=1)
    yield
    stamina.set_testing(False)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


from tests.cloud.conftest import make_server  # noqa: E402, F401


@pytest.fixture(autouse=True)
def analytics_agreed() -> None:
    # usage events are off until the user agrees (first-run question); these tests
    # are about what happens once they have
    from photoflux_desktop.engine.settings import Settings, save_settings

    save_settings(Settings(analytics_consent=True))
