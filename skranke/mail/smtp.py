"""Sending through Microsoft 365 and Google with OAuth2: Django's SMTP backend, signing in with
``AUTH XOAUTH2`` instead of a password.

Django's ``EmailBackend.open()`` connects, does STARTTLS and logs in only when it has a
password; this backend gives it none and signs in right after, on the same connection, before
anything is sent. Everything else (TLS, timeouts, sending, closing) stays Django's.
"""

from __future__ import annotations

import base64
import binascii
import smtplib
from typing import Any, Protocol

from django.core.mail.backends.smtp import EmailBackend

from skranke.mail.oauth import TokenRefreshError, xoauth2_string


class TokenSource(Protocol):
    """Gives the access token; ``force_refresh`` asks for a new one (``oauth.access_token``)."""

    def __call__(self, *, force_refresh: bool = False) -> str: ...


class XOAUTH2Refused(smtplib.SMTPAuthenticationError):
    """The server refused the OAuth2 sign-in: also with a renewed token, or there was no
    refresh token to renew it with."""


class OAuth2EmailBackend(EmailBackend):
    def __init__(self, *, username: str, token: TokenSource, **kwargs: Any) -> None:
        super().__init__(username=username, password=None, **kwargs)
        self.token = token

    def open(self) -> bool | None:
        opened = super().open()
        if not opened:
            return opened  # already open (and signed in), or failed silently
        assert self.connection is not None
        try:
            self._sign_in(self.connection)
        except BaseException as error:
            try:
                self.close()
            except OSError:
                pass  # the sign-in error is the one worth reporting
            if self.fail_silently and isinstance(error, (OSError, TokenRefreshError)):
                return None
            raise
        return True

    def _sign_in(self, connection: smtplib.SMTP) -> None:
        # STARTTLS forgets the server's EHLO answer; ask again to see its AUTH mechanisms.
        connection.ehlo_or_helo_if_needed()
        offered = connection.esmtp_features.get("auth", "").upper().split()
        if "XOAUTH2" not in offered:
            raise smtplib.SMTPNotSupportedError(
                f"{self.host} does not offer AUTH XOAUTH2 "
                f"(it offers: {' '.join(offered) or 'no AUTH at all'})."
            )
        token = self.token()
        code, reply = self._xoauth2(connection, token)
        if code == 235:
            return
        if code != 535:  # e.g. 454, a temporary failure: retried later as it is
            raise smtplib.SMTPAuthenticationError(code, reply)
        # Refused: the token may have been revoked or cut short before its expiry. One renewed
        # token, one more try; more would only hammer the provider with the same mistake.
        renewed = self.token(force_refresh=True)
        if renewed != token:
            code, reply = self._xoauth2(connection, renewed)
            if code == 235:
                return
        raise XOAUTH2Refused(
            code,
            f"XOAUTH2 sign-in as {self.username} refused"
            f"{', also with a renewed token' if renewed != token else ''}: {reply}",
        )

    def _xoauth2(self, connection: smtplib.SMTP, token: str) -> tuple[int, str]:
        """One ``AUTH XOAUTH2`` exchange: the server's final code and its reason."""
        assert self.username
        response = base64.b64encode(xoauth2_string(self.username, token).encode()).decode()
        code, reply = connection.docmd("AUTH", f"XOAUTH2 {response}")
        details = ""
        if code == 334:
            # A refused token comes back as a base64 JSON challenge (Google: status, scope);
            # the client answers with an empty line and the server ends with 535.
            try:
                details = base64.b64decode(reply, validate=True).decode(errors="replace")
            except binascii.Error:
                details = reply.decode(errors="replace")
            code, reply = connection.docmd("")
        text = reply.decode(errors="replace")
        return code, f"{text} {details}".strip()
