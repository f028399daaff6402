"""Prometheus metrics: one registry, HTTP series, and ready-to-call helpers for runs, LLMs, tools.

Label values are bounded and never name a tenant: enums (kind, status, provider kind, outcome),
route templates, and configured names (model, tool) clamped to a safe charset and length, of
which each process labels at most a fixed number (later ones read `other`). No workspace,
agent, team or user id is ever a label. docs/security.md states the worst-case series count.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

NAMESPACE = "agentplatform"
OTHER = "other"
RUN_KINDS = frozenset({"agent", "team"})
RUN_STATUSES = frozenset({"queued", "running", "succeeded", "failed", "cancelled", "timed_out"})
TOOL_OUTCOMES = frozenset({"ok", "error", "timeout", "denied", "invalid_args", "unknown_tool"})
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PROVIDER_KINDS = frozenset({"openai", "anthropic", "ollama", "offline"})
MODEL_LABELS_MAX = 50  # distinct model names labelled per process; more read `other`
TOOL_LABELS_MAX = 32  # distinct tool names labelled per process; more read `other`
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.:/@+-]")
_MAX_LABEL = 80

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RUN_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
LLM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

REGISTRY = CollectorRegistry(auto_describe=True)
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to serve an HTTP request, by method and route template.",
    ["method", "route"],
    namespace=NAMESPACE,
    registry=REGISTRY,
    buckets=HTTP_BUCKETS,
)
RUNS_STARTED = Counter(
    "runs_started",
    "Runs that started executing, by kind (agent/team).",
    ["kind"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
RUNS_FINISHED = Counter(
    "runs_finished",
    "Runs that reached a terminal status, by kind and status.",
    ["kind", "status"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
RUN_DURATION = Histogram(
    "run_duration_seconds",
    "Wall time of finished runs, by kind and terminal status.",
    ["kind", "status"],
    namespace=NAMESPACE,
    registry=REGISTRY,
    buckets=RUN_BUCKETS,
)
LLM_DURATION = Histogram(
    "llm_request_duration_seconds",
    "Time of one LLM provider request (including retries), by provider kind and model.",
    ["provider", "model"],
    namespace=NAMESPACE,
    registry=REGISTRY,
    buckets=LLM_BUCKETS,
)
LLM_TOKENS = Counter(
    "llm_tokens",
    "Tokens exchanged with LLM providers, by provider kind, model and direction (input/output).",
    ["provider", "model", "direction"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
LLM_COST = Counter(
    "llm_cost_usd",
    "Cost of LLM requests in US dollars (from the price table), by provider kind and model.",
    ["provider", "model"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
TOOL_CALLS = Counter(
    "tool_calls",
    "Tool calls requested by models, by tool name and outcome.",
    ["tool", "outcome"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
RUNS_ACTIVE = Gauge(
    "runs_active",
    "Runs executing right now in this process.",
    namespace=NAMESPACE,
    registry=REGISTRY,
)
RUNS_QUEUED = Gauge(
    "runs_queued",
    "Runs waiting for an execution slot or a worker.",
    namespace=NAMESPACE,
    registry=REGISTRY,
)


def _enum(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else OTHER


def _name(value: object) -> str:
    """A bounded label for a configured name (model, provider, tool): safe chars, clamped."""
    text = _NAME_CHARS.sub("_", str(value).strip())[:_MAX_LABEL]
    return text or "unknown"


class _BoundedNames:
    """At most `limit` distinct label values in this process; values beyond that read `other`,
    so no one can grow the series without bound by naming models or tools."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: object) -> str:
        label = _name(value)
        if label in self._seen:
            return label
        with self._lock:
            if len(self._seen) < self.limit:
                self._seen.add(label)
                return label
        return OTHER


_model_label = _BoundedNames(MODEL_LABELS_MAX)
_tool_label = _BoundedNames(TOOL_LABELS_MAX)


def provider_label(provider: str) -> str:
    """The label of a provider kind: one of PROVIDER_KINDS, else `other`."""
    return _enum(provider, PROVIDER_KINDS)


def model_label(model: str) -> str:
    """The label of a model name: clamped, and one of this process's first MODEL_LABELS_MAX."""
    return _model_label(model)


def http_request(*, method: str, route: str, status: int, duration_s: float) -> None:
    """Record one served HTTP request (`route` is a template such as `/api/agents/{agent_id}`)."""
    verb = _enum(method.upper(), HTTP_METHODS)
    HTTP_REQUESTS.labels(verb, route, str(status)).inc()
    HTTP_DURATION.labels(verb, route).observe(max(duration_s, 0.0))


def run_started(*, kind: str) -> None:
    """A run began executing (call once, when it leaves the queue)."""
    RUNS_STARTED.labels(_enum(kind, RUN_KINDS)).inc()


def run_finished(*, kind: str, status: str, duration_s: float) -> None:
    """A run reached a terminal status after `duration_s` seconds of execution."""
    kind_label, status_label = _enum(kind, RUN_KINDS), _enum(status, RUN_STATUSES)
    RUNS_FINISHED.labels(kind_label, status_label).inc()
    RUN_DURATION.labels(kind_label, status_label).observe(max(duration_s, 0.0))


def llm_request(
    *,
    provider: str,
    model: str,
    duration_s: float,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost_usd: float | Decimal = 0.0,
) -> None:
    """One provider call (`provider` is its kind): duration, tokens used and what it cost."""
    labels = provider_label(provider), model_label(model)
    LLM_DURATION.labels(*labels).observe(max(duration_s, 0.0))
    if input_tokens > 0:
        LLM_TOKENS.labels(*labels, "input").inc(input_tokens)
    if output_tokens > 0:
        LLM_TOKENS.labels(*labels, "output").inc(output_tokens)
    if cost_usd > 0:
        LLM_COST.labels(*labels).inc(float(cost_usd))


def tool_call(*, tool: str, outcome: str) -> None:
    """A tool call a model asked for; a name outside the registry must say `unknown_tool`."""
    outcome_label = _enum(outcome, TOOL_OUTCOMES)
    tool_label = "unknown" if outcome_label == "unknown_tool" else _tool_label(tool)
    TOOL_CALLS.labels(tool_label, outcome_label).inc()


def set_runs_active(count: int) -> None:
    """Runs executing now (set from the executor's own bookkeeping)."""
    RUNS_ACTIVE.set(max(count, 0))


def set_runs_queued(count: int) -> None:
    """Runs waiting to execute (in-process queue length or the Redis queue depth)."""
    RUNS_QUEUED.set(max(count, 0))


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
