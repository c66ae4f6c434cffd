"""Forecasting: interval counts, method choice by back-test, holidays, adjustments, profiles."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from skranke.workforce.forecast import (
    Adjustment,
    ForecastMethod,
    HolidayPolicy,
    WorkforceInputError,
    arrivals_per_interval,
    daily_counts,
    forecast_daily,
    intraday_forecast,
    intraday_profile,
    norwegian_holidays,
    wape,
)

OSLO = ZoneInfo("Europe/Oslo")


def test_arrivals_are_binned_per_quarter_hour_with_empty_bins() -> None:
    stamps = [
        datetime(2025, 3, 3, 9, 0),
        datetime(2025, 3, 3, 9, 14, 59),
        datetime(2025, 3, 3, 9, 15),
        datetime(2025, 3, 3, 9, 50),
    ]
    rows = arrivals_per_interval(stamps, interval_minutes=15)
    assert rows == [
        (datetime(2025, 3, 3, 9, 0), 2),
        (datetime(2025, 3, 3, 9, 15), 1),
        (datetime(2025, 3, 3, 9, 30), 0),
        (datetime(2025, 3, 3, 9, 45), 1),
    ]


def test_aware_timestamps_are_binned_in_local_time() -> None:
    # 08:05 UTC is 09:05 in Oslo in winter (CET, UTC+1).
    stamp = datetime(2025, 1, 6, 8, 5, tzinfo=ZoneInfo("UTC"))
    rows = arrivals_per_interval([stamp], timezone=OSLO)
    assert rows == [(datetime(2025, 1, 6, 9, 0), 1)]
    with pytest.raises(WorkforceInputError, match="time zone"):
        arrivals_per_interval([stamp])


def test_daily_counts_fill_gaps() -> None:
    stamps = [datetime(2025, 1, 6, 10), datetime(2025, 1, 8, 10), datetime(2025, 1, 8, 11)]
    assert daily_counts(stamps) == {
        date(2025, 1, 6): 1,
        date(2025, 1, 7): 0,
        date(2025, 1, 8): 2,
    }


def test_wape() -> None:
    assert wape([100, 0, 50], [90, 10, 50]) == pytest.approx(20 / 150)
    assert wape([0, 0], [0, 0]) == 0.0


def test_norwegian_holidays_include_easter_and_constitution_day_not_sundays() -> None:
    days = norwegian_holidays([2025])
    assert date(2025, 5, 17) in days
    assert date(2025, 4, 18) in days  # Good Friday (langfredag)
    assert date(2025, 4, 27) not in days  # an ordinary Sunday


def _weekly_series(
    start: date, weeks: int, pattern: list[float], *, noise: float, trend: float, seed: int
) -> dict[date, float]:
    rng = random.Random(seed)
    series = {}
    for offset in range(weeks * 7):
        day = start + timedelta(days=offset)
        level = pattern[day.weekday()] * (1 + trend * offset)
        series[day] = max(0.0, level + rng.gauss(0, noise))
    return series


PATTERN = [520, 480, 450, 440, 400, 120, 60]  # Monday busiest, weekend quiet


def test_forecast_follows_the_weekly_pattern_and_reports_wape() -> None:
    history = _weekly_series(date(2024, 9, 2), 16, PATTERN, noise=15, trend=0.0, seed=1)
    result = forecast_daily(history, 14, holiday_policy=HolidayPolicy(clean_history=False))
    assert set(result.wape_by_method) == set(ForecastMethod)
    assert result.wape == min(result.wape_by_method.values())
    # With stable noise, averaging eight weeks must beat copying last week.
    assert (
        result.wape_by_method[ForecastMethod.EIGHT_WEEK_AVERAGE]
        < result.wape_by_method[ForecastMethod.SEASONAL_NAIVE]
    )
    assert result.method is not ForecastMethod.SEASONAL_NAIVE
    assert set(result.holidays) == {date(2024, 12, 25), date(2024, 12, 26), date(2025, 1, 1)}
    for day, value in result.values.items():
        expected = 0.0 if day in result.holidays else PATTERN[day.weekday()]
        assert value == pytest.approx(expected, abs=30)  # two noise standard deviations


def test_trend_is_caught_by_holt_winters() -> None:
    # 1.5 % growth per day: averages lag far behind, the smoothed trend does not.
    history = _weekly_series(date(2024, 9, 2), 12, PATTERN, noise=5, trend=0.015, seed=2)
    result = forecast_daily(history, 7, holiday_policy=HolidayPolicy(clean_history=False))
    assert result.method is ForecastMethod.HOLT_WINTERS
    assert result.wape < result.wape_by_method[ForecastMethod.EIGHT_WEEK_AVERAGE]


def test_holidays_close_the_day_and_adjustments_apply() -> None:
    # History ends on Sunday 2025-05-11; the horizon covers 17 May and Ascension (29 May).
    start = date(2025, 5, 12) - timedelta(weeks=10)
    history = _weekly_series(start, 10, PATTERN, noise=0, trend=0, seed=3)
    campaign = Adjustment(date(2025, 5, 19), date(2025, 5, 21), 1.3, "campaign")
    plain = forecast_daily(history, 21)
    adjusted = forecast_daily(history, 21, adjustments=[campaign])
    assert plain.values[date(2025, 5, 17)] == 0.0
    assert plain.values[date(2025, 5, 29)] == 0.0
    assert date(2025, 5, 29) in plain.holidays
    assert adjusted.values[date(2025, 5, 19)] == pytest.approx(
        plain.values[date(2025, 5, 19)] * 1.3
    )
    assert adjusted.values[date(2025, 5, 22)] == pytest.approx(plain.values[date(2025, 5, 22)])
    half_open = forecast_daily(history, 21, holiday_policy=HolidayPolicy(factor=0.5))
    # Ascension Thursday at half of an ordinary Thursday (the history has no noise).
    assert half_open.values[date(2025, 5, 29)] == pytest.approx(0.5 * PATTERN[3], rel=0.02)


def test_holidays_in_history_are_cleaned() -> None:
    # Easter 2025 falls in the history: Thursday/Friday 17–18 April and Monday 21 April.
    history = _weekly_series(date(2025, 3, 3), 8, PATTERN, noise=0, trend=0, seed=4)
    for day in (date(2025, 4, 17), date(2025, 4, 18), date(2025, 4, 21)):
        history[day] = 0.0
    result = forecast_daily(history, 7, methods=[ForecastMethod.EIGHT_WEEK_AVERAGE])
    assert set(result.holidays) == {date(2025, 5, 1)}
    for day, value in result.values.items():
        expected = 0.0 if day in result.holidays else PATTERN[day.weekday()]
        assert value == pytest.approx(expected)


def test_bad_history_is_refused() -> None:
    with pytest.raises(WorkforceInputError, match="two weeks"):
        forecast_daily({date(2025, 1, 1): 10}, 7)
    with pytest.raises(WorkforceInputError, match="negative"):
        forecast_daily({date(2025, 1, 1) + timedelta(days=i): -1 for i in range(30)}, 7)
    with pytest.raises(WorkforceInputError):
        Adjustment(date(2025, 1, 2), date(2025, 1, 1), 1.3)


def test_intraday_profile_and_spread() -> None:
    monday = datetime(2025, 3, 3)
    counts = [(monday + timedelta(hours=9), 30), (monday + timedelta(hours=10), 10)]
    profile = intraday_profile(counts)
    assert set(profile) == {0}
    assert len(profile[0]) == 96
    assert math.isclose(sum(profile[0]), 1.0)
    assert profile[0][36] == pytest.approx(0.75)  # 09:00 is the 37th quarter hour
    rows = intraday_forecast({date(2025, 3, 10): 200.0}, profile)
    assert sum(value for _, value in rows) == pytest.approx(200.0)
    assert dict(rows)[datetime(2025, 3, 10, 9)] == pytest.approx(150.0)
    with pytest.raises(WorkforceInputError, match="profile"):
        intraday_forecast({date(2025, 3, 11): 50.0}, profile)  # Tuesday has no profile
