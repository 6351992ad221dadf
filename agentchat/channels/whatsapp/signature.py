"""Meta signs every webhook delivery: X-Hub-Signature-256 = "sha256=" + HMAC-SHA256(app secret, raw body)."""

import hashlib
import hmac

PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for this body (also what the tests sign with)."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when the header is Meta's signature of exactly these bytes; compared in constant time."""
    if not header or not header.startswith(PREFIX) or len(header) > 200:
        return False
    return hmac.compare_digest(sign(app_secret, body).encode(), header.strip().lower().encode())
