"""Execute one run: claim it, run the agent or team, record every step, set the outcome."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update

from agentplatform.core import logging as log_context
from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, ProviderError
from agentplatform.engine.agent_loop import AgentTimeout, run_agent
from agentplatform.engine.teams import run_team
from agentplatform.models.common import utcnow
from agentplatform.models.run import Run
from agentplatform.services import run_telemetry
from agentplatform.services.prices import price_table
from agentplatform.services.run_events import get_notifier, publish
from agentplatform.services.run_lease import INTERRUPTED, ClaimedRun, claim_run
from agentplatform.services.run_metrics import runs_changed
from agentplatform.services.run_recorder import RunRecorder
from agentplatform.services.run_specs import (
    build_agent_specs,
    build_team_spec,
    cost_function,
    tool_registry,
)
from agentplatform.services.run_watch import WatchOutcome, lease_keeper, watch_run
from agentplatform.services.run_writes import run_writes

log = logging.getLogger(__name__)

CANCELLED_TEXT = "Run cancelled on request."
LEASE_LOST = "interrupted: this run's lease expired while it was executing"


@dataclass
class Outcome:
    """How a run ended."""

    status: str
    stopped_reason: str | None = None
    output: str | None = None
    error: str | None = None
    turns: dict[str, int] | None = None


async def _execute(run: ClaimedRun, recorder: RunRecorder) -> Outcome:
    """Build the specs from the snapshot (cached provider connections and prices) and run
    them through the engine."""
    config = run.config
    async with session_scope() as session:
        agents = await build_agent_specs(session, run.workspace_id, config)
        cost_fn = cost_function(await price_table(session, run.workspace_id))
    registry = tool_registry()
    if config["kind"] == "agent":
        spec = agents[config["agent"]["id"]]
        result = await run_agent(spec, run.input, registry=registry, sink=recorder, cost_fn=cost_fn)
        return Outcome("succeeded", result.stopped_reason, result.output)
    team = build_team_spec(config, agents)
    outcome = await run_team(team, run.input, registry=registry, sink=recorder, cost_fn=cost_fn)
    turns = {agent_id: totals.turns for agent_id, totals in outcome.per_agent.items()}
    return Outcome("succeeded", outcome.stopped_reason, outcome.output, turns=turns)


def _failure(exc: BaseException, run: ClaimedRun) -> Outcome:
    """The outcome of an engine error; its text names provider, model and cause."""
    if isinstance(exc, AgentTimeout):
        return Outcome("timed_out", "agent_timeout", error=exc.message)
    if isinstance(exc, ProviderError):
        return Outcome("failed", "provider_error", error=exc.message)
    if isinstance(exc, AppError):
        return Outcome("failed", "error", error=exc.message)
    log.exception("run %s failed unexpectedly", run.id, exc_info=exc)
    return Outcome("failed", "error", error=f"internal error: {type(exc).__name__}: {exc}")


_RUNS = Run.__table__  # type: ignore[attr-defined]
_OUTCOME_COLUMNS = (
    "status", "stopped_reason", "output", "error", "input_tokens", "output_tokens", "cost_usd",
    "latency_ms", "per_agent", "finished_at", "lease_expires_at",
)  # fmt: skip
# Built once (it runs for every run); it writes only while this worker still owns the run.
_FINISH = (
    update(_RUNS)
    .where(
        _RUNS.c.id == bindparam("finish_id"),
        _RUNS.c.worker_id == bindparam("finish_worker"),
        _RUNS.c.status == "running",
    )
    .values({name: bindparam(f"set_{name}") for name in _OUTCOME_COLUMNS})
)


async def _finish(
    run: ClaimedRun, worker_id: str, recorder: RunRecorder, outcome: Outcome, started: float
) -> None:
    """Write the final status and totals, if this worker still owns the run (group-committed
    with other runs' writes)."""
    lost = await recorder.flush()
    if lost is not None:
        log.error("run %s: a step could not be recorded", run.id, exc_info=lost)
        if outcome.status == "succeeded":
            error = f"internal error: a step was not recorded: {lost}"
            outcome = Outcome("failed", "error", error=error)
    values: dict[str, Any] = {
        "status": outcome.status,
        "stopped_reason": outcome.stopped_reason,
        "output": outcome.output,
        "error": outcome.error,
        "input_tokens": recorder.input_tokens,
        "output_tokens": recorder.output_tokens,
        "cost_usd": recorder.cost_usd,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "per_agent": recorder.per_agent_json(outcome.turns),
        "finished_at": utcnow(),
        "lease_expires_at": None,
    }
    params = {f"set_{name}": value for name, value in values.items()}
    params.update(finish_id=run.id, finish_worker=worker_id)
    await run_writes().write(_FINISH, params)
    await runs_changed(run.workspace_id)
    await publish(run.id, "status")


async def execute_run(run_id: uuid.UUID, worker_id: str) -> bool:
    """Claim and execute one queued run; False if another worker claimed it (or it was
    cancelled while queued). Cancelling this coroutine (shutdown) fails the run as
    interrupted before the cancellation propagates."""
    run = await claim_run(run_id, worker_id)
    if run is None:
        return False
    run_telemetry.execution_began()
    token = log_context.run_id.set(str(run_id))
    started = time.perf_counter()
    notifier = get_notifier()
    recorder = RunRecorder(run_id, notifier)
    watch = WatchOutcome()
    shutting_down = False
    keeper = lease_keeper(worker_id)
    try:
        await publish(run_id, "status")
        recorder.observe = run_telemetry.step_observer(run)
        run_telemetry.run_started(run)
        work = asyncio.ensure_future(_execute(run, recorder))
        keeper.track(run_id, work, watch)  # until the outcome is written
        watcher = asyncio.ensure_future(watch_run(run_id, work, watch, notifier))
        try:
            outcome = await work
        except asyncio.CancelledError:
            task = asyncio.current_task()
            shutting_down = task is not None and task.cancelling() > 0
            if shutting_down:
                outcome = Outcome("failed", "interrupted", error=INTERRUPTED)
            elif watch.cancelled:
                outcome = Outcome("cancelled", "cancelled")
            else:  # the keeper stopped it (lease lost), or something unforeseen did
                error = LEASE_LOST if watch.lease_lost else INTERRUPTED
                outcome = Outcome("failed", "interrupted", error=error)
        except Exception as exc:
            outcome = _failure(exc, run)
        finally:
            watcher.cancel()
        if outcome.status == "cancelled":
            try:
                await recorder.write(kind="error", content=CANCELLED_TEXT)
            except Exception:  # a step that could not be written: the outcome still is
                log.exception("run %s: could not record the cancellation step", run_id)
        await _finish(run, worker_id, recorder, outcome, started)
        run_telemetry.run_finished(
            run,
            status=outcome.status,
            error=outcome.error,
            duration_s=time.perf_counter() - started,
        )
        log.info("run %s %s (%s)", run_id, outcome.status, outcome.stopped_reason)
    finally:
        keeper.untrack(run_id)
        log_context.run_id.reset(token)
        run_telemetry.execution_ended()
    if shutting_down:
        raise asyncio.CancelledError
    return True
