"""Signed, expiring tokens for the links in emails.

A token names the signature by its random public id (never the sequential key) and the action
it allows; the signature makes it unguessable, the timestamp makes it expire.
"""

import uuid
from datetime import timedelta

from django.core import signing

from statements.models import Signature

CONFIRM = "confirm"
WITHDRAW = "withdraw"
# Stops campaign updates; never expires, as RFC 8058 wants the link in an old message to work.
UNSUBSCRIBE = "unsubscribe"


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


def _signer(action: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"statements.signature.{action}")


def make_token(signature: Signature, action: str) -> str:
    return _signer(action).sign(signature.public_id.hex)


def read_token(token: str, action: str, max_age: timedelta | None) -> uuid.UUID:
    try:
        value = _signer(action).unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise TokenExpired from exc
    except signing.BadSignature as exc:
        raise TokenInvalid from exc
    try:
        return uuid.UUID(hex=value)
    except ValueError as exc:
        raise TokenInvalid from exc
