from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from skranke.customers.models import Customer, Language, Organisation
from skranke.lib.validators import normalise_email, normalise_org_number, normalise_phone


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    emails = forms.CharField(
        required=False,
        label=_("Email addresses"),
        help_text=_("One a line; the first is the primary address."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    phones = forms.CharField(
        required=False,
        label=_("Phone numbers"),
        help_text=_("One a line; Norwegian numbers need no +47."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    preferred_language = forms.ChoiceField(choices=Language.choices, label=_("Preferred language"))
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.only("id", "name"), required=False, label=_("Organisation")
    )
    address = forms.CharField(max_length=200, required=False, label=_("Address"))
    postal_code = forms.CharField(max_length=10, required=False, label=_("Postal code"))
    city = forms.CharField(max_length=100, required=False, label=_("City"))
    notes = forms.CharField(
        required=False, label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4})
    )

    @classmethod
    def for_customer(cls, customer: Customer, data: Any = None) -> CustomerForm:
        initial = {
            "name": customer.name,
            "emails": "\n".join(e.address for e in customer.emails.all()),
            "phones": "\n".join(p.display for p in customer.phones.all()),
            "preferred_language": customer.preferred_language,
            "organisation": customer.organisation_id,
            "address": customer.address,
            "postal_code": customer.postal_code,
            "city": customer.city,
            "notes": customer.notes,
        }
        return cls(data, initial=initial)

    def clean_emails(self) -> list[str]:
        addresses = [normalise_email(e) for e in _lines(self.cleaned_data["emails"])]
        field = forms.EmailField()
        errors = []
        for address in addresses:
            try:
                field.clean(address)
            except ValidationError:
                errors.append(_("%(value)s is not an email address.") % {"value": address})
        if errors:
            raise ValidationError(errors)
        return addresses

    def clean_phones(self) -> list[str]:
        numbers, errors = [], []
        for value in _lines(self.cleaned_data["phones"]):
            try:
                numbers.append(normalise_phone(value))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return numbers


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    org_number = forms.CharField(
        max_length=11,
        required=False,
        label=_("Organisation number"),
        help_text=_("Nine digits, from Brønnøysundregistrene."),
    )
    email_domains = forms.CharField(
        required=False, label=_("Email domains"), help_text=_("For example firma.no, one a line.")
    )
    notes = forms.CharField(
        required=False, label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4})
    )

    @classmethod
    def for_organisation(cls, organisation: Organisation, data: Any = None) -> OrganisationForm:
        initial = {
            "name": organisation.name,
            "org_number": organisation.org_number,
            "email_domains": "\n".join(organisation.email_domains),
            "notes": organisation.notes,
        }
        return cls(data, initial=initial)

    def clean_org_number(self) -> str:
        value = self.cleaned_data["org_number"].strip()
        return normalise_org_number(value) if value else ""

    def clean_email_domains(self) -> list[str]:
        domains = [d.lower().lstrip("@") for d in _lines(self.cleaned_data["email_domains"])]
        bad = [d for d in domains if "." not in d or " " in d]
        if bad:
            raise ValidationError(_("Not a domain: %(value)s") % {"value": ", ".join(bad)})
        return domains


class MergeCustomerForm(forms.Form):
    other = forms.CharField(
        max_length=200,
        label=_("Duplicate customer"),
        help_text=_(
            "Email, phone number or customer number of the duplicate to fold into this one."
        ),
    )
