"""Offline-first link to the PhotoFlux cloud (outbox, HTTP client, auth). Qt-free."""
