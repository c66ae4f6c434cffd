"""Forecasting contact volumes: arrivals per interval, daily volumes, intraday profiles.

Pure functions over plain data (datetimes, dates, numbers); the Django layer feeds them from
the case and call tables later. The daily forecast runs three methods — Holt-Winters
exponential smoothing, seasonal naive (same weekday last week) and the 8-week average of the
same weekday — back-tests each on the most recent weeks and keeps the one with the lowest
WAPE for that series, because no single method wins for every queue.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
import numpy as np

from skranke.workforce.erlang import WorkforceInputError

__all__ = [
    "Adjustment",
    "DailyForecast",
    "ForecastMethod",
    "HolidayPolicy",
    "apply_adjustments",
    "arrivals_per_interval",
    "daily_counts",
    "forecast_daily",
    "intraday_forecast",
    "intraday_profile",
    "norwegian_holidays",
    "wape",
]

WEEK = 7
# Holt-Winters needs two full seasons to estimate a weekly pattern, plus a few days to settle.
_MIN_DAYS_FOR_SMOOTHING = 3 * WEEK


class ForecastMethod(StrEnum):
    HOLT_WINTERS = "holt_winters"
    SEASONAL_NAIVE = "seasonal_naive"
    EIGHT_WEEK_AVERAGE = "eight_week_average"


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A planner's correction, e.g. +30 % for a campaign: multiply days start..end (inclusive)."""

    start: date
    end: date
    factor: float
    note: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise WorkforceInputError(
                f"Adjustment {self.note or ''} ends ({self.end}) before it starts ({self.start})."
            )
        if not math.isfinite(self.factor) or self.factor < 0:
            raise WorkforceInputError(
                f"An adjustment factor must be 0 or more (got {self.factor}); use 1.3 for +30 %."
            )


@dataclass(frozen=True, slots=True)
class HolidayPolicy:
    """What a Norwegian public holiday does to the forecast.

    ``factor`` 0 (the default) means closed; 0.4 means a quiet day at 40 % of normal.
    ``overrides`` set a factor per date (e.g. Christmas Eve, which is no public holiday but
    often a half day). Holidays in the history are replaced by the same weekday's neighbours
    so that Easter does not teach the model that Thursdays are quiet.
    """

    factor: float = 0.0
    overrides: Mapping[date, float] = field(default_factory=dict)
    clean_history: bool = True


@dataclass(frozen=True, slots=True)
class DailyForecast:
    method: ForecastMethod
    wape_by_method: dict[ForecastMethod, float]
    values: dict[date, float]
    holidays: dict[date, str]

    @property
    def wape(self) -> float:
        return self.wape_by_method[self.method]


def norwegian_holidays(years: Iterable[int]) -> dict[date, str]:
    """Norway's public holidays (not ordinary Sundays) for ``years``, with Norwegian names."""
    calendar = holiday_calendars.country_holidays("NO", years=sorted(set(years)))
    return {day: str(name) for day, name in calendar.items()}


def _local_naive(moment: datetime, timezone: ZoneInfo | None) -> datetime:
    # Bins are wall-clock intervals in the centre's time zone: that is how opening hours and
    # shifts are written, and a DST change then merely makes one day 23 or 25 hours long.
    if moment.tzinfo is None:
        return moment
    if timezone is None:
        raise WorkforceInputError(
            "The timestamps carry a time zone; say which local time to count in (e.g. Europe/Oslo)."
        )
    return moment.astimezone(timezone).replace(tzinfo=None)


def _floor(moment: datetime, minutes: int) -> datetime:
    minute_of_day = moment.hour * 60 + moment.minute
    floored = minute_of_day - minute_of_day % minutes
    return moment.replace(hour=floored // 60, minute=floored % 60, second=0, microsecond=0)


def arrivals_per_interval(
    timestamps: Iterable[datetime],
    *,
    interval_minutes: int = 15,
    start: datetime | None = None,
    end: datetime | None = None,
    timezone: ZoneInfo | None = None,
) -> list[tuple[datetime, int]]:
    """Count arrivals per interval, with zero rows for empty intervals, from start to end.

    ``start``/``end`` default to the first and last arrival; ``end`` is exclusive. Aware
    timestamps are converted to ``timezone`` first and the result is in local wall time.
    """
    if interval_minutes <= 0 or 1440 % interval_minutes:
        raise WorkforceInputError(
            f"The interval must divide a day into whole intervals (got {interval_minutes} min)."
        )
    counts = Counter(
        _floor(_local_naive(moment, timezone), interval_minutes) for moment in timestamps
    )
    if start is None and end is None and not counts:
        return []
    first = _floor(_local_naive(start, timezone), interval_minutes) if start else min(counts)
    last = _local_naive(end, timezone) if end else max(counts) + timedelta(minutes=interval_minutes)
    step = timedelta(minutes=interval_minutes)
    rows = []
    moment = first
    while moment < last:
        rows.append((moment, counts.get(moment, 0)))
        moment += step
    return rows


def daily_counts(
    timestamps: Iterable[datetime], *, timezone: ZoneInfo | None = None
) -> dict[date, int]:
    """Arrivals per local calendar day, including empty days between the first and last."""
    counts = Counter(_local_naive(moment, timezone).date() for moment in timestamps)
    if not counts:
        return {}
    day, last = min(counts), max(counts)
    result = {}
    while day <= last:
        result[day] = counts.get(day, 0)
        day += timedelta(days=1)
    return result


def wape(actual: Sequence[float], forecast: Sequence[float]) -> float:
    """Weighted absolute percentage error: Σ|actual − forecast| / Σ actual.

    Unlike MAPE it survives closed days with zero volume, and it weights busy days more,
    which is where staffing errors cost most.
    """
    if len(actual) != len(forecast) or not actual:
        raise WorkforceInputError("WAPE needs equally long, non-empty series.")
    total = float(np.sum(np.abs(actual)))
    error = float(np.sum(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))))
    if total == 0:
        return 0.0 if error == 0 else math.inf
    return error / total


def _seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    last_week = history[-WEEK:]
    return np.array([last_week[index % WEEK] for index in range(horizon)], dtype=float)


def _eight_week_average(history: np.ndarray, horizon: int) -> np.ndarray:
    weeks = min(8, history.size // WEEK)
    recent = history[-weeks * WEEK :].reshape(weeks, WEEK)
    mean = recent.mean(axis=0)
    return np.array([mean[index % WEEK] for index in range(horizon)], dtype=float)


def _holt_winters(history: np.ndarray, horizon: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    # Additive damped trend and additive weekly season: robust with closed days (zeros),
    # and the damping stops a short upswing from being projected forever.
    model = ExponentialSmoothing(
        history,
        trend="add",
        damped_trend=True,
        seasonal="add",
        seasonal_periods=WEEK,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():
        # statsmodels warns about convergence on short or flat series; the back-test judges
        # the result instead.
        warnings.simplefilter("ignore")
        fitted = model.fit(optimized=True)
        values = np.asarray(fitted.forecast(horizon), dtype=float)
    if not np.all(np.isfinite(values)):
        raise WorkforceInputError("Holt-Winters produced no usable forecast for this series.")
    return np.clip(values, 0.0, None)


_METHODS: dict[ForecastMethod, Callable[[np.ndarray, int], np.ndarray]] = {
    ForecastMethod.HOLT_WINTERS: _holt_winters,
    ForecastMethod.SEASONAL_NAIVE: _seasonal_naive,
    ForecastMethod.EIGHT_WEEK_AVERAGE: _eight_week_average,
}


def _contiguous(history: Mapping[date, float]) -> tuple[list[date], np.ndarray]:
    if not history:
        raise WorkforceInputError("There is no history to forecast from.")
    values = dict(history)
    if any(not math.isfinite(v) or v < 0 for v in values.values()):
        raise WorkforceInputError("Daily volumes must be finite and not negative.")
    day, last = min(values), max(values)
    days = []
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    # A missing day is a day with no contacts (e.g. closed), not unknown.
    return days, np.array([float(values.get(d, 0.0)) for d in days])


def _clean_holidays(days: list[date], series: np.ndarray, holiday_days: set[date]) -> np.ndarray:
    cleaned = series.copy()
    for index, day in enumerate(days):
        if day not in holiday_days:
            continue
        neighbours = [
            series[other]
            for other in (index - WEEK, index + WEEK)
            if 0 <= other < len(days) and days[other] not in holiday_days
        ]
        if neighbours:
            cleaned[index] = float(np.mean(neighbours))
    return cleaned


def forecast_daily(
    history: Mapping[date, float],
    horizon_days: int,
    *,
    holdout_days: int = 28,
    holiday_policy: HolidayPolicy | None = None,
    adjustments: Sequence[Adjustment] = (),
    methods: Sequence[ForecastMethod] = tuple(ForecastMethod),
) -> DailyForecast:
    """Forecast the next ``horizon_days`` days after the history, choosing the method by
    back-test WAPE over the last ``holdout_days`` days (shortened when history is short).

    Then Norwegian holidays in the horizon are closed or scaled, and manual adjustments are
    applied last, so a planner's +30 % is never undone by the model.
    """
    if horizon_days <= 0:
        raise WorkforceInputError(f"The horizon must be at least one day (got {horizon_days}).")
    days, series = _contiguous(history)
    if len(days) < 2 * WEEK:
        raise WorkforceInputError(
            f"At least two weeks of daily history are needed (got {len(days)} days)."
        )
    policy = holiday_policy or HolidayPolicy()
    future = [days[-1] + timedelta(days=offset) for offset in range(1, horizon_days + 1)]
    calendar = norwegian_holidays({day.year for day in days + future})
    if policy.clean_history:
        series = _clean_holidays(days, series, set(calendar))

    holdout = min(holdout_days, len(days) - 2 * WEEK)
    holdout -= holdout % WEEK  # whole weeks, so every weekday is judged equally often
    holdout = max(holdout, WEEK) if len(days) >= 3 * WEEK else 0
    candidates = [
        method
        for method in methods
        if method is not ForecastMethod.HOLT_WINTERS
        or len(days) - holdout >= _MIN_DAYS_FOR_SMOOTHING
    ]
    if not candidates:
        raise WorkforceInputError("None of the requested forecast methods fits this history.")
    errors: dict[ForecastMethod, float] = {}
    if holdout:
        train, test = series[:-holdout], series[-holdout:]
        for method in candidates:
            errors[method] = wape(list(test), list(_METHODS[method](train, holdout)))
        chosen = min(candidates, key=lambda method: (errors[method], method.value))
    else:
        # Too short to back-test: the seasonal naive forecast is the honest default.
        chosen = (
            ForecastMethod.SEASONAL_NAIVE
            if ForecastMethod.SEASONAL_NAIVE in candidates
            else candidates[0]
        )
        errors = {method: math.nan for method in candidates}

    values = _METHODS[chosen](series, horizon_days)
    forecast = {day: float(value) for day, value in zip(future, values, strict=True)}
    horizon_holidays = {day: calendar[day] for day in future if day in calendar}
    for day in horizon_holidays:
        forecast[day] *= policy.overrides.get(day, policy.factor)
    for day, factor in policy.overrides.items():
        if day in forecast and day not in horizon_holidays:
            forecast[day] *= factor
    forecast = apply_adjustments(forecast, adjustments)
    return DailyForecast(
        method=chosen, wape_by_method=errors, values=forecast, holidays=horizon_holidays
    )


def apply_adjustments(
    values: Mapping[date, float], adjustments: Sequence[Adjustment]
) -> dict[date, float]:
    """Multiply each day by every adjustment covering it (two campaigns compound)."""
    result = dict(values)
    for adjustment in adjustments:
        for day in result:
            if adjustment.start <= day <= adjustment.end:
                result[day] *= adjustment.factor
    return result


def intraday_profile(
    interval_counts: Iterable[tuple[datetime, float]], *, interval_minutes: int = 15
) -> dict[int, list[float]]:
    """Share of each weekday's volume falling in each interval of the day.

    Keyed by ``date.weekday()`` (0 = Monday); each list has 24·60/interval entries summing
    to 1. Weekdays without any volume are left out: there is no shape to learn.
    """
    if interval_minutes <= 0 or 1440 % interval_minutes:
        raise WorkforceInputError(
            f"The interval must divide a day into whole intervals (got {interval_minutes} min)."
        )
    slots = 1440 // interval_minutes
    totals: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(slots))
    for moment, count in interval_counts:
        if count < 0:
            raise WorkforceInputError("Interval counts cannot be negative.")
        slot = (moment.hour * 60 + moment.minute) // interval_minutes
        totals[moment.weekday()][slot] += count
    return {
        weekday: list(values / values.sum())
        for weekday, values in sorted(totals.items())
        if values.sum() > 0
    }


def intraday_forecast(
    daily: Mapping[date, float],
    profiles: Mapping[int, Sequence[float]],
    *,
    interval_minutes: int = 15,
) -> list[tuple[datetime, float]]:
    """Spread each day's forecast over its intervals with that weekday's profile.

    A day whose weekday has no profile (e.g. always closed) must forecast zero; anything else
    would lose volume silently, so it is an error.
    """
    rows: list[tuple[datetime, float]] = []
    step = timedelta(minutes=interval_minutes)
    for day in sorted(daily):
        total = daily[day]
        profile = profiles.get(day.weekday())
        if profile is None:
            if total > 0:
                raise WorkforceInputError(
                    f"{day} has a forecast of {total:.0f} but its weekday has no intraday "
                    "profile (no history on that weekday)."
                )
            profile = [0.0] * (1440 // interval_minutes)
        start = datetime.combine(day, datetime.min.time())
        rows.extend((start + index * step, total * share) for index, share in enumerate(profile))
    return rows
