"""Queueing models for contact-centre staffing: Erlang B, Erlang C and Erlang A.

Everything here is a pure function of plain numbers, so the Django layer, the CLI and the
benchmarks share one implementation. Formulas are written in log space or through the
regularised incomplete gamma/beta functions from scipy: factorials of a few thousand agents
overflow a float long before a large centre is out of range.

Notation used below (and in docs/workforce.md):

* ``arrivals``/``interval_seconds`` = λ, the arrival rate;
* ``aht_seconds`` = 1/μ, the average handling time;
* ``patience_seconds`` = 1/θ, the mean time a caller waits before hanging up (Erlang A only);
* ``load`` = A = λ/μ, the offered traffic in Erlangs;
* ``agents`` = n.

Sources: Erlang B/C as in Gross & Harris, *Fundamentals of Queueing Theory*; Erlang A
(M/M/n+M) as in Garnett, Mandelbaum & Reiman (2002), "Designing a call center with impatient
customers", and Mandelbaum & Zeltyn (2007), "The M/M/n+G queue: summary of performance
measures".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy import special

__all__ = [
    "CallLoad",
    "QueueMetrics",
    "ServiceLevelBasis",
    "WorkforceInputError",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "queue_metrics",
]


class WorkforceInputError(ValueError):
    """Input that cannot describe a real contact centre; the message is meant for a person."""


class ServiceLevelBasis(StrEnum):
    """Which calls the service level is counted over.

    ``OFFERED`` (the default) divides the calls answered within the target by all calls
    offered, so a caller who hangs up counts as a miss. ``ANSWERED`` divides by answered calls
    only, which flatters a queue with many abandonments; some ACDs report it that way.
    """

    OFFERED = "offered"
    ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class CallLoad:
    """Traffic offered to one queue in one interval.

    ``patience_seconds`` selects the model: ``None`` means callers never hang up (Erlang C),
    a number means exponential patience with that mean (Erlang A).
    """

    arrivals: float
    interval_seconds: float
    aht_seconds: float
    patience_seconds: float | None = None

    def __post_init__(self) -> None:
        _check_finite("arrivals", self.arrivals)
        _check_finite("interval length", self.interval_seconds)
        _check_finite("average handling time", self.aht_seconds)
        if self.arrivals < 0:
            raise WorkforceInputError(f"Arrivals cannot be negative (got {self.arrivals}).")
        if self.interval_seconds <= 0:
            raise WorkforceInputError(
                f"The interval must be longer than 0 seconds (got {self.interval_seconds})."
            )
        if self.aht_seconds <= 0:
            raise WorkforceInputError(
                f"Average handling time must be more than 0 seconds (got {self.aht_seconds})."
            )
        if self.patience_seconds is not None:
            _check_finite("patience", self.patience_seconds)
            if self.patience_seconds <= 0:
                raise WorkforceInputError(
                    f"Mean patience must be more than 0 seconds (got {self.patience_seconds})."
                )

    @property
    def arrival_rate(self) -> float:
        """Calls per second."""
        return self.arrivals / self.interval_seconds

    @property
    def load(self) -> float:
        """Offered traffic in Erlangs: how many agents would be busy if nobody waited."""
        return self.arrival_rate * self.aht_seconds

    def scaled(self, volume_factor: float = 1.0, aht_seconds: float | None = None) -> CallLoad:
        """The same queue with more or fewer calls, or another handling time (for what-ifs)."""
        return CallLoad(
            arrivals=self.arrivals * volume_factor,
            interval_seconds=self.interval_seconds,
            aht_seconds=self.aht_seconds if aht_seconds is None else aht_seconds,
            patience_seconds=self.patience_seconds,
        )


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """Steady-state performance of ``agents`` agents on one queue.

    ``asa_seconds`` is the mean wait of answered calls (what an ACD reports as ASA);
    ``expected_wait_seconds`` is the mean wait of every caller, including the time abandoned
    callers waited before hanging up. Both are ``math.inf`` when the queue never empties
    (Erlang C with no more agents than the load). ``service_level`` uses ``basis``.
    """

    model: str
    agents: int
    load: float
    target_seconds: float
    basis: ServiceLevelBasis
    p_wait: float
    service_level: float
    asa_seconds: float
    expected_wait_seconds: float
    p_abandon: float
    occupancy: float
    queue_length: float

    def as_dict(self) -> dict[str, float | int | str | None]:
        """JSON-friendly view: infinities become ``None`` because JSON has no infinity."""

        def finite(value: float) -> float | None:
            return value if math.isfinite(value) else None

        return {
            "model": self.model,
            "agents": self.agents,
            "load": self.load,
            "target_seconds": self.target_seconds,
            "basis": str(self.basis),
            "p_wait": self.p_wait,
            "service_level": self.service_level,
            "asa_seconds": finite(self.asa_seconds),
            "expected_wait_seconds": finite(self.expected_wait_seconds),
            "p_abandon": self.p_abandon,
            "occupancy": self.occupancy,
            "queue_length": finite(self.queue_length),
        }


def _check_finite(name: str, value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise WorkforceInputError(f"The {name} must be a finite number (got {value!r}).")


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int | np.integer):
        raise WorkforceInputError(f"The number of agents must be a whole number (got {agents!r}).")
    if agents < 0:
        raise WorkforceInputError(f"The number of agents cannot be negative (got {agents}).")


def _check_load(load: float) -> None:
    _check_finite("offered load", load)
    if load < 0:
        raise WorkforceInputError(f"The offered load cannot be negative (got {load}).")


def _log_erlang_b(agents: int, load: float) -> float:
    """log B(n, A), for n ≥ 1 and A > 0.

    B = (Aⁿ/n!) / Σₖ₌₀ⁿ Aᵏ/k! and the denominator is e^A · Q(n+1, A), with Q the regularised
    upper incomplete gamma function, so log B needs no factorial. Q underflows only when the
    load dwarfs the agents; then B is close to 1 and the textbook recursion
    B(k) = A·B(k−1) / (k + A·B(k−1)), which never overflows, is exact and cheap enough.
    """
    q = float(special.gammaincc(agents + 1, load))
    if q > 1e-280:
        return agents * math.log(load) - load - float(special.gammaln(agents + 1)) - math.log(q)
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return math.log(b)


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of an M/M/n/n loss system (no queue): Erlang B."""
    _check_agents(agents)
    _check_load(load)
    if agents == 0:
        return 1.0 if load > 0 else 0.0
    if load == 0:
        return 0.0
    return math.exp(_log_erlang_b(int(agents), load))


def erlang_c(agents: int, load: float) -> float:
    """Probability that a call waits in an M/M/n queue (Erlang C), 1 when n ≤ A.

    C = B / (1 − ρ(1 − B)) with ρ = A/n; the denominator is at least 1 − ρ > 0, so this stays
    accurate where the textbook sum of Aᵏ/k! would overflow.
    """
    _check_agents(agents)
    _check_load(load)
    if load == 0:
        return 0.0
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    rho = load / agents
    return min(1.0, b / (1.0 - rho * (1.0 - b)))


def _check_target(target_seconds: float) -> None:
    _check_finite("target answer time", target_seconds)
    if target_seconds < 0:
        raise WorkforceInputError(
            f"The target answer time cannot be negative (got {target_seconds})."
        )


def erlang_c_metrics(
    agents: int,
    call_load: CallLoad,
    target_seconds: float,
    basis: ServiceLevelBasis = ServiceLevelBasis.OFFERED,
) -> QueueMetrics:
    """Erlang C: callers wait as long as it takes.

    SL(t) = 1 − Pw·e^{−(n−A)·t/AHT}, ASA = Pw·AHT/(n−A), occupancy = A/n, Lq = Pw·A/(n−A).
    Nobody abandons, so both service-level bases give the same number.
    """
    _check_agents(agents)
    _check_target(target_seconds)
    agents = int(agents)
    load = call_load.load
    aht = call_load.aht_seconds
    if load == 0:
        return QueueMetrics(
            "erlang_c", agents, 0.0, target_seconds, basis, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0
        )
    if agents <= load:
        # Unstable queue: it grows without bound, every call waits and none within any target.
        return QueueMetrics(
            "erlang_c",
            agents,
            load,
            target_seconds,
            basis,
            1.0,
            0.0,
            math.inf,
            math.inf,
            0.0,
            1.0 if agents > 0 else 0.0,
            math.inf,
        )
    p_wait = erlang_c(agents, load)
    spare = agents - load
    service_level = 1.0 - p_wait * math.exp(-spare * target_seconds / aht)
    asa = p_wait * aht / spare
    return QueueMetrics(
        model="erlang_c",
        agents=agents,
        load=load,
        target_seconds=target_seconds,
        basis=basis,
        p_wait=p_wait,
        service_level=max(0.0, min(1.0, service_level)),
        asa_seconds=asa,
        expected_wait_seconds=asa,
        p_abandon=0.0,
        occupancy=load / agents,
        queue_length=p_wait * load / spare,
    )


def _queue_log_weights(a: float, x: float) -> np.ndarray:
    """log tⱼ, with tⱼ = Πᵢ₌₁ʲ x/(a+i) for j = 0, 1, …, as far as they matter (relative 1e-18).

    π(n+j) = π(n)·tⱼ in the Erlang A birth–death chain, with a = nμ/θ and x = λ/θ. The terms
    rise while a + j < x and then fall faster than geometrically, so the cut-off lies a few
    standard deviations (√x) past the peak. Kept as logarithms: with patient callers and an
    overloaded queue the peak term exceeds the largest float.
    """
    peak = max(0.0, x - a)
    length = int(peak + 12.0 * math.sqrt(x + 1.0) + 40.0)
    while True:
        j = np.arange(length, dtype=float)
        log_t = j * math.log(x) - (special.gammaln(a + j + 1.0) - special.gammaln(a + 1.0))
        if log_t[-1] < float(log_t.max()) - 41.5:  # e^-41.5 ≈ 1e-18
            return np.asarray(log_t)
        length *= 2


def erlang_a_metrics(
    agents: int,
    call_load: CallLoad,
    target_seconds: float,
    basis: ServiceLevelBasis = ServiceLevelBasis.OFFERED,
) -> QueueMetrics:
    """Erlang A (M/M/n+M): callers hang up after an exponential patience time.

    With a = nμ/θ, x = λ/θ, the chain's states above n carry weights tⱼ (see
    ``_queue_log_weights``) and S = Σ tⱼ. With B = Erlang B(n, A):

    * π(n) = 1 / ((1 − B)/B + S) and P(wait) = π(n)·S (arrivals see time averages);
    * P(abandon) = π(n)·(S(1 − n/A) + n/A), i.e. P(Ab | wait) = 1/(ρS) + 1 − 1/ρ;
    * expected wait of all callers = P(abandon)/θ (Little's law on the abandonment stream);
    * a caller who finds j ahead is served with probability a/(a+j+1); the time it would
      need to wait, V, satisfies 1 − e^{−θV} ~ Beta(j+1, a), so it is answered within t with
      probability a/(a+j+1) · I_{1−e^{−θt}}(j+1, a+1) (regularised incomplete beta);
    * its wait when answered has mean Σₖ₌₀ʲ 1/(θ(a+k+1)) = (ψ(a+j+2) − ψ(a+1))/θ.

    Agents below the offered load are fine here: abandonment keeps the queue finite.
    """
    if call_load.patience_seconds is None:
        raise WorkforceInputError("Erlang A needs the callers' mean patience in seconds.")
    _check_agents(agents)
    _check_target(target_seconds)
    agents = int(agents)
    load = call_load.load
    theta = 1.0 / call_load.patience_seconds
    lam = call_load.arrival_rate
    mu = 1.0 / call_load.aht_seconds
    if load == 0:
        return QueueMetrics(
            "erlang_a", agents, 0.0, target_seconds, basis, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0
        )
    if agents == 0:
        # Nobody answers: every caller waits out their patience and leaves.
        return QueueMetrics(
            model="erlang_a",
            agents=0,
            load=load,
            target_seconds=target_seconds,
            basis=basis,
            p_wait=1.0,
            service_level=0.0,
            asa_seconds=math.inf,
            expected_wait_seconds=call_load.patience_seconds,
            p_abandon=1.0,
            occupancy=0.0,
            queue_length=lam * call_load.patience_seconds,
        )

    a = agents * mu / theta
    x = lam / theta
    log_weights = _queue_log_weights(a, x)
    # log S by hand: scipy's logsumexp is exact too but its array-API overhead dominates
    # a week of staffing runs.
    top = float(log_weights.max())
    log_s = top + math.log(float(np.exp(log_weights - top).sum()))
    log_b = _log_erlang_b(agents, load)
    # (1 − B)/B in log space: for a lightly loaded centre B is ~1e-300 and 1/B would overflow.
    log_ratio = math.log1p(-math.exp(log_b)) - log_b if log_b < 0 else -math.inf
    log_pi_n = -float(np.logaddexp(log_ratio, log_s))
    pi_n = math.exp(log_pi_n)

    p_wait = min(1.0, math.exp(log_pi_n + log_s))
    # π(n)·(S(1 − n/A) + n/A), written so that S itself never has to be a float.
    p_abandon = min(1.0, max(0.0, p_wait * (1.0 - agents / load) + pi_n * agents / load))
    j = np.arange(log_weights.size, dtype=float)
    queue_probs = np.exp(log_pi_n + log_weights)
    served_given_j = a / (a + j + 1.0)

    if target_seconds > 0:
        y = -math.expm1(-theta * target_seconds)
        within = special.betainc(j + 1.0, a + 1.0, y)
    else:
        within = np.zeros_like(j)
    answered_in_time = (1.0 - p_wait) + float(np.dot(queue_probs, served_given_j * within))
    p_answered = 1.0 - p_abandon
    if basis is ServiceLevelBasis.ANSWERED:
        service_level = answered_in_time / p_answered if p_answered > 0 else 0.0
    else:
        service_level = answered_in_time

    mean_wait_if_served = (special.digamma(a + j + 2.0) - special.digamma(a + 1.0)) / theta
    waited_and_served = float(np.dot(queue_probs, served_given_j * mean_wait_if_served))
    asa = waited_and_served / p_answered if p_answered > 0 else math.inf
    expected_wait = p_abandon / theta

    return QueueMetrics(
        model="erlang_a",
        agents=agents,
        load=load,
        target_seconds=target_seconds,
        basis=basis,
        p_wait=p_wait,
        service_level=max(0.0, min(1.0, service_level)),
        asa_seconds=asa,
        expected_wait_seconds=expected_wait,
        p_abandon=p_abandon,
        occupancy=min(1.0, load * (1.0 - p_abandon) / agents),
        queue_length=lam * expected_wait,
    )


def queue_metrics(
    agents: int,
    call_load: CallLoad,
    target_seconds: float,
    basis: ServiceLevelBasis = ServiceLevelBasis.OFFERED,
) -> QueueMetrics:
    """Erlang A when the load has a patience, Erlang C otherwise."""
    if call_load.patience_seconds is None:
        return erlang_c_metrics(agents, call_load, target_seconds, basis)
    return erlang_a_metrics(agents, call_load, target_seconds, basis)
