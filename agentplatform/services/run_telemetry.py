"""What a run tells Prometheus and Sentry: runs started/finished, LLM calls, tokens, tools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentplatform.core.errors import ProviderError
from agentplatform.engine.events import StepEvent
from agentplatform.observability import metrics, provider_metrics
from agentplatform.observability.sentry import capture_run_failure
from agentplatform.services.run_lease import ClaimedRun


def _target(run: ClaimedRun) -> str:
    return str(run.agent_id or run.team_id or "other")


def _provider_kinds(config: dict[str, Any]) -> dict[str, str]:
    """Agent id → provider kind, from the run's configuration snapshot."""
    agents = config.get("agents") or {}
    return {
        str(agent_id): str(spec.get("provider_kind", "other")) for agent_id, spec in agents.items()
    }


def _configured_tools(config: dict[str, Any]) -> frozenset[str]:
    """The tools the run's agents were given: the only tool names worth a label."""
    agents = config.get("agents") or {}
    return frozenset(str(tool) for spec in agents.values() for tool in spec.get("tools") or ())


def step_observer(run: ClaimedRun) -> Callable[[StepEvent], None]:
    """Counts each model call (on the step that carries its usage), each provider failure
    (the error step of an agent whose provider failed) and each tool result; a tool name the
    model made up is counted as `unknown_tool`, never as a label of its own."""
    kinds = _provider_kinds(run.config or {})
    tools = _configured_tools(run.config or {})

    def observe(event: StepEvent) -> None:
        if event.kind == "tool_result" and event.tool_name:
            if event.tool_name not in tools:
                outcome = "unknown_tool"
            else:
                outcome = "error" if event.is_error else "ok"
            metrics.tool_call(tool=event.tool_name, outcome=outcome)
        elif event.model and (event.input_tokens or event.output_tokens):
            metrics.llm_request(
                provider=kinds.get(str(event.agent_id), "other"),
                model=event.model,
                duration_s=event.latency_ms / 1000,
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
                cost_usd=event.cost_usd,
            )
        elif event.kind == "error" and event.meta.get("error_type") == ProviderError.__name__:
            provider_metrics.llm_error(
                provider=kinds.get(str(event.agent_id), "other"), model=event.model or "unknown"
            )

    return observe


_executing = 0


def execution_began() -> None:
    """A run was claimed by this process (the `runs_active` gauge)."""
    global _executing
    _executing += 1
    metrics.set_runs_active(_executing)


def execution_ended() -> None:
    global _executing
    _executing = max(_executing - 1, 0)
    metrics.set_runs_active(_executing)


def run_started(run: ClaimedRun) -> None:
    metrics.run_started(kind=run.kind)


def run_finished(run: ClaimedRun, *, status: str, error: str | None, duration_s: float) -> None:
    """Count the outcome; a failed run also goes to Sentry (when configured)."""
    metrics.run_finished(kind=run.kind, status=status, duration_s=duration_s)
    if status == "failed":
        capture_run_failure(
            run.id, RuntimeError(error or "run failed"), kind=run.kind, target_id=_target(run)
        )
