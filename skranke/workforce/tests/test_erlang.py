"""Erlang B/C/A against published values, independent computations and a simulation."""

from __future__ import annotations

import heapq
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from skranke.workforce.erlang import (
    CallLoad,
    ServiceLevelBasis,
    WorkforceInputError,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    queue_metrics,
)

# The reference case: 100 calls per 30 minutes, AHT 180 s, target 20 s.
CALLS = CallLoad(arrivals=100, interval_seconds=1800, aht_seconds=180)
IMPATIENT = CallLoad(arrivals=100, interval_seconds=1800, aht_seconds=180, patience_seconds=300)


# --- Erlang C: the published reference values -------------------------------------


def test_erlang_c_eleven_agents_matches_reference() -> None:
    metrics = erlang_c_metrics(11, CALLS, 20)
    assert metrics.p_wait == pytest.approx(0.6821182, abs=5e-8)
    assert metrics.service_level == pytest.approx(0.3896138, abs=5e-8)


def test_erlang_c_fourteen_agents_matches_reference() -> None:
    metrics = erlang_c_metrics(14, CALLS, 20)
    assert metrics.p_wait == pytest.approx(0.1741319, abs=5e-8)
    assert metrics.service_level == pytest.approx(0.88835, abs=5e-6)
    assert metrics.asa_seconds == pytest.approx(7.8359, abs=5e-5)
    assert metrics.occupancy == pytest.approx(0.7142857, abs=5e-8)
    assert metrics.p_abandon == 0.0


# --- Erlang B: classic traffic-table values -------------------------------------------------


@pytest.mark.parametrize(
    ("agents", "load"),
    # Offered traffic at 1 % blocking as printed in standard Erlang B tables.
    [(5, 1.361), (10, 4.461), (20, 12.031), (50, 37.901), (100, 84.064)],
)
def test_erlang_b_reproduces_one_percent_table(agents: int, load: float) -> None:
    # Tables print the load to 3 decimals, which moves B by well under 1e-4 here.
    assert erlang_b(agents, load) == pytest.approx(0.01, abs=1e-4)


def _exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """Textbook sum formula in exact rational arithmetic: independent of the float code."""
    terms = [Fraction(1)]
    for k in range(1, agents + 1):
        terms.append(terms[-1] * load / k)
    top = terms[agents] * agents / (agents - load)
    return top / (sum(terms[:agents]) + top)


@pytest.mark.parametrize(
    ("agents", "load"),
    [
        (1, Fraction(1, 2)),
        (3, Fraction(5, 2)),
        (14, Fraction(10)),
        (60, Fraction(1101, 20)),
        (250, Fraction(2300, 10)),
    ],
)
def test_erlang_c_agrees_with_exact_rational_sum(agents: int, load: Fraction) -> None:
    expected = float(_exact_erlang_c(agents, load))
    assert erlang_c(agents, float(load)) == pytest.approx(expected, rel=1e-11)


def test_erlang_b_and_c_stay_finite_for_thousands_of_agents() -> None:
    # 5000! overflows a float 300 times over; the log-space path must not care.
    b = erlang_b(5000, 4900.0)
    c = erlang_c(5000, 4900.0)
    assert 0 < b < c < 1
    # Erlang C is always at least Erlang B, and the exact recursion agrees with log space.
    recursion = 1.0
    for k in range(1, 5001):
        recursion = 4900.0 * recursion / (k + 4900.0 * recursion)
    assert b == pytest.approx(recursion, rel=1e-10)


def test_erlang_b_when_load_dwarfs_agents() -> None:
    # Q(n+1, A) underflows here; B must approach 1 − n/A, not NaN.
    assert erlang_b(10, 100_000.0) == pytest.approx(1 - 10 / 100_000, rel=1e-4)


def test_erlang_c_unstable_queue_is_explicit_not_nan() -> None:
    metrics = erlang_c_metrics(10, CALLS, 20)  # load is exactly 10 Erlang
    assert metrics.p_wait == 1.0
    assert metrics.service_level == 0.0
    assert metrics.asa_seconds == math.inf
    assert metrics.as_dict()["asa_seconds"] is None


# --- Erlang A --------------------------------------------------------------------------------


def test_erlang_a_thirteen_agents_matches_reference() -> None:
    metrics = erlang_a_metrics(13, IMPATIENT, 20)
    assert metrics.service_level == pytest.approx(0.858178, abs=5e-7)
    assert metrics.p_abandon == pytest.approx(0.024963, abs=5e-7)
    assert metrics.p_wait == pytest.approx(0.225797, abs=5e-7)


def test_erlang_a_fourteen_agents_matches_reference() -> None:
    metrics = erlang_a_metrics(14, IMPATIENT, 20)
    assert metrics.p_wait == pytest.approx(0.14526, abs=5e-6)
    assert metrics.p_abandon == pytest.approx(0.013984, abs=5e-7)


def _chain_reference(agents: int, load: CallLoad, target: float) -> dict[str, float]:
    """Erlang A by brute force: a truncated birth–death chain and a matrix exponential.

    Shares no formula with the closed form under test (no incomplete beta, no digamma).
    """
    lam = load.arrival_rate
    mu = 1 / load.aht_seconds
    assert load.patience_seconds is not None
    theta = 1 / load.patience_seconds
    size = agents + 150  # P(more than 150 waiting) < 1e-40 for these loads
    probs = np.zeros(size)
    probs[0] = 1.0
    for state in range(1, size):
        death = min(state, agents) * mu + max(state - agents, 0) * theta
        probs[state] = probs[state - 1] * lam / death
    probs /= probs.sum()
    queue = np.arange(size) - agents
    queue_length = float(np.dot(np.clip(queue, 0, None), probs))
    # A tagged caller with j ahead: transient states j = 0..J, absorbing "served".
    depth = size - agents
    generator = np.zeros((depth + 1, depth + 1))
    for ahead in range(depth):
        advance = agents * mu + ahead * theta
        if ahead == 0:
            generator[ahead, depth] = agents * mu  # served
        else:
            generator[ahead, ahead - 1] = advance
        generator[ahead, ahead] = -(advance + theta)
    served_by_t = expm(generator * target)[:depth, depth]
    answered_in_time = probs[:agents].sum() + float(np.dot(probs[agents:], served_by_t))
    return {
        "p_wait": float(probs[agents:].sum()),
        "p_abandon": theta * queue_length / lam,
        "service_level": answered_in_time,
    }


@pytest.mark.parametrize("agents", [6, 9, 10, 12, 16])
def test_erlang_a_agrees_with_brute_force_chain(agents: int) -> None:
    expected = _chain_reference(agents, IMPATIENT, 20)
    metrics = erlang_a_metrics(agents, IMPATIENT, 20)
    assert metrics.p_wait == pytest.approx(expected["p_wait"], rel=1e-9)
    assert metrics.p_abandon == pytest.approx(expected["p_abandon"], rel=1e-9)
    assert metrics.service_level == pytest.approx(expected["service_level"], rel=1e-7)


def test_erlang_a_tends_to_erlang_c_as_callers_become_patient() -> None:
    patient = CallLoad(100, 1800, 180, patience_seconds=1e9)
    a = erlang_a_metrics(14, patient, 20)
    c = erlang_c_metrics(14, CALLS, 20)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-4)
    assert a.p_abandon < 1e-6


def test_erlang_a_allows_fewer_agents_than_the_load() -> None:
    metrics = erlang_a_metrics(8, IMPATIENT, 20)  # 10 Erlang offered
    assert 0 < metrics.p_abandon < 1
    assert math.isfinite(metrics.asa_seconds)
    # Served work cannot exceed capacity: A·(1 − P(ab)) ≤ n.
    assert metrics.load * (1 - metrics.p_abandon) <= 8 + 1e-9


def test_answered_basis_divides_by_answered_calls() -> None:
    offered = erlang_a_metrics(12, IMPATIENT, 20, ServiceLevelBasis.OFFERED)
    answered = erlang_a_metrics(12, IMPATIENT, 20, ServiceLevelBasis.ANSWERED)
    assert answered.service_level == pytest.approx(
        offered.service_level / (1 - offered.p_abandon), rel=1e-12
    )
    assert answered.service_level > offered.service_level


def test_erlang_a_large_centre_is_stable() -> None:
    load = CallLoad(arrivals=40_000, interval_seconds=1800, aht_seconds=180, patience_seconds=120)
    for agents in (3_500, 4_000, 4_500):
        metrics = erlang_a_metrics(agents, load, 20)
        values = [metrics.p_wait, metrics.service_level, metrics.p_abandon, metrics.occupancy]
        assert all(0 <= value <= 1 for value in values)
        assert math.isfinite(metrics.asa_seconds)


def _simulate_mmn_m(
    agents: int, load: CallLoad, target: float, customers: int, seed: int
) -> dict[str, list[float]]:
    """FIFO M/M/n+M simulation, returning per-batch estimates for batch-means error bars.

    Processing callers in arrival order is exact for FIFO with abandonment: a caller's
    offered wait is the earliest time a server frees up after everyone ahead was placed,
    and a caller who abandons never occupies a server.
    """
    assert load.patience_seconds is not None
    rng = random.Random(seed)
    free_at = [0.0] * agents
    now = 0.0
    batches = 20
    per_batch = customers // batches
    result: dict[str, list[float]] = {"service_level": [], "p_abandon": [], "p_wait": []}
    warm_up = 2_000
    for batch in range(-1, batches):
        count = warm_up if batch < 0 else per_batch
        in_time = abandoned = waited = 0
        for _ in range(count):
            now += rng.expovariate(load.arrival_rate)
            earliest = free_at[0]
            wait = max(0.0, earliest - now)
            if wait > 0:
                waited += 1
            if wait > rng.expovariate(1 / load.patience_seconds):
                abandoned += 1
                continue
            if wait <= target:
                in_time += 1
            heapq.heapreplace(free_at, now + wait + rng.expovariate(1 / load.aht_seconds))
        if batch >= 0:
            result["service_level"].append(in_time / count)
            result["p_abandon"].append(abandoned / count)
            result["p_wait"].append(waited / count)
    return result


@pytest.mark.parametrize("agents", [9, 13])
def test_erlang_a_agrees_with_discrete_event_simulation(agents: int) -> None:
    # 200,000 seeded callers take well under a second. The tolerance is 4.5 batch-means
    # standard errors (20 batches absorb the autocorrelation of a queue), i.e. a false alarm
    # rate below 1e-4 for a correct model, while a wrong formula (e.g. Erlang C's SL, off by
    # several points here) lands far outside it.
    simulated = _simulate_mmn_m(agents, IMPATIENT, 20, customers=200_000, seed=20_240_4 + agents)
    metrics = erlang_a_metrics(agents, IMPATIENT, 20)
    for name in ("service_level", "p_abandon", "p_wait"):
        batch = np.array(simulated[name])
        error = batch.std(ddof=1) / math.sqrt(batch.size)
        assert abs(batch.mean() - getattr(metrics, name)) < 4.5 * error + 1e-4, name


# --- properties and bad input ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.floats(min_value=0.5, max_value=20_000),
    aht=st.floats(min_value=5, max_value=3_600),
    patience=st.one_of(st.none(), st.floats(min_value=5, max_value=3_600)),
    spread=st.floats(min_value=0.3, max_value=2.0),
)
def test_metrics_are_probabilities_and_improve_with_agents(
    arrivals: float, aht: float, patience: float | None, spread: float
) -> None:
    load = CallLoad(arrivals, 1800, aht, patience)
    agents = max(1, int(load.load * spread))
    fewer = queue_metrics(agents, load, 20)
    more = queue_metrics(agents + 1, load, 20)
    for metrics in (fewer, more):
        for value in (metrics.p_wait, metrics.service_level, metrics.p_abandon, metrics.occupancy):
            assert not math.isnan(value)
            assert -1e-12 <= value <= 1 + 1e-12
    assert more.service_level >= fewer.service_level - 1e-9
    assert more.p_abandon <= fewer.p_abandon + 1e-9
    assert more.p_wait <= fewer.p_wait + 1e-9


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arrivals": -1, "interval_seconds": 1800, "aht_seconds": 180},
        {"arrivals": 10, "interval_seconds": 1800, "aht_seconds": 0},
        {"arrivals": 10, "interval_seconds": 0, "aht_seconds": 180},
        {"arrivals": float("nan"), "interval_seconds": 1800, "aht_seconds": 180},
        {"arrivals": 10, "interval_seconds": 1800, "aht_seconds": 180, "patience_seconds": 0},
    ],
)
def test_bad_load_is_refused_with_a_message(kwargs: dict[str, float]) -> None:
    with pytest.raises(WorkforceInputError, match=r"\w"):
        CallLoad(**kwargs)


def test_bad_agents_and_targets_are_refused() -> None:
    with pytest.raises(WorkforceInputError):
        erlang_c_metrics(-1, CALLS, 20)
    with pytest.raises(WorkforceInputError):
        erlang_c_metrics(14, CALLS, -5)
    with pytest.raises(WorkforceInputError):
        erlang_b(2.5, 1.0)  # type: ignore[arg-type]
    with pytest.raises(WorkforceInputError):
        erlang_a_metrics(14, CALLS, 20)  # no patience given
    assert issubclass(WorkforceInputError, ValueError)


def test_zero_traffic_needs_nobody() -> None:
    quiet = CallLoad(0, 900, 180, 300)
    for metrics in (erlang_a_metrics(0, quiet, 20), erlang_c_metrics(0, quiet, 20)):
        assert metrics.service_level == 1.0
        assert metrics.p_wait == 0.0
