"""Passwords, the signing secret, CSRF tokens, signed links, and the client's address behind proxies.

The session cookie is Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS);
it holds the CSRF token and a session token whose digest ``app.sessions`` keeps in the database,
so any worker can serve any request and a session can be ended on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.settings import Settings

_password_hash = PasswordHash((Argon2Hasher(),))
CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _password_hash.verify(password, password_hash)


# A real hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    _password_hash.verify(password, _DUMMY_HASH)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def signing_secret(settings: Settings) -> str:
    """The configured secret; in development, one kept in ``.groundwork-secret`` beside the data."""
    if settings.secret_key:
        return settings.secret_key
    if settings.environment == "production":
        raise RuntimeError("GROUNDWORK_SECRET_KEY must be set in production (e.g. `openssl rand -hex 32`).")
    path = Path(".groundwork-secret")
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _in_networks(address: str, networks: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str:
    """The address a request came from. ``X-Forwarded-For`` is believed only when the peer is one of
    ``trusted_proxies``, and then read from the right: the first hop that is not a trusted proxy
    (the left end is whatever the client wrote)."""
    address = peer or "unknown"
    if not forwarded_for or not _in_networks(address, trusted_proxies):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not _in_networks(hop, trusted_proxies):
            return hop[:64]
        address = hop
    return address


# -- signed links (e-mail) --------------------------------------------------------------------------

UNSUBSCRIBE_PURPOSE = "delivery-unsubscribe"  # a follower's one-click unsubscribe link


class TokenInvalid(ValueError):
    """The token was not signed by this site (or was altered)."""


class TokenExpired(TokenInvalid):
    """Signed by this site, but older than it may be."""


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_secret(settings), salt=purpose)


def sign_token(settings: Settings, purpose: str, payload: Any) -> str:
    """A URL-safe token carrying ``payload`` (JSON), signed for one ``purpose`` with the signing secret."""
    return _serializer(settings, purpose).dumps(payload)


def read_token(settings: Settings, purpose: str, token: str, *, max_age_s: int | None) -> Any:
    """The payload of a token signed for ``purpose``; TokenExpired past ``max_age_s`` (None: never)."""
    try:
        return _serializer(settings, purpose).loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise TokenExpired(purpose) from None
    except BadSignature:
        raise TokenInvalid(purpose) from None
