"""Signature: a WebSub push's X-Hub-Signature checked against its subscription's secret."""

import hashlib
import hmac
from enum import StrEnum

# The Recommendation's algorithms (WebSub, 8): sha1 is still what many hubs send.
ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


class Verdict(StrEnum):
    VALID = "valid"
    UNSIGNED = "unsigned"  # no signature, or a method the Recommendation does not name
    BAD_SIGNATURE = "bad_signature"


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The header value a hub sends for `body`: `method=hexdigest`."""
    return f"{method}={hmac.new(secret.encode(), body, ALGORITHMS[method]).hexdigest()}"


def verify(secret: str, body: bytes, header: str | None) -> Verdict:
    """Whether `header` signs `body` with `secret`; the digests are compared in constant time."""
    method, _, given = (header or "").strip().partition("=")
    algorithm = ALGORITHMS.get(method.strip().lower())
    if algorithm is None or not given:
        return Verdict.UNSIGNED
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    if hmac.compare_digest(expected, given.strip().lower().encode("ascii", "replace").decode()):
        return Verdict.VALID
    return Verdict.BAD_SIGNATURE
