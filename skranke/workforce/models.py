"""Workforce planning settings a team lead or administrator changes, and the schedules built.

The maths (Erlang, forecasting, CP-SAT) lives in the Django-free modules of this package; these
models hold what it is fed with (per-channel targets, shrinkage, opening hours, shift templates,
agents' contracts) and what it produced (a week's schedule and its shifts).
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from skranke.cases.models import Channel


class ChannelKind(models.TextChoices):
    """How a channel is staffed: a live queue (Erlang), chat (Erlang with concurrency) or
    written work (workload within a response time)."""

    QUEUE = "queue", _("Live queue")
    CHAT = "chat", _("Chat")
    WRITTEN = "written", _("Written work")


CHANNEL_KINDS: dict[str, ChannelKind] = {
    Channel.PHONE: ChannelKind.QUEUE,
    Channel.WALK_IN: ChannelKind.QUEUE,
    Channel.CHAT: ChannelKind.CHAT,
    Channel.EMAIL: ChannelKind.WRITTEN,
    Channel.WEB: ChannelKind.WRITTEN,
    Channel.API: ChannelKind.WRITTEN,
}


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def _percent(**extra: Any) -> models.FloatField:
    return models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(100)], **extra)


class ChannelSettings(models.Model):
    """Targets and handling time for one channel; one row per planned channel."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, unique=True)
    planned = models.BooleanField(
        _("planned"), default=True, help_text=_("Forecast and staff this channel.")
    )
    aht_seconds = models.PositiveIntegerField(
        _("average handling time (seconds)"),
        default=300,
        validators=[MinValueValidator(1)],
        help_text=_("Used when the channel does not measure its own handling times."),
    )
    service_level_percent = _percent(default=80, verbose_name=_("service level target (%)"))
    target_seconds = models.PositiveIntegerField(_("answered within (seconds)"), default=20)
    patience_seconds = models.PositiveIntegerField(
        _("mean patience (seconds)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Callers' mean patience. Empty: nobody hangs up (Erlang C)."),
    )
    max_occupancy_percent = models.FloatField(
        _("maximum occupancy (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    chat_concurrency = models.PositiveSmallIntegerField(
        _("chats per agent"), default=2, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    response_hours = models.FloatField(
        _("response target for written work (hours)"),
        default=8,
        validators=[MinValueValidator(0.25)],
    )

    class Meta:
        verbose_name = _("channel settings")
        verbose_name_plural = _("channel settings")
        ordering = ["channel"]

    def __str__(self) -> str:
        return str(self.get_channel_display())

    @property
    def kind(self) -> ChannelKind:
        return CHANNEL_KINDS.get(self.channel, ChannelKind.WRITTEN)


class Shrinkage(models.Model):
    """One part of shrinkage (breaks, meetings, training, sick leave…); the parts add up."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    percent = models.FloatField(
        _("percent of paid time"), validators=[MinValueValidator(0), MaxValueValidator(99)]
    )

    class Meta:
        verbose_name = _("shrinkage")
        verbose_name_plural = _("shrinkage")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent:g} %)"


class OpeningHours(models.Model):
    """When a channel is open on a weekday; a missing weekday means closed."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"), default=time(9))
    closes = models.TimeField(_("closes"), default=time(18, 30))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["channel", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "weekday"], name="wfm_opening_unique"),
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="wfm_opening_order"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_channel_display()} {self.get_weekday_display()} "
            f"{self.opens:%H:%M}–{self.closes:%H:%M}"
        )


class ShiftTemplate(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    start = models.TimeField(_("start"))
    length_minutes = models.PositiveIntegerField(
        _("length (minutes)"), validators=[MinValueValidator(15), MaxValueValidator(16 * 60)]
    )
    break_minutes = models.PositiveIntegerField(_("unpaid break (minutes)"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shift template")
        verbose_name_plural = _("shift templates")
        ordering = ["start", "length_minutes"]

    def __str__(self) -> str:
        return f"{self.name} ({self.start:%H:%M}, {self.length_minutes / 60:g} h)"


class AgentContract(models.Model):
    """What the scheduler knows about a person: hours, channels, days off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="workforce_contract",
    )
    weekly_hours = models.FloatField(
        _("contracted hours per week"), validators=[MinValueValidator(0), MaxValueValidator(60)]
    )
    hours_tolerance = models.FloatField(
        _("hours tolerance"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("The week may be this many hours shorter or longer than the contract."),
    )
    channels = models.JSONField(
        _("channels"), default=list, blank=True, help_text=_('e.g. ["phone", "email"]')
    )
    weekdays_off = models.JSONField(
        _("weekdays never worked"), default=list, blank=True, help_text=_("0 = Monday … 6 = Sunday")
    )
    days_off = models.JSONField(
        _("requested days off"), default=list, blank=True, help_text=_('e.g. ["2026-06-04"]')
    )
    hourly_cost = models.FloatField(
        _("hourly cost"), default=1.0, validators=[MinValueValidator(0)]
    )
    active = models.BooleanField(_("scheduled"), default=True)

    class Meta:
        verbose_name = _("agent contract")
        verbose_name_plural = _("agent contracts")
        ordering = ["user__name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.weekly_hours:g} h)"


class ForecastAdjustment(models.Model):
    """A planner's correction: +30 % for a campaign, −50 % for a closed week."""

    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=Channel.choices,
        blank=True,
        help_text=_("Empty: every channel."),
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    percent = models.FloatField(_("change (%)"), validators=[MinValueValidator(-100)])
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("forecast adjustment")
        verbose_name_plural = _("forecast adjustments")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="wfm_adjustment_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.percent:+g} % {self.start}–{self.end}"

    @property
    def factor(self) -> float:
        return 1 + self.percent / 100


class ScheduleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    INFEASIBLE = "infeasible", _("No schedule possible")
    FAILED = "failed", _("Failed")


class Schedule(models.Model):
    """One week's schedule: the input given to the solver, its result and its shifts."""

    week_start = models.DateField(_("week starting"))
    status = models.CharField(
        _("status"), max_length=10, choices=ScheduleStatus.choices, default=ScheduleStatus.DRAFT
    )
    run_status = models.CharField(
        _("solver run"), max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    solver_status = models.CharField(_("solver status"), max_length=20, blank=True)
    gap = models.FloatField(_("optimality gap"), null=True, blank=True)
    time_limit_seconds = models.FloatField(_("time limit (seconds)"), default=30)
    solve_seconds = models.FloatField(null=True, blank=True)
    problem = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["-week_start", "-created_at"]
        indexes = [models.Index(fields=["status", "week_start"], name="wfm_schedule_status_week")]

    def __str__(self) -> str:
        return f"{self.week_start} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.run_status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def week_end(self) -> date:
        from datetime import timedelta

        return self.week_start + timedelta(days=6)


class ScheduledShift(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="shifts")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduled_shifts"
    )
    date = models.DateField(_("date"))
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))
    break_start = models.TimeField(_("break starts"), null=True, blank=True)
    break_end = models.TimeField(_("break ends"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    template = models.CharField(_("shift template"), max_length=50, blank=True)
    paid_hours = models.FloatField(_("paid hours"), default=0)

    class Meta:
        verbose_name = _("scheduled shift")
        verbose_name_plural = _("scheduled shifts")
        ordering = ["date", "start", "agent__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "agent", "date"], name="wfm_shift_one_per_day"
            )
        ]
        indexes = [models.Index(fields=["agent", "date"], name="wfm_shift_agent_date")]

    def __str__(self) -> str:
        return f"{self.agent} {self.date} {self.start:%H:%M}–{self.end:%H:%M} {self.channel}"
