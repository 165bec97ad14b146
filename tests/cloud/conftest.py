"""Fixtures for the cloud service: a live server per module, a fresh one on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.cloud.live import Api, LiveServer, cloud_settings


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(
        cloud_settings(rate_limit_anonymous="10000/minute", rate_limit_account="10000/minute")
    ) as live:
        yield live


@pytest.fixture(scope="module")
def api(server: LiveServer) -> Api:
    return Api(server)


@pytest.fixture(scope="module")
def studio(api: Api) -> str:
    return api.studio()


@pytest.fixture(scope="module")
def device_token(api: Api, studio: str) -> str:
    return api.device(studio)


@pytest.fixture
def make_server() -> Iterator[Callable[..., LiveServer]]:
    """A server with its own settings, stopped at the end of the test."""
    started: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        live = LiveServer(cloud_settings(**overrides)).__enter__()
        started.append(live)
        return live

    yield start
    for live in started:
        live.__exit__(None, None, None)
