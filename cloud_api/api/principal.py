"""Who is calling: an admin, a studio admin or a device, and what each may do."""

from __future__ import annotations

from dataclasses import dataclass

from cloud_api.store.accounts import ROLE_ADMIN, ROLE_DEVICE, ROLE_STUDIO_ADMIN
from cloud_api.store.devices import DEVICE_SCOPES

ROLE_SCOPES: dict[str, frozenset[str]] = {
    ROLE_ADMIN: frozenset(
        {"studios:manage", "studio:read", "leads:read", "leads:erase", "devices:manage", "ops:read"}
    ),
    ROLE_STUDIO_ADMIN: frozenset({"studio:read", "leads:read", "leads:erase", "devices:manage"}),
    ROLE_DEVICE: frozenset(DEVICE_SCOPES),
}


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" or "device"
    id: str
    role: str
    studio_id: str | None
    scopes: frozenset[str]
    label: str = ""

    def may(self, scope: str) -> bool:
        return scope in self.scopes

    def may_access_studio(self, studio_id: str) -> bool:
        return self.role == ROLE_ADMIN or self.studio_id == studio_id

    @property
    def studio_filter(self) -> str | None:
        """The studio every query of this caller is held to; None for a platform admin."""
        return None if self.role == ROLE_ADMIN else self.studio_id

    @property
    def audit_name(self) -> str:
        return f"{self.role}:{self.id}"
