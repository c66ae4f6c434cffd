from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from skranke.workforce.actions import MAX_TIME_LIMIT, MIN_TIME_LIMIT
from skranke.workforce.models import ForecastAdjustment


class DateInput(forms.DateInput):
    input_type = "date"


def next_monday(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


class AdjustmentForm(forms.ModelForm[ForecastAdjustment]):
    class Meta:
        model = ForecastAdjustment
        fields = ["channel", "start", "end", "percent", "note"]
        widgets = {"start": DateInput(), "end": DateInput()}

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"] = forms.ChoiceField(
            label=_("Channel"), choices=[("", _("All channels")), *channels], required=False
        )
        self.fields["percent"].help_text = _("+30 for a campaign, −50 for half the volume.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date is before the start date."))
        return data


class DayForm(forms.Form):
    day = forms.DateField(label=_("Day"), required=False, widget=DateInput())
    channel = forms.ChoiceField(label=_("Channel"), required=False)

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channels  # type: ignore[attr-defined]

    def value(self, name: str, default: Any) -> Any:
        if self.is_valid() and self.cleaned_data.get(name):
            return self.cleaned_data[name]
        return default


class ScheduleForm(forms.Form):
    week_start = forms.DateField(label=_("Week starting (Monday)"), widget=DateInput())
    time_limit_seconds = forms.IntegerField(
        label=_("Solver time limit (seconds)"),
        min_value=MIN_TIME_LIMIT,
        max_value=MAX_TIME_LIMIT,
        initial=30,
    )

    def clean_week_start(self) -> date:
        value: date = self.cleaned_data["week_start"]
        if value.weekday() != 0:
            raise forms.ValidationError(_("Choose a Monday."))
        return value


class WhatIfForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"))
    day = forms.DateField(label=_("Day"), widget=DateInput())
    volume_percent = forms.FloatField(
        label=_("Volume change (%)"), initial=0, min_value=-100, max_value=1000
    )
    aht_seconds = forms.FloatField(
        label=_("Handling time (seconds)"), required=False, min_value=1, max_value=36000
    )
    service_level_percent = forms.FloatField(
        label=_("Service level (%)"), required=False, min_value=1, max_value=99.9
    )
    target_seconds = forms.FloatField(
        label=_("Answered within (seconds)"), required=False, min_value=0, max_value=3600
    )
    shrinkage_percent = forms.FloatField(
        label=_("Shrinkage (%)"), required=False, min_value=0, max_value=95
    )

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channels  # type: ignore[attr-defined]
