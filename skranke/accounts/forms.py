from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from skranke.accounts.models import Presence


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _("Wrong email or password."),
        "inactive": _("This account is disabled."),
    }


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(choices=Presence.choices)
