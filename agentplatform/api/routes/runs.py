"""Runs: start an agent or team, list and read runs, their trace, live events, cancel."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import StreamingResponse

from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.core import logging as log_context
from agentplatform.models.run import RunCreate, RunPublic, RunsPublic, RunStatus, RunStepsPublic
from agentplatform.services import runs
from agentplatform.services.run_events import StreamEvent, open_run_stream

router = APIRouter(prefix="/runs", tags=["runs"])

KEEPALIVE_S = 15.0
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
LOCATION_HEADER = {"description": "The new run: /api/runs/{id}", "schema": {"type": "string"}}


@router.post(
    "",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a run of an agent or a team; it executes in the background",
    responses={
        202: {"description": "Queued", "headers": {"Location": LOCATION_HEADER}},
        **errors_for(
            401,
            403,
            404,
            descriptions={
                404: "No such agent or team in this workspace",
                422: "Invalid body, a missing template variable, or a pin of an unused prompt",
            },
        ),
    },
)
async def create_run(
    data: RunCreate, actor: ActorDep, session: SessionDep, response: Response
) -> RunPublic:
    run = await runs.create_run(
        session=session, actor=actor, data=data, correlation_id=log_context.correlation_id.get()
    )
    response.headers["Location"] = f"/api/runs/{run.id}"
    return run


@router.get(
    "",
    response_model=RunsPublic,
    summary="Runs of the workspace, newest first",
    responses=errors_for(401, 403, 404),
)
async def list_runs(
    actor: ActorDep,
    session: SessionDep,
    status: Annotated[RunStatus | None, Query(description="Only runs in this status.")] = None,
    agent_id: Annotated[uuid.UUID | None, Query(description="Runs of this agent.")] = None,
    team_id: Annotated[uuid.UUID | None, Query(description="Runs of this team.")] = None,
    created_by: Annotated[uuid.UUID | None, Query(description="Runs started by this user.")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Created before (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RunsPublic:
    filters = runs.RunFilters(status, agent_id, team_id, created_by, since, until)
    return await runs.list_runs(
        session=session, actor=actor, filters=filters, limit=limit, offset=offset
    )


@router.get(
    "/{run_id}",
    response_model=RunPublic,
    summary="One run: status, output or error, tokens, cost, latency",
    responses=errors_for(401, 403, 404),
)
async def get_run(run_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> RunPublic:
    return await runs.get_run(session=session, actor=actor, run_id=run_id)


@router.get(
    "/{run_id}/steps",
    response_model=RunStepsPublic,
    summary="The run's trace in order (messages, tool calls and results, handoffs, errors)",
    responses=errors_for(401, 403, 404),
)
async def list_steps(
    run_id: uuid.UUID,
    actor: ActorDep,
    session: SessionDep,
    after_seq: Annotated[int, Query(ge=0, description="Only steps after this seq.")] = 0,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> RunStepsPublic:
    return await runs.list_steps(
        session=session, actor=actor, run_id=run_id, after_seq=after_seq, limit=limit
    )


def _sse(event: StreamEvent) -> str:
    """One Server-Sent Event; steps carry their seq as the event id (for resuming)."""
    if event.kind == "step" and event.step is not None:
        data = event.step.model_dump_json()
        return f"id: {event.step.seq}\nevent: step\ndata: {data}\n\n"
    if event.kind == "status" and event.run is not None:
        return f"event: status\ndata: {event.run.model_dump_json()}\n\n"
    if event.kind == "delta" and event.delta is not None:
        delta = event.delta
        body = {"agent_id": delta.agent_id, "agent_name": delta.agent_name, "text": delta.text}
        return f"event: delta\ndata: {json.dumps(body)}\n\n"
    return ": keep-alive\n\n"


async def _encode(events: AsyncIterator[StreamEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield _sse(event)


@router.get(
    "/{run_id}/events",
    summary="Live events (Server-Sent Events): each step, live text, then the final status",
    description=(
        "`text/event-stream`. `event: step` (id = seq, data = a step) for every step as it "
        "is written, `event: delta` with live text while a model answers (not replayed), "
        "and `event: status` with the final run, after which the stream ends. Resume with "
        "`Last-Event-ID` or `?after=<seq>`. A `: keep-alive` comment is sent every 15 s."
    ),
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The event stream"},
        **errors_for(401, 403, 404),
    },
)
async def run_events(
    run_id: uuid.UUID,
    actor: ActorDep,
    session: SessionDep,
    after: Annotated[int | None, Query(ge=0, description="Resume after this step seq.")] = None,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> StreamingResponse:
    if after is None and last_event_id and last_event_id.strip().isdigit():
        after = int(last_event_id.strip())
    events = await open_run_stream(
        session=session, actor=actor, run_id=run_id, after_seq=after or 0, keepalive_s=KEEPALIVE_S
    )
    return StreamingResponse(_encode(events), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post(
    "/{run_id}/cancel",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a run: at once if queued, at its next step if running",
    responses=errors_for(401, 403, 404, 409, descriptions={409: "The run already finished"}),
)
async def cancel_run(run_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> RunPublic:
    return await runs.cancel_run(session=session, actor=actor, run_id=run_id)
