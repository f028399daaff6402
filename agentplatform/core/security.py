"""Password hashing (bcrypt), signed tokens (JWT), opaque secrets and field encryption."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import jwt
from cryptography.fernet import Fernet, InvalidToken

from agentplatform.core.config import get_settings
from agentplatform.core.errors import Unauthenticated

JWT_ALGORITHM = "HS256"
BCRYPT_ROUNDS = 12
# bcrypt only reads 72 bytes; pre-hashing keeps long passphrases meaningful.
_PREHASH = True


def _password_bytes(password: str) -> bytes:
    raw = password.encode()
    if _PREHASH:
        return base64.b64encode(hashlib.sha256(raw).digest())
    return raw


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def verify_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_password_bytes(password), hashed.encode())
    except ValueError:
        return False


# A real hash to check against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    """Spend the same time as a real check (unknown-account path)."""
    verify_password(password, _DUMMY_HASH)


def create_access_token(*, subject: str, extra: dict[str, Any] | None = None) -> str:
    settings = get_settings()
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
        **(extra or {}),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)


# Every access token we issue carries these; one without them (e.g. no `exp`: valid forever)
# is refused even when its signature is right.
REQUIRED_CLAIMS = ("exp", "iat", "sub", "type")


def decode_access_token(token: str) -> dict[str, Any]:
    """Claims of a valid, unexpired access token; `Unauthenticated` otherwise."""
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Your session has expired: sign in again.") from None
    except jwt.PyJWTError:
        raise Unauthenticated("The access token is invalid: sign in again.") from None
    if claims.get("type") != "access":
        raise Unauthenticated("The access token is invalid: sign in again.")
    return claims


def new_secret(prefix: str) -> str:
    """An opaque random secret (refresh tokens, API keys), e.g. `apk_…`."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret: safe to store, fast to look up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"field-encryption:{get_settings().secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_field(plaintext: str) -> str:
    """Encrypt a secret for storage (provider API keys)."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_field(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ValueError("stored secret cannot be decrypted with the current SECRET_KEY") from None
