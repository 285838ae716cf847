"""Webhook authentication checks: Meta body signatures, shared tokens, HS256 JWTs.

Every check fails closed: a missing or empty secret never verifies anything.
Comparisons of secrets are constant time (:func:`hmac.compare_digest`).
"""

import hashlib
import hmac
import secrets

import jwt

META_SIGNATURE_PREFIX = "sha256="


def _to_bytes(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return None


def verify_meta_signature(raw_body, header_value, app_secret):
    """Check ``X-Hub-Signature-256: sha256=<hex>`` against the exact bytes received.

    ``raw_body`` must be the body as received (``request.httprequest.get_data()``):
    Meta signs its own serialisation, with non-ASCII characters escaped, so a body
    re-serialised from parsed JSON does not verify. Returns ``False`` when the
    secret is empty or ``None``.
    """
    if not app_secret or not header_value or not isinstance(header_value, str):
        return False
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        return False
    secret = _to_bytes(app_secret)
    if not secret:
        return False
    header_value = header_value.strip()
    if not header_value.startswith(META_SIGNATURE_PREFIX):
        return False
    given = header_value[len(META_SIGNATURE_PREFIX) :].strip().lower()
    if not given.isascii():
        return False
    expected = hmac.new(secret, bytes(raw_body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))


def meta_signature(raw_body, app_secret):
    """The ``X-Hub-Signature-256`` header value Meta would send for ``raw_body``."""
    return META_SIGNATURE_PREFIX + hmac.new(_to_bytes(app_secret), bytes(raw_body), hashlib.sha256).hexdigest()


def tokens_equal(given, expected):
    """Constant-time equality of two tokens (str or bytes); ``False`` when ``expected`` is empty."""
    expected_bytes = _to_bytes(expected)
    given_bytes = _to_bytes(given)
    if not expected_bytes or given_bytes is None:
        return False
    return hmac.compare_digest(given_bytes, expected_bytes)


def meta_subscription_challenge(mode, token, challenge, verify_token):
    """Meta's ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`` handshake.

    Returns the challenge to echo, or ``None`` when the request must be refused.
    """
    if mode != "subscribe" or not challenge or not tokens_equal(token, verify_token):
        return None
    return challenge


def verify_hs256_jwt(token, key, leeway=30):
    """Decode an HS256 JWT signed with ``key``; ``None`` when invalid, expired or unsigned.

    ``exp`` and ``iat`` are required (Evolution API sets both, ``exp = iat + 600``);
    ``leeway`` seconds of clock skew are tolerated. Other algorithms (``none``,
    RS256 with a public key as HMAC secret...) are refused.
    """
    if not key or not token or not isinstance(token, str):
        return None
    try:
        claims = jwt.decode(
            token.strip(),
            key,
            algorithms=["HS256"],
            leeway=leeway,
            options={"require": ["exp", "iat"], "verify_signature": True},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def bearer_token(authorization):
    """The token of an ``Authorization: Bearer <token>`` header value, else ``""``."""
    if not isinstance(authorization, str):
        return ""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return token.strip()


def generate_secret(nbytes=32):
    """A random URL-safe secret (``A-Z a-z 0-9 - _``), usable as a Telegram ``secret_token``."""
    return secrets.token_urlsafe(nbytes)
