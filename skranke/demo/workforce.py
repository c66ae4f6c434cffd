"""Contracts for the demo agents, so the schedule page has people to plan from the start."""

from __future__ import annotations

import random

from skranke.accounts.models import User
from skranke.workforce.models import AgentContract

# Which channels a team's agents answer; the centre's phones and chat sit with Kundeservice.
TEAM_CHANNELS = {
    "Kundeservice": ["phone", "chat", "email"],
    "Teknisk støtte": ["phone", "chat", "email"],
    "Faktura": ["email", "web", "phone"],
    "Retur og reklamasjon": ["email", "web"],
}


def create_contracts(domain: str, seed: int) -> int:
    rng = random.Random(seed)
    agents = (
        User.objects.filter(email__endswith=f"@{domain}", role="agent")
        .prefetch_related("teams")
        .order_by("email")
    )
    contracts = []
    for agent in agents:
        channels: list[str] = []
        for team in agent.teams.all():
            channels += [c for c in TEAM_CHANNELS.get(team.name, ["email"]) if c not in channels]
        part_time = rng.random() < 0.25
        contracts.append(
            AgentContract(
                user=agent,
                weekly_hours=rng.choice((22.5, 30.0)) if part_time else 37.5,
                hours_tolerance=2.0,
                channels=channels or ["email"],
                # Part-timers keep two fixed weekdays free; everyone else is scheduled freely.
                weekdays_off=sorted(rng.sample(range(7), 2)) if part_time else [],
            )
        )
    AgentContract.objects.bulk_create(contracts, ignore_conflicts=True)
    return len(contracts)
