"""The dashboard's numbers: run counts, success rate, latency percentiles, tokens and cost."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field
from sqlmodel import SQLModel


class RunMetrics(SQLModel):
    """Counts and totals of a set of runs."""

    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    timed_out: int = 0
    active: int = Field(default=0, description="Runs still queued or running")
    success_rate: float | None = Field(
        default=None,
        description="succeeded / (succeeded + failed + timed_out); cancelled runs are left out",
    )
    latency_p50_ms: float | None = Field(default=None, description="Median run latency")
    latency_p95_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class DayMetrics(RunMetrics):
    day: date


class AgentMetrics(RunMetrics):
    agent_id: uuid.UUID | None
    name: str


class TeamMetrics(RunMetrics):
    team_id: uuid.UUID | None
    name: str


class PromptVersionMetrics(RunMetrics):
    prompt_id: uuid.UUID
    prompt_name: str
    version: int


class MetricsSummary(RunMetrics):
    """Runs created in [since, until): overall, per UTC day, per agent, team, prompt version."""

    since: datetime
    until: datetime
    per_day: list[DayMetrics] = []
    per_agent: list[AgentMetrics] = []
    per_team: list[TeamMetrics] = []
    per_prompt_version: list[PromptVersionMetrics] = []
