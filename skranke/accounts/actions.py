"""Writes to agents' own settings."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from skranke.accounts.models import Presence, User


@transaction.atomic
def set_presence(user: User, presence: str) -> User:
    """Available / busy / away / offline; routing will read it to decide who gets new cases."""
    if presence not in Presence.values:
        raise ValidationError(_("%(value)s is not a valid presence.") % {"value": presence})
    if user.presence != presence:
        user.presence = presence
        user.save(update_fields=["presence"])
    return user
