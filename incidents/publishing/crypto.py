"""The brand accounts' tokens, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256,
from `cryptography`).

The key: `settings.PUBLISHING_KEY` (a Fernet key, or several separated by commas: the
first encrypts, all decrypt, so a key can be rotated), else a key derived from SECRET_KEY
with HKDF-SHA256 (docs/deployment.md). Changing SECRET_KEY without PUBLISHING_KEY makes
the stored tokens unreadable: they must be entered again in the admin.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

HKDF_INFO = b"crisiscell publishing: brand account tokens"


class Unreadable(Exception):
    """The stored token was encrypted with another key."""


def encrypt(secret: str) -> str:
    return _fernet(settings.PUBLISHING_KEY, settings.SECRET_KEY).encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return (
            _fernet(settings.PUBLISHING_KEY, settings.SECRET_KEY).decrypt(token.encode()).decode()
        )
    except (InvalidToken, ValueError):
        raise Unreadable from None


@functools.lru_cache(maxsize=4)
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    keys = [key.strip() for key in (configured or "").split(",") if key.strip()]
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
            secret_key.encode()
        )
        keys = [base64.urlsafe_b64encode(derived).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "PUBLISHING_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            "separated by commas"
        ) from None
