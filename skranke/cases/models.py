from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from skranke.accounts.models import Team
from skranke.customers.models import Customer, Language, Organisation


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# Statuses in which the case still needs the centre's attention.
ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class CaseType(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    COMPLAINT = "complaint", _("Complaint")
    RETURN = "return", _("Return")
    FEEDBACK = "feedback", _("Feedback")
    TASK = "task", _("Task")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    WEB = "web", _("Web form")
    API = "api", _("API")
    WALK_IN = "walk_in", _("Walk-in")


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The label of ``value`` in the current language, or the value itself if unknown."""
    member = choices._value2member_map_.get(value)
    return str(member.label) if member is not None else value  # type: ignore[attr-defined]


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    team = models.ForeignKey(
        Team, verbose_name=_("default team"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Counter(models.Model):
    """Case numbers on SQLite, gap-free, updated inside the creating transaction. PostgreSQL
    takes them from a sequence (migration cases.0004, ``actions.next_numbers``)."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class Case(models.Model):
    number = models.BigIntegerField(_("number"), unique=True)
    subject = models.CharField(_("subject"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    type = models.CharField(
        _("type"), max_length=10, choices=CaseType.choices, default=CaseType.QUESTION
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="cases")
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="cases"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="cases"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.NB
    )
    follow_up_at = models.DateTimeField(_("follow up"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # CC'd people and other channel details that belong to the case, not to a message.
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            # Queue views filter by team/assignee/status and sort by update time; counts use the
            # same indexes so they scale with the size of the queue, not the table.
            models.Index(fields=["team", "status", "-updated_at"], name="case_team_status_upd"),
            models.Index(fields=["assignee", "status", "-updated_at"], name="case_asg_status_upd"),
            models.Index(fields=["status", "-updated_at"], name="case_status_upd"),
            # "All open" filtered by priority, channel or type: without these the filter is
            # checked on every active case of the agent's teams, or on every case of the table
            # when the planner misjudges how few cases are active (bench/bench_pages.py at 1M).
            models.Index(fields=["status", "priority", "-updated_at"], name="case_status_prio_upd"),
            models.Index(fields=["status", "channel", "-created_at"], name="case_status_chan_crt"),
            models.Index(fields=["status", "type"], name="case_status_type"),
            models.Index(fields=["status", "follow_up_at"], name="case_status_followup"),
            models.Index(fields=["customer", "-created_at"], name="case_customer_created"),
            models.Index(fields=["organisation", "-created_at"], name="case_org_created"),
            models.Index(fields=["-solved_at"], name="case_solved_at"),
            models.Index(fields=["created_at"], name="case_created_at"),
            # Newest-changed first across all statuses (the API list, a lead's views):
            # without it the planner sorts every visible case (bench/bench_pages.py).
            models.Index(fields=["-updated_at", "-id"], name="case_updated"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("cases:detail", args=[self.number])

    # Django's get_FOO_display() rebuilds a dict of the field's choices on every call; these are
    # called for every row of a queue page, so look the label up on the enum instead.
    def get_status_display(self) -> str:  # type: ignore[no-redef]
        return choice_label(Status, self.status)

    def get_priority_display(self) -> str:  # type: ignore[no-redef]
        return choice_label(Priority, self.priority)

    def get_type_display(self) -> str:  # type: ignore[no-redef]
        return choice_label(CaseType, self.type)

    def get_channel_display(self) -> str:  # type: ignore[no-redef]
        return choice_label(Channel, self.channel)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class LinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    FOLLOW_UP = "follow_up", _("Follow-up of")
    SPLIT_FROM = "split_from", _("Split from")


class CaseLink(models.Model):
    from_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_out")
    to_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=12, choices=LinkKind.choices, default=LinkKind.RELATED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_case", "to_case"], name="caselink_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.from_case_id} {self.kind} {self.to_case_id}"


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("From customer")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("Not sent")
    QUEUED = "queued", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL)
    body_text = models.TextField(blank=True)
    # Always sanitised (nh3) before it is stored; templates mark it safe.
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # RFC 5322 Message-ID for email; other channels' external ids.
    external_id = models.CharField(max_length=500, blank=True, db_index=True)
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )
    delivery_error = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="message_case_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"

    @property
    def is_note(self) -> bool:
        return self.kind == MessageKind.NOTE


def attachment_path(instance: Attachment, filename: str) -> str:
    # Content-addressed so the same file attached twice is stored once on disk.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256[2:4]}/{instance.sha256}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    MESSAGE = "message", _("Message added")
    STATUS = "status", _("Status changed")
    PRIORITY = "priority", _("Priority changed")
    TYPE = "type", _("Type changed")
    CATEGORY = "category", _("Category changed")
    TEAM = "team", _("Team changed")
    ASSIGNEE = "assignee", _("Assignee changed")
    TAGS = "tags", _("Tags changed")
    FOLLOW_UP = "follow_up", _("Follow-up changed")
    SUBJECT = "subject", _("Subject changed")
    CUSTOMER = "customer", _("Customer changed")
    MERGED = "merged", _("Merged")
    MERGED_INTO = "merged_into", _("Merged into another case")
    LINKED = "linked", _("Linked")


class CaseEvent(models.Model):
    """Immutable history. Reports and SLA clocks are computed from these rows, so every
    change to a case writes one, inside the same transaction as the change itself."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    old_value = models.CharField(max_length=300, blank=True)
    new_value = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_created"),
            models.Index(fields=["kind", "created_at"], name="event_kind_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Case events are immutable")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
