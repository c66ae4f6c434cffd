"""Forms of the agent workspace. They validate and translate input; the writes happen in
``skranke.cases.actions``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from skranke.accounts.models import Team, User
from skranke.cases.actions import NewAttachment
from skranke.cases.models import CaseType, Category, Channel, MessageKind, Priority, Status
from skranke.cases.queues import SORTS, VISIBLE_SORTS
from skranke.lib.validators import normalise_email, normalise_phone
from skranke.lib.widgets import FastSelect


def _blank(choices: Any, label: Any = "") -> list[tuple[str, Any]]:
    return [("", label or "—"), *choices]


def active_agents() -> Any:
    return User.objects.filter(is_active=True).only("id", "name", "email").order_by("name")


class QueueFilterForm(forms.Form):
    """Read from the query string; invalid values are dropped rather than shown as errors."""

    q = forms.CharField(required=False, label=_("Search"))
    status = forms.ChoiceField(required=False, label=_("Status"), widget=FastSelect)
    priority = forms.ChoiceField(required=False, label=_("Priority"), widget=FastSelect)
    channel = forms.ChoiceField(required=False, label=_("Channel"), widget=FastSelect)
    type = forms.ChoiceField(required=False, label=_("Type"), widget=FastSelect)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, label=_("Team"))
    assignee = forms.CharField(required=False, label=_("Assignee"))
    tag = forms.CharField(required=False, label=_("Tag"), max_length=50)
    sort = forms.ChoiceField(required=False, label=_("Sort"))
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _blank(Status.choices, _("Any status"))  # type: ignore[attr-defined]
        self.fields["priority"].choices = _blank(Priority.choices, _("Any priority"))  # type: ignore[attr-defined]
        self.fields["channel"].choices = _blank(Channel.choices, _("Any channel"))  # type: ignore[attr-defined]
        self.fields["type"].choices = _blank(CaseType.choices, _("Any type"))  # type: ignore[attr-defined]
        self.fields["sort"].choices = [(k, SORTS[k][0]) for k in VISIBLE_SORTS] + [  # type: ignore[attr-defined]
            (k, SORTS[k][0]) for k in SORTS if k not in VISIBLE_SORTS
        ]

    def clean_assignee(self) -> str:
        value = self.cleaned_data["assignee"].strip()
        if value in ("", "me", "none") or value.isdigit():
            return value
        return ""

    @property
    def filters(self) -> dict[str, Any]:
        if self.is_valid():
            return self.cleaned_data
        # Keep the fields that did validate: a bad ?priority= must not blank the whole queue.
        return {k: v for k, v in self.cleaned_data.items() if k not in self.errors}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def check_upload_sizes(files: list[UploadedFile]) -> None:
    """Refuse an oversize file from its declared size, before reading it into memory."""
    limit = settings.SKRANKE_MAX_ATTACHMENT_BYTES
    for upload in files:
        if upload.size is not None and upload.size > limit:
            raise ValidationError(
                _("%(name)s is %(size)s; the largest file allowed is %(limit)s.")
                % {
                    "name": upload.name,
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(limit),
                },
                code="attachment_too_large",
            )


def to_attachments(files: list[UploadedFile]) -> list[NewAttachment]:
    return [
        NewAttachment(
            filename=upload.name or "attachment",
            content=upload.read(),
            content_type=upload.content_type or "application/octet-stream",
        )
        for upload in files
    ]


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(MessageKind.REPLY, _("Public reply")), (MessageKind.NOTE, _("Internal note"))],
        initial=MessageKind.REPLY,
        widget=forms.RadioSelect,
        label=_("Kind"),
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=_("Message"),
        max_length=100_000,
    )
    attachments = MultipleFileField(required=False, label=_("Attachments"))
    status = forms.ChoiceField(required=False, label=_("Then set status"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _blank(Status.choices, _("Keep status"))  # type: ignore[attr-defined]

    def clean_attachments(self) -> list[UploadedFile]:
        files = self.cleaned_data.get("attachments") or []
        check_upload_sizes(files)
        return files

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("body") or "").strip() and not data.get("attachments") and not self.errors:
            raise ValidationError(_("Write a message or attach a file."), code="empty_message")
        return data


class CasePropertiesForm(forms.Form):
    # FastSelect: the assignee list has an option per agent (hundreds in a large centre).
    status = forms.ChoiceField(choices=Status.choices, label=_("Status"), widget=FastSelect)
    priority = forms.ChoiceField(choices=Priority.choices, label=_("Priority"), widget=FastSelect)
    type = forms.ChoiceField(choices=CaseType.choices, label=_("Type"), widget=FastSelect)
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        required=False,
        label=_("Category"),
        empty_label=_("No category"),
        widget=FastSelect,
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), label=_("Team"), widget=FastSelect)
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Assignee"),
        empty_label=_("Unassigned"),
        widget=FastSelect,
    )
    tags = forms.CharField(
        required=False, label=_("Tags"), help_text=_("Separate with commas."), max_length=500
    )
    follow_up_at = forms.DateTimeField(
        required=False,
        label=_("Follow up"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = active_agents()  # type: ignore[attr-defined]

    @classmethod
    def for_case(cls, case: Any, data: Any = None) -> CasePropertiesForm:
        from django.utils import timezone

        initial = {
            "status": case.status,
            "priority": case.priority,
            "type": case.type,
            "category": case.category_id,
            "team": case.team_id,
            "assignee": case.assignee_id,
            "tags": ", ".join(t.name for t in case.tags.all()),
            "follow_up_at": timezone.localtime(case.follow_up_at) if case.follow_up_at else None,
        }
        return cls(data, initial=initial, prefix="props")

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("status") == Status.PENDING and not data.get("follow_up_at"):
            self.add_error("follow_up_at", _("A pending case needs a follow-up time."))
        return data

    def changes(self) -> dict[str, Any]:
        """Only the fields the agent changed, so a save writes only the events that happened."""
        changed = {name: self.cleaned_data[name] for name in self.changed_data}
        if "tags" in changed:
            initial = [t.strip() for t in str(self.initial.get("tags", "")).split(",") if t.strip()]
            if sorted(changed["tags"]) == sorted(initial):
                del changed["tags"]
        return changed


class CaseNumberForm(forms.Form):
    number = forms.IntegerField(label=_("Case number"), min_value=1)


class BulkForm(forms.Form):
    ACTIONS = [
        ("assign_me", _("Assign to me")),
        ("assign", _("Assign to…")),
        ("unassign", _("Remove assignee")),
        ("status", _("Set status…")),
    ]
    action = forms.ChoiceField(choices=ACTIONS, label=_("Action"))
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Assignee")
    )
    status = forms.ChoiceField(choices=_blank(Status.choices), required=False, label=_("Status"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = active_agents()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        values = self.data.getlist("numbers") if hasattr(self.data, "getlist") else []
        try:
            numbers = sorted({int(v) for v in values})
        except ValueError:
            numbers = []
        if not numbers:
            raise ValidationError(_("Select at least one case."), code="required")
        if len(numbers) > 200:
            raise ValidationError(_("Select at most 200 cases at a time."), code="too_many")
        data["numbers"] = numbers
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose who gets the cases."))
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        return data


class NewCaseForm(forms.Form):
    customer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer_name = forms.CharField(required=False, max_length=200, label=_("Customer name"))
    customer_email = forms.EmailField(required=False, label=_("Email"))
    customer_phone = forms.CharField(required=False, max_length=30, label=_("Phone"))
    subject = forms.CharField(max_length=300, label=_("Subject"))
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, label=_("What the customer said")
    )
    message_kind = forms.ChoiceField(
        choices=[
            (MessageKind.CUSTOMER, _("The customer's inquiry")),
            (MessageKind.NOTE, _("Internal note")),
        ],
        initial=MessageKind.CUSTOMER,
        widget=forms.RadioSelect,
        label=_("Record the text as"),
    )
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE, label=_("Channel"))
    team = forms.ModelChoiceField(queryset=Team.objects.all(), label=_("Team"))
    priority = forms.ChoiceField(
        choices=Priority.choices, initial=Priority.NORMAL, label=_("Priority")
    )
    type = forms.ChoiceField(choices=CaseType.choices, initial=CaseType.QUESTION, label=_("Type"))
    assign_to_me = forms.BooleanField(required=False, initial=True, label=_("Assign to me"))
    attachments = MultipleFileField(required=False, label=_("Attachments"))

    def clean_customer_email(self) -> str:
        value = self.cleaned_data["customer_email"]
        return normalise_email(value) if value else ""

    def clean_customer_phone(self) -> str:
        value = self.cleaned_data["customer_phone"].strip()
        return normalise_phone(value) if value else ""

    def clean_attachments(self) -> list[UploadedFile]:
        files = self.cleaned_data.get("attachments") or []
        check_upload_sizes(files)
        return files

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        has_contact = data.get("customer_email") or data.get("customer_phone")
        if (
            not data.get("customer_id")
            and not has_contact
            and not self.errors.keys()
            & {
                "customer_email",
                "customer_phone",
            }
        ):
            raise ValidationError(
                _("Find the customer, or give an email address or phone number for a new one."),
                code="no_customer",
            )
        return data
