"""OAuth2 for mailboxes at Microsoft 365 and Google: one access token for IMAP and SMTP.

The access token lives an hour; with a refresh token, client id and token URL on the mailbox
Skranke renews it itself and stores the new one, so IMAP polling and sending share it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

from django.utils import timezone

from skranke.mail.models import Mailbox

# Renew a little before the provider's expiry, so a token cannot run out between here and
# the server checking it.
_EXPIRY_MARGIN = timedelta(minutes=2)


class TokenRefreshError(Exception):
    """The token URL refused to renew the access token (revoked or expired refresh token,
    wrong client id or secret). Only an administrator can fix it, with a new refresh token."""


def access_token(mailbox: Mailbox, *, force_refresh: bool = False) -> str:
    """The mailbox's OAuth2 access token, renewed with the refresh token when it has run out.

    ``force_refresh`` renews it even if it has not run out yet: for a token the server refused
    before its time (revoked, or issued before a change of permissions). Without a refresh
    token the stored access token is all there is.
    """
    if not mailbox.oauth2_refresh_token:
        return mailbox.oauth2_access_token
    fresh = (
        mailbox.oauth2_expires_at is not None
        and mailbox.oauth2_expires_at > timezone.now() + _EXPIRY_MARGIN
    )
    if mailbox.oauth2_access_token and fresh and not force_refresh:
        return mailbox.oauth2_access_token
    data = _refresh(mailbox)
    mailbox.oauth2_access_token = str(data["access_token"])
    # Microsoft may rotate the refresh token; Google keeps the old one and sends none.
    mailbox.oauth2_refresh_token = str(data.get("refresh_token") or mailbox.oauth2_refresh_token)
    mailbox.oauth2_expires_at = timezone.now() + timedelta(
        seconds=int(data.get("expires_in", 3600))
    )
    mailbox.save(update_fields=["oauth2_access_token", "oauth2_refresh_token", "oauth2_expires_at"])
    return mailbox.oauth2_access_token


def _refresh(mailbox: Mailbox) -> dict[str, Any]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": mailbox.oauth2_refresh_token,
        "client_id": mailbox.oauth2_client_id,
    }
    if mailbox.oauth2_client_secret:
        form["client_secret"] = mailbox.oauth2_client_secret
    request = urllib.request.Request(
        mailbox.oauth2_token_url, data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = json.load(response)
    except urllib.error.HTTPError as error:
        raise TokenRefreshError(
            f"The OAuth2 token URL refused to renew the access token for {mailbox.address} "
            f"({_provider_reason(error)}); the mailbox needs a new refresh token."
        ) from error
    if not isinstance(data, dict) or not data.get("access_token"):
        raise TokenRefreshError(
            f"The OAuth2 token URL answered without an access token for {mailbox.address}."
        )
    return data


def _provider_reason(error: urllib.error.HTTPError) -> str:
    """``invalid_grant: AADSTS70008: …`` from the RFC 6749 error body, else the HTTP status."""
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict) or not body.get("error"):
        return f"HTTP {error.code}"
    reason = str(body["error"])
    if body.get("error_description"):
        # Microsoft appends trace and correlation ids on further lines.
        reason += ": " + str(body["error_description"]).splitlines()[0][:300]
    return reason


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as IMAP and SMTP send it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
