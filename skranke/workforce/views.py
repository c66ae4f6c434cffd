"""Team-lead pages (forecast, staffing, schedules, what-if) and every agent's own shifts.

Thin views: ``access`` decides who may look, ``planning`` computes, ``actions`` write, one
template per screen with htmx partials of the same template.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from skranke.accounts.models import User
from skranke.workforce import actions, exports, planning
from skranke.workforce.access import access_schedule, is_planner, own_shifts, planner_required
from skranke.workforce.charts import chart
from skranke.workforce.erlang import WorkforceInputError
from skranke.workforce.forecast import ForecastMethod
from skranke.workforce.forms import AdjustmentForm, DayForm, ScheduleForm, WhatIfForm, next_monday
from skranke.workforce.models import ForecastAdjustment, RunStatus, Schedule

METHOD_LABELS = {
    ForecastMethod.HOLT_WINTERS: gettext_lazy("Holt-Winters (exponential smoothing)"),
    ForecastMethod.SEASONAL_NAIVE: gettext_lazy("Same weekday last week"),
    ForecastMethod.EIGHT_WEEK_AVERAGE: gettext_lazy("8-week average"),
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _weekday(day: date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "D")


def _short_date(day: date) -> str:
    return f"{_weekday(day)} {day:%d.%m}"


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if is_planner(_user(request)):
        return redirect("workforce:forecast")
    return redirect("workforce:my_shifts")


# --- forecast ---------------------------------------------------------------------------------


def _selected_channel(request: HttpRequest, channels: list[tuple[str, str]]) -> str:
    wanted = request.GET.get("channel", "")
    known = [value for value, _ in channels]
    return wanted if wanted in known else (known[0] if known else "")


def _forecast_context(request: HttpRequest, form: AdjustmentForm | None = None) -> dict[str, Any]:
    channels = planning.channel_choices()
    channel = _selected_channel(request, channels)
    horizon = 7 if request.GET.get("horizon") == "7" else 14
    today = timezone.localdate()
    context: dict[str, Any] = {
        "nav_section": "workforce",
        "workforce_tab": "forecast",
        "channels": channels,
        "channel": channel,
        "horizon": horizon,
        "adjustments": ForecastAdjustment.objects.select_related("created_by"),
        "adjustment_form": form or AdjustmentForm(channels=channels, initial={"channel": channel}),
    }
    if not channel:
        return context
    result = planning.forecast_channel(channel, until=today + timedelta(days=horizon - 1))
    context["forecast"] = result
    recent = sorted(result.history)[-28:]
    if result.daily is not None:
        future = sorted(result.daily.values)
        labels = [_short_date(day) for day in recent + future]
        bars = [float(result.history[day]) for day in recent] + [
            result.daily.values[day] for day in future
        ]
        css = ["history"] * len(recent) + ["forecast"] * len(future)
        context["daily_chart"] = chart(
            _("Contacts per day"),
            labels,
            bars=bars,
            bar_css=css,
            label_every=7,
        )
        context["days"] = [
            {
                "day": day,
                "value": result.daily.values[day],
                "holiday": result.daily.holidays.get(day, ""),
            }
            for day in future
        ]
        chosen = result.daily.method
        context["method_label"] = METHOD_LABELS.get(chosen, chosen)
        wape = result.daily.wape
        context["wape_percent"] = None if math.isnan(wape) else wape * 100
        context["total"] = sum(result.daily.values.values())
        context["recent_total"] = sum(result.history[day] for day in recent)
        context["wapes"] = sorted(
            (
                (
                    METHOD_LABELS.get(method, method),
                    None if math.isnan(v) else v * 100,
                    method == chosen,
                )
                for method, v in result.daily.wape_by_method.items()
            ),
            key=lambda item: (item[1] is None, item[1] or 0),
        )
    if result.profiles:
        first, last = _profile_span(result.profiles)
        labels = [f"{slot * 15 // 60:02d}:{slot * 15 % 60:02d}" for slot in range(first, last)]
        lines = [
            (
                f"line-{index}",
                _weekday(today + timedelta(days=(weekday - today.weekday()) % 7)),
                [round(share * 100, 2) for share in profile[first:last]],
            )
            for index, (weekday, profile) in enumerate(sorted(result.profiles.items()))
            if weekday in (0, 2, 4, 5)
        ]
        context["profile_chart"] = chart(
            _("Share of the day's contacts per quarter hour (%)"),
            labels,
            lines=lines,
            label_every=4,
        )
    return context


def _profile_span(profiles: dict[int, list[float]]) -> tuple[int, int]:
    used = [
        slot for profile in profiles.values() for slot, share in enumerate(profile) if share > 0
    ]
    return (min(used, default=32), max(used, default=76) + 1)


@require_GET
@planner_required
def forecast(request: HttpRequest) -> HttpResponse:
    return render(request, "workforce/forecast.html", _forecast_context(request))


@require_POST
@planner_required
def adjustment_create(request: HttpRequest) -> HttpResponse:
    form = AdjustmentForm(request.POST, channels=planning.channel_choices())
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_adjustment(
                start=data["start"],
                end=data["end"],
                percent=data["percent"],
                channel=data["channel"] or "",
                note=data["note"],
                actor=_user(request),
            )
        except WorkforceInputError as error:
            form.add_error(None, str(error))
    if form.errors:
        return render(
            request, "workforce/forecast.html", _forecast_context(request, form), status=400
        )
    messages.success(request, _("Adjustment saved."))
    return redirect(_back(request, "workforce:forecast"))


@require_POST
@planner_required
def adjustment_delete(request: HttpRequest, adjustment_id: int) -> HttpResponse:
    adjustment = ForecastAdjustment.objects.filter(pk=adjustment_id).first()
    if adjustment is None:
        raise Http404("No such adjustment")
    actions.remove_adjustment(adjustment)
    messages.success(request, _("Adjustment removed."))
    return redirect(_back(request, "workforce:forecast"))


def _back(request: HttpRequest, fallback: str) -> str:
    from django.urls import reverse

    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return reverse(fallback)


# --- staffing ---------------------------------------------------------------------------------


def _plans_for_week(
    inputs: list[planning.ChannelInputs], monday: date
) -> tuple[dict[str, list[planning.DayPlan | None]], dict[str, str]]:
    week = [monday + timedelta(days=offset) for offset in range(7)]
    today = timezone.localdate()
    plans: dict[str, list[planning.DayPlan | None]] = {}
    errors: dict[str, str] = {}
    for item in inputs:
        result = planning.forecast_channel(item.channel, until=week[-1])
        if result.daily is None:
            errors[item.channel] = result.error
            continue
        try:
            # Days already gone have no forecast (the history is the truth there).
            plans[item.channel] = [
                planning.plan_day(item, day, result.intervals(day)) if day >= today else None
                for day in week
            ]
        except WorkforceInputError as error:
            errors[item.channel] = str(error)
    return plans, errors


def _day_chart(plan: planning.DayPlan, title: str) -> Any:
    labels = [f"{row.start:%H:%M}" for row in plan.rows]
    return chart(
        title,
        labels,
        bars=[float(row.heads) for row in plan.rows],
        bar_label=_("Heads to schedule"),
        lines=[("line-agents", _("Agents needed"), [float(row.agents) for row in plan.rows])],
        label_every=4,
    )


@require_GET
@planner_required
def staffing(request: HttpRequest) -> HttpResponse:
    channels = planning.channel_choices()
    form = DayForm(request.GET or None, channels=channels)
    today = timezone.localdate()
    day: date = form.value("day", today)
    channel = form.value("channel", channels[0][0] if channels else "")
    monday = day - timedelta(days=day.weekday())
    inputs = planning.planned_channels()
    context: dict[str, Any] = {
        "nav_section": "workforce",
        "workforce_tab": "staffing",
        "form": form,
        "channels": channels,
        "channel": channel,
        "day": day,
        "week": [monday + timedelta(days=offset) for offset in range(7)],
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "inputs": inputs,
        "shrinkage_percent": planning.total_shrinkage() * 100,
    }
    if day < today:
        context["past"] = True
    plans, errors = _plans_for_week(inputs, monday)
    context["errors"] = errors
    context["week_rows"] = [
        {"inputs": item, "days": plans[item.channel]} for item in inputs if item.channel in plans
    ]
    plan = plans.get(channel, [None] * 7)[day.weekday()]
    if plan is not None:
        context["plan"] = plan
        context["day_chart"] = _day_chart(plan, _("Required per quarter hour"))
    return render(request, "workforce/staffing.html", context)


# --- what-if ----------------------------------------------------------------------------------


@require_GET
@planner_required
def what_if(request: HttpRequest) -> HttpResponse:
    channels = planning.channel_choices()
    tomorrow = timezone.localdate() + timedelta(days=1)
    initial = {"channel": channels[0][0] if channels else "", "day": tomorrow, "volume_percent": 0}
    form = WhatIfForm(request.GET or None, channels=channels, initial=initial)
    context: dict[str, Any] = {"nav_section": "workforce", "workforce_tab": "what_if", "form": form}
    if not channels or not form.is_bound or not form.is_valid():
        return render(request, "workforce/what_if.html", context)
    data = form.cleaned_data
    inputs = next(item for item in planning.planned_channels() if item.channel == data["channel"])

    def fraction(value: float | None) -> float | None:
        return None if value is None else value / 100

    change = planning.Change(
        volume_percent=data["volume_percent"],
        aht_seconds=data["aht_seconds"],
        service_level=fraction(data["service_level_percent"]),
        target_seconds=data["target_seconds"],
        shrinkage=fraction(data["shrinkage_percent"]),
    )
    result = planning.forecast_channel(inputs.channel, until=data["day"])
    if result.daily is None:
        context["error"] = result.error
        return render(request, "workforce/what_if.html", context)
    arrivals = result.intervals(data["day"])
    try:
        changed_inputs = change.apply(inputs)
        base = planning.plan_day(inputs, data["day"], arrivals)
        changed = planning.plan_day(changed_inputs, data["day"], change.arrivals(arrivals))
    except WorkforceInputError as error:
        context["error"] = str(error)
        return render(request, "workforce/what_if.html", context)
    context.update(
        base=base,
        changed=changed,
        rows=list(zip(base.rows, changed.rows, strict=True)),
        extra_hours=changed.head_hours - base.head_hours,
        extra_peak=changed.peak_heads - base.peak_heads,
        compare_chart=chart(
            _("Heads to schedule: plan and what-if"),
            [f"{row.start:%H:%M}" for row in base.rows],
            lines=[
                ("line-0", _("Plan"), [float(row.heads) for row in base.rows]),
                ("line-1", _("What-if"), [float(row.heads) for row in changed.rows]),
            ],
            label_every=4,
        ),
    )
    return render(request, "workforce/what_if.html", context)


# --- schedules --------------------------------------------------------------------------------


@planner_required
def schedules(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(
        request.POST or None, initial={"week_start": next_monday(), "time_limit_seconds": 30}
    )
    if request.method == "POST" and form.is_valid():
        try:
            schedule = actions.create_schedule(
                form.cleaned_data["week_start"],
                actor=_user(request),
                time_limit_seconds=form.cleaned_data["time_limit_seconds"],
            )
        except WorkforceInputError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The solver is building the schedule."))
            return redirect("workforce:schedule", schedule_id=schedule.pk)
    context = {
        "nav_section": "workforce",
        "workforce_tab": "schedules",
        "form": form,
        "schedules": Schedule.objects.select_related("created_by")[:50],
    }
    return render(request, "workforce/schedules.html", context, status=400 if form.errors else 200)


def _grid(schedule: Schedule) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for shift in schedule.shifts.select_related("agent").order_by("agent__name", "date"):
        row = rows.setdefault(
            shift.agent_id, {"agent": shift.agent, "days": [None] * 7, "hours": 0.0}
        )
        row["days"][(shift.date - schedule.week_start).days] = shift
        row["hours"] += shift.paid_hours
    return sorted(rows.values(), key=lambda row: str(row["agent"]))


def _coverage(schedule: Schedule, day_index: int) -> dict[str, Any]:
    day = schedule.week_start + timedelta(days=day_index)
    by_channel: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in schedule.result.get("intervals", []):
        if str(row["start"]).startswith(day.isoformat()):
            by_channel[row["channel"]].append(row)
    charts = []
    for channel, rows in by_channel.items():
        labels = [str(row["start"])[11:16] for row in rows]
        charts.append(
            {
                "channel": planning.channel_label(channel),
                "rows": rows,
                "chart": chart(
                    planning.channel_label(channel),
                    labels,
                    bars=[float(row["scheduled"]) for row in rows],
                    bar_label=_("Scheduled"),
                    bar_css=["short" if row["scheduled"] < row["required"] else "" for row in rows],
                    lines=[("line-required", _("Required"), [float(r["required"]) for r in rows])],
                    label_every=4,
                ),
            }
        )
    return {"day": day, "day_index": day_index, "coverage": charts}


@require_GET
@planner_required
def schedule_detail(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule(_user(request), schedule_id)
    try:
        day_index = min(6, max(0, int(request.GET.get("day", "0"))))
    except ValueError:
        day_index = 0
    context: dict[str, Any] = {
        "nav_section": "workforce",
        "workforce_tab": "schedules",
        "schedule": schedule,
        "week": [schedule.week_start + timedelta(days=offset) for offset in range(7)],
    }
    if request.htmx and request.htmx.target == "schedule-status":  # type: ignore[attr-defined]
        if not schedule.is_running:
            # Done: reload the whole page so the grid and charts appear.
            response = HttpResponse("")
            response["HX-Refresh"] = "true"
            return response
        return render(request, "workforce/schedule.html#status", context)
    if schedule.run_status == RunStatus.DONE:
        context["grid"] = _grid(schedule)
        context.update(_coverage(schedule, day_index))
        intervals = schedule.result.get("intervals", [])
        context["short"] = sum(max(0, r["required"] - r["scheduled"]) for r in intervals)
        context["over"] = sum(max(0, r["scheduled"] - r["required"]) for r in intervals)
    return render(request, "workforce/schedule.html", context)


@require_POST
@planner_required
def schedule_publish(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule(_user(request), schedule_id)
    try:
        actions.publish_schedule(schedule, actor=_user(request))
    except WorkforceInputError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Published: agents now see their shifts."))
    return redirect("workforce:schedule", schedule_id=schedule.pk)


def _download(content: str | bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@planner_required
def schedule_export(request: HttpRequest, schedule_id: int, fmt: str) -> HttpResponse:
    schedule = access_schedule(_user(request), schedule_id)
    if schedule.run_status != RunStatus.DONE:
        raise Http404("The schedule has no result yet")
    stem = f"skranke-vaktplan-{schedule.week_start.isoformat()}"
    if fmt == "csv":
        return _download(exports.schedule_csv(schedule), exports.CSV_TYPE, f"{stem}.csv")
    if fmt == "xlsx":
        return _download(exports.schedule_xlsx(schedule), exports.XLSX_TYPE, f"{stem}.xlsx")
    raise Http404("Unknown format")


@require_GET
@planner_required
def schedule_agent_ics(request: HttpRequest, schedule_id: int, user_id: int) -> HttpResponse:
    schedule = access_schedule(_user(request), schedule_id)
    shifts = list(schedule.shifts.filter(agent_id=user_id).select_related("agent", "schedule"))
    if not shifts:
        raise Http404("No shifts for that agent")
    name = f"skranke-vakter-{schedule.week_start.isoformat()}-{user_id}.ics"
    return _download(exports.agent_ics(shifts), exports.ICS_TYPE, name)


# --- my shifts --------------------------------------------------------------------------------


@require_GET
def my_shifts(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    shifts = list(own_shifts(_user(request)).filter(date__gte=today - timedelta(days=7)))
    weeks: dict[date, list[Any]] = {}
    for shift in shifts:
        weeks.setdefault(shift.date - timedelta(days=shift.date.weekday()), []).append(shift)
    context = {
        "nav_section": "my_shifts",
        "workforce_tab": "my_shifts",
        "weeks": sorted(weeks.items()),
        "today": today,
        "hours": sum(shift.paid_hours for shift in shifts if shift.date >= today),
        "planner": is_planner(_user(request)),
    }
    return render(request, "workforce/my_shifts.html", context)


@require_GET
def my_shifts_ics(request: HttpRequest) -> HttpResponse:
    shifts = own_shifts(_user(request)).select_related("agent")
    return _download(exports.agent_ics(shifts), exports.ICS_TYPE, "skranke-mine-vakter.ics")
