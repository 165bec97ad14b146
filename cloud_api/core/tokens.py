"""Access tokens (JWT) and opaque secrets (refresh and device tokens).

Access tokens are short-lived JWTs verified with an explicit algorithm list and required
`iss`, `aud`, `exp`, `sub`, a numeric `iat`/`exp` no further apart than the configured
lifetime, `typ` "access", and `fam`: the login session (refresh-token family) they belong
to, so signing out or a replayed refresh token revokes them too. Refresh and device tokens
are random strings; only their SHA-256 digest is stored, so a database dump does not hand
out working credentials.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from cloud_api.core.config import Settings

REFRESH_PREFIX = "pfr_"
DEVICE_PREFIX = "pfd_"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "role", "jti", "typ", "fam"]
ACCESS_TYPE = "access"
LEEWAY_S = 5


class TokenInvalid(Exception):
    """The token is missing, malformed, forged, expired or meant for someone else."""


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    role: str
    studio_id: str | None
    token_id: str
    family: str


def new_family() -> str:
    """A new login session id (the refresh-token family of that login)."""
    return uuid.uuid4().hex


def issue_access_token(
    settings: Settings, subject: str, role: str, studio_id: str | None, family: str
) -> tuple[str, int]:
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "role": role,
        "sid": studio_id,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "typ": ACCESS_TYPE,
        "fam": family,
    }
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[settings.jwt_algorithm],  # never taken from the token header
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY_S,
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    _check_shape(settings, claims)
    subject, role, studio = claims.get("sub"), claims.get("role"), claims.get("sid")
    if not isinstance(subject, str) or not isinstance(role, str):
        raise TokenInvalid("malformed claims")
    if studio is not None and not isinstance(studio, str):
        raise TokenInvalid("malformed claims")
    return AccessClaims(
        subject=subject,
        role=role,
        studio_id=studio,
        token_id=str(claims["jti"]),
        family=claims["fam"],
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_shape(settings: Settings, claims: dict) -> None:
    """What a signature alone does not prove: this service issues only numeric times,
    lifetimes up to the configured one, and tokens of type "access" with a session."""
    times = [claims.get(name) for name in ("exp", "iat", "nbf") if name in claims]
    if not all(_is_number(value) for value in times):
        raise TokenInvalid("time claims must be numbers")
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > settings.access_token_minutes * 60 + LEEWAY_S:
        raise TokenInvalid("token lives longer than this service issues")
    if claims["iat"] > datetime.now(UTC).timestamp() + LEEWAY_S:
        raise TokenInvalid("token issued in the future")
    if claims.get("typ") != ACCESS_TYPE or not isinstance(claims.get("fam"), str):
        raise TokenInvalid("not an access token")


def new_opaque_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
