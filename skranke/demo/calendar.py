"""Opening hours of the demo centre, as fast look-ups on epoch seconds.

The generator asks "when does the desk next open after t?" millions of times when it builds a
large data set, so each local day is converted once and the rest is a bisect on floats.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

OSLO = ZoneInfo("Europe/Oslo")
# (opens, closes) per weekday, Monday first: Mon–Fri 09:00–18:30, Sat–Sun 09:00–17:30.
WEEKLY_HOURS: tuple[tuple[time, time], ...] = (
    *[(time(9, 0), time(18, 30))] * 5,
    *[(time(9, 0), time(17, 30))] * 2,
)


@dataclass(frozen=True)
class Day:
    start: float  # local midnight, epoch seconds
    opens: float
    closes: float
    is_open: bool
    weekday: int
    holiday: str


class OpeningHours:
    """Local days from ``first`` to ``last`` (inclusive), closed on Norwegian public holidays."""

    def __init__(self, first: date, last: date, tz: ZoneInfo = OSLO) -> None:
        years = list(range(first.year, last.year + 1))
        public_holidays = holidays.country_holidays("NO", years=years)
        self.days: list[Day] = []
        day = first
        while day <= last + timedelta(days=1):
            opens_at, closes_at = WEEKLY_HOURS[day.weekday()]
            name = public_holidays.get(day) or ""
            self.days.append(
                Day(
                    start=datetime.combine(day, time(0, 0), tz).timestamp(),
                    opens=datetime.combine(day, opens_at, tz).timestamp(),
                    closes=datetime.combine(day, closes_at, tz).timestamp(),
                    is_open=not name,
                    weekday=day.weekday(),
                    holiday=str(name),
                )
            )
            day += timedelta(days=1)
        self._starts = [d.start for d in self.days]

    def day_of(self, ts: float) -> int:
        return max(0, bisect.bisect_right(self._starts, ts) - 1)

    def is_open(self, ts: float) -> bool:
        day = self.days[self.day_of(ts)]
        return day.is_open and day.opens <= ts < day.closes

    def next_open(self, ts: float) -> float:
        """``ts`` itself when the desk is open then, else the next opening time."""
        index = self.day_of(ts)
        while index < len(self.days):
            day = self.days[index]
            if day.is_open and ts < day.closes:
                return max(ts, day.opens)
            index += 1
        return ts  # past the calendar's end: leave it be
