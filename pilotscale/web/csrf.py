"""Double-submit CSRF tokens for every form that changes something.

The page that shows a form sets a random value in a cookie (SameSite=Strict, HttpOnly,
Secure over https) and puts the same value, signed with a key derived from the link key,
in a hidden field. A POST is accepted only when the field's signature holds and its value
equals the cookie's: another site can neither read the cookie nor sign a field for it.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import Response

from pilotscale.refusal import Forbidden

COOKIE = "pilotscale_csrf"
FIELD = "csrf"


class CsrfRefused(Forbidden):
    """The form came without its CSRF token, or with one for another browser."""


class Csrf:
    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._serializer = URLSafeSerializer(key, salt="pilotscale.csrf")
        self.secure = secure

    def __repr__(self) -> str:  # never the key
        return f"Csrf(secure={self.secure})"

    @staticmethod
    def cookie_value(existing: str | None) -> str:
        """The browser's value: kept when it has one, so two open tabs both work."""
        if (
            existing
            and 20 <= len(existing) <= 64
            and existing.replace("-", "").replace("_", "").isalnum()
        ):
            return existing
        return secrets.token_urlsafe(24)

    def field_value(self, cookie: str) -> str:
        return str(self._serializer.dumps(cookie))

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            COOKIE, value, httponly=True, samesite="strict", secure=self.secure, path="/"
        )

    def check(self, *, cookie: str | None, field: str | None) -> None:
        if not cookie or not field:
            raise CsrfRefused(
                "this form was sent without its security token; open the link again and "
                "confirm from the page it shows"
            )
        try:
            signed = self._serializer.loads(field)
        except BadSignature:
            raise CsrfRefused(
                "this form's security token is not valid; open the link again"
            ) from None
        if not isinstance(signed, str) or not hmac.compare_digest(signed, cookie):
            raise CsrfRefused(
                "this form's security token belongs to another browser session; open the link again"
            )
