"""Cross-check against pyworkforce, an independent implementation (test-only dependency)."""

from __future__ import annotations

import pytest

from skranke.workforce.erlang import CallLoad, erlang_a_metrics, erlang_c_metrics

queuing = pytest.importorskip(
    "pyworkforce.queuing", reason="pyworkforce is not installed (optional cross-check only)"
)


@pytest.mark.parametrize(
    ("arrivals", "aht_minutes", "interval", "agents"),
    [(100, 3, 30, 14), (100, 3, 30, 11), (360, 4, 30, 55), (1200, 5.5, 60, 120)],
)
def test_erlang_c_matches_pyworkforce(
    arrivals: float, aht_minutes: float, interval: int, agents: int
) -> None:
    theirs = queuing.ErlangC(transactions=arrivals, aht=aht_minutes, asa=20 / 60, interval=interval)
    ours = erlang_c_metrics(agents, CallLoad(arrivals, interval * 60, aht_minutes * 60), 20)
    assert ours.p_wait == pytest.approx(theirs.waiting_probability(positions=agents), rel=1e-9)
    assert ours.service_level == pytest.approx(
        theirs.service_level(positions=agents, scale_positions=False), rel=1e-9
    )
    assert ours.occupancy == pytest.approx(theirs.achieved_occupancy(positions=agents), rel=1e-9)


@pytest.mark.parametrize(("agents", "patience_minutes"), [(13, 5), (8, 5), (20, 1), (12, 30)])
def test_erlang_a_matches_pyworkforce(agents: int, patience_minutes: float) -> None:
    if not hasattr(queuing, "ErlangA"):
        pytest.skip("this pyworkforce version has no ErlangA")
    theirs = queuing.ErlangA(
        transactions=100, aht=3, asa=20 / 60, interval=30, patience=patience_minutes
    )
    load = CallLoad(100, 1800, 180, patience_minutes * 60)
    ours = erlang_a_metrics(agents, load, 20)
    assert ours.p_wait == pytest.approx(theirs.waiting_probability(agents), rel=1e-7)
    assert ours.p_abandon == pytest.approx(theirs.abandonment_probability(agents), rel=1e-7)
    assert ours.service_level == pytest.approx(theirs.service_level(agents), rel=1e-6)
    # pyworkforce's "average speed of answer" averages over every caller, abandoners included.
    assert ours.expected_wait_seconds == pytest.approx(
        theirs.average_speed_of_answer(agents) * 60, rel=1e-6
    )
