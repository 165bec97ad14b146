"""Field-level encryption of personal data (AES-256-GCM) and keyed hashes for lookup.

Each ciphertext records the id of the key that wrote it, so keys can be rotated: new
writes use the first key in the ring, reads use whichever key the record names. The
studio id and field name are bound in as associated data, so a ciphertext copied into
another studio's record or another field fails to decrypt instead of leaking.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class FieldDecryptError(Exception):
    """A stored field could not be decrypted (unknown key id or tampered data)."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class FieldCipher:
    def __init__(self, key_ring: dict[str, bytes], active_key_id: str, hash_key: bytes) -> None:
        self._ciphers = {kid: AESGCM(key) for kid, key in key_ring.items()}
        self._active = active_key_id
        self._hash_key = hash_key

    def encrypt(self, plaintext: str, context: str) -> dict[str, str]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._active].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return {"kid": self._active, "nonce": _b64(nonce), "ct": _b64(sealed)}

    def decrypt(self, sealed: dict[str, str], context: str) -> str:
        cipher = self._ciphers.get(sealed.get("kid", ""))
        if cipher is None:
            raise FieldDecryptError(f"no key with id {sealed.get('kid')!r} is configured")
        try:
            plain = cipher.decrypt(
                base64.b64decode(sealed["nonce"]),
                base64.b64decode(sealed["ct"]),
                context.encode("utf-8"),
            )
        except (InvalidTag, KeyError, ValueError) as exc:
            raise FieldDecryptError("stored field failed authentication") from exc
        return plain.decode("utf-8")

    def needs_rotation(self, sealed: dict[str, str]) -> bool:
        return sealed.get("kid") != self._active

    def lookup_hash(self, value: str) -> str:
        """HMAC-SHA256 of a normalised value: equal inputs match, the key stays secret."""
        return hmac.new(self._hash_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()
