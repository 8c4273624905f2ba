"""Library-free JWT surgery for the tests: forge, re-sign and tamper compact HS256 tokens."""

import base64
import hashlib
import hmac
import json
from typing import Any


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _segment(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def sign_hs256(claims: dict[str, Any], key: str) -> str:
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims)}"
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def unsigned(claims: dict[str, Any]) -> str:
    """An ``alg: none`` token: empty signature, as in the classic downgrade attack."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}."


def payload_of(token: str) -> dict[str, Any]:
    return json.loads(unb64url(token.split(".")[1]))


def with_payload(token: str, claims: dict[str, Any]) -> str:
    """Swap the payload and keep the original header and signature."""
    header, _, signature = token.split(".")
    return f"{header}.{_segment(claims)}.{signature}"


def flip_signature_byte(token: str, index: int, mask: int) -> str:
    """XOR one byte of the decoded signature.

    Editing a base64 character instead could land in the padding bits of the last character,
    which decode to the same bytes: the token would still be valid and the test would lie.
    """
    head, _, signature = token.rpartition(".")
    raw = bytearray(unb64url(signature))
    raw[index % len(raw)] ^= mask
    return f"{head}.{b64url(bytes(raw))}"
