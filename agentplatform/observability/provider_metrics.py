"""LLM provider failures for dashboards and the provider error-rate alert.

`agentplatform_llm_request_duration_seconds_count` counts the calls that answered; this
counter counts the ones that failed for good (after the provider's retries), with the same
provider and model labels, so `errors / (errors + answered)` is the provider's error ratio.
"""

from __future__ import annotations

from prometheus_client import Counter

from agentplatform.observability import metrics

LLM_ERRORS = Counter(
    "llm_errors",
    "LLM provider requests that failed after retries, by provider kind and model.",
    ["provider", "model"],
    namespace=metrics.NAMESPACE,
    registry=metrics.REGISTRY,
)


def llm_error(*, provider: str, model: str) -> None:
    """One provider call that failed (labels bounded the way the other LLM series are)."""
    LLM_ERRORS.labels(metrics.provider_label(provider), metrics.model_label(model)).inc()
