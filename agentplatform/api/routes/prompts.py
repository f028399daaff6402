"""The prompt repository: prompts, immutable versions, labels, diffs and rendering."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from agentplatform.api.concurrency import (
    CREATED_HEADERS,
    ETAG_HEADER,
    ExpectedVersion,
    PageQuery,
    created,
    set_etag,
)
from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.prompt import (
    LabelMove,
    PromptCreate,
    PromptDiff,
    PromptPublic,
    PromptsPublic,
    PromptUpdate,
    PromptVersionCreate,
    PromptVersionPublic,
    PromptVersionsPublic,
    RenderedPrompt,
    RenderRequest,
)
from agentplatform.services import prompt_versions, prompts

router = APIRouter(prefix="/prompts", tags=["prompts"])
MAX_NUMBER = 2_147_483_647
VersionNumber = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="Version number (1, 2, 3…)")]
LabelName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Label, e.g. `production`; `latest` is automatic",
    ),
]
_WITH_ETAG: dict[int | str, dict[str, Any]] = {200: {"headers": ETAG_HEADER}}


async def _etag_of(
    response: Response, session: SessionDep, actor: ActorDep, prompt_id: uuid.UUID
) -> None:
    prompt = await prompts.get_prompt(session=session, actor=actor, prompt_id=prompt_id)
    set_etag(response, prompt.version)


@router.get(
    "",
    response_model=PromptsPublic,
    summary="List prompts (by name; filter with q and tag)",
    responses=errors_for(401, 403, 404),
)
async def list_prompts(actor: ActorDep, session: SessionDep, page: PageQuery) -> PromptsPublic:
    return await prompts.list_prompts(session=session, actor=actor, page=page)


@router.post(
    "",
    response_model=PromptPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a prompt, optionally with its first version",
    responses={
        201: {"headers": CREATED_HEADERS},
        **errors_for(401, 403, 404, 409, descriptions={409: "A prompt with this name exists"}),
    },
)
async def create_prompt(
    data: PromptCreate, actor: ActorDep, session: SessionDep, response: Response
) -> PromptPublic:
    prompt = await prompts.create_prompt(session=session, actor=actor, data=data)
    created(response, f"/prompts/{prompt.id}", prompt.version)
    return prompt


@router.get(
    "/{prompt_id}",
    response_model=PromptPublic,
    summary="Get a prompt with its labels and latest version number",
    responses={**_WITH_ETAG, **errors_for(401, 403, 404)},
)
async def get_prompt(
    prompt_id: uuid.UUID, actor: ActorDep, session: SessionDep, response: Response
) -> PromptPublic:
    prompt = await prompts.get_prompt(session=session, actor=actor, prompt_id=prompt_id)
    set_etag(response, prompt.version)
    return prompt


@router.patch(
    "/{prompt_id}",
    response_model=PromptPublic,
    summary="Rename, re-describe or re-tag a prompt (versions are immutable)",
    responses={**_WITH_ETAG, **errors_for(401, 403, 404, 409, 412)},
)
async def update_prompt(
    prompt_id: uuid.UUID,
    data: PromptUpdate,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
    expected: ExpectedVersion,
) -> PromptPublic:
    prompt = await prompts.update_prompt(
        session=session, actor=actor, prompt_id=prompt_id, data=data, expected_version=expected
    )
    set_etag(response, prompt.version)
    return prompt


@router.delete(
    "/{prompt_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a prompt with all its versions, unless an agent uses it",
    responses=errors_for(
        401, 403, 404, 409, 412, descriptions={409: "Agents use this prompt (they are named)"}
    ),
)
async def delete_prompt(
    prompt_id: uuid.UUID, actor: ActorDep, session: SessionDep, expected: ExpectedVersion
) -> Response:
    await prompts.delete_prompt(
        session=session, actor=actor, prompt_id=prompt_id, expected_version=expected
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{prompt_id}/versions",
    response_model=PromptVersionsPublic,
    summary="A prompt's versions, newest first",
    responses={**_WITH_ETAG, **errors_for(401, 403, 404)},
)
async def list_versions(
    prompt_id: uuid.UUID, actor: ActorDep, session: SessionDep, page: PageQuery, response: Response
) -> PromptVersionsPublic:
    versions = await prompt_versions.list_versions(
        session=session, actor=actor, prompt_id=prompt_id, page=page
    )
    await _etag_of(response, session, actor, prompt_id)
    return versions


@router.post(
    "/{prompt_id}/versions",
    response_model=PromptVersionPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Save a new version (the next number); `latest` follows it",
    responses={
        201: {"headers": CREATED_HEADERS},
        **errors_for(
            401,
            403,
            404,
            409,
            412,
            descriptions={422: "Template syntax error (with its line), or config over 32 KB"},
        ),
    },
)
async def create_version(
    prompt_id: uuid.UUID,
    data: PromptVersionCreate,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
    expected: ExpectedVersion,
) -> PromptVersionPublic:
    version = await prompt_versions.create_version(
        session=session, actor=actor, prompt_id=prompt_id, data=data, expected_version=expected
    )
    await _etag_of(response, session, actor, prompt_id)
    response.headers["Location"] = f"/api/prompts/{prompt_id}/versions/{version.number}"
    return version


@router.get(
    "/{prompt_id}/versions/{number}",
    response_model=PromptVersionPublic,
    summary="One version of a prompt",
    responses={**_WITH_ETAG, **errors_for(401, 403, 404)},
)
async def get_version(
    prompt_id: uuid.UUID,
    number: VersionNumber,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
) -> PromptVersionPublic:
    version = await prompt_versions.get_version(
        session=session, actor=actor, prompt_id=prompt_id, number=number
    )
    await _etag_of(response, session, actor, prompt_id)
    return version


@router.put(
    "/{prompt_id}/labels/{label}",
    response_model=PromptPublic,
    summary="Point a label at a version: deploy, or roll back to an older one",
    responses={
        **_WITH_ETAG,
        **errors_for(401, 403, 404, 412, descriptions={422: "`latest` cannot be moved"}),
    },
)
async def move_label(
    prompt_id: uuid.UUID,
    label: LabelName,
    data: LabelMove,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
    expected: ExpectedVersion,
) -> PromptPublic:
    prompt = await prompt_versions.move_label(
        session=session,
        actor=actor,
        prompt_id=prompt_id,
        label=label,
        number=data.version,
        expected_version=expected,
    )
    set_etag(response, prompt.version)
    return prompt


@router.delete(
    "/{prompt_id}/labels/{label}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a label no agent relies on",
    responses=errors_for(
        401,
        403,
        404,
        409,
        412,
        descriptions={409: "Agents use this label (they are named)", 422: "`latest` is automatic"},
    ),
)
async def delete_label(
    prompt_id: uuid.UUID,
    label: LabelName,
    actor: ActorDep,
    session: SessionDep,
    expected: ExpectedVersion,
) -> Response:
    prompt = await prompt_versions.delete_label(
        session=session, actor=actor, prompt_id=prompt_id, label=label, expected_version=expected
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_etag(response, prompt.version)
    return response


@router.get(
    "/{prompt_id}/diff",
    response_model=PromptDiff,
    summary="What changed between two versions (default: latest against the one before)",
    responses=errors_for(401, 403, 404),
)
async def diff_versions(
    prompt_id: uuid.UUID,
    actor: ActorDep,
    session: SessionDep,
    from_version: Annotated[int | None, Query(alias="from", ge=1, le=MAX_NUMBER)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=MAX_NUMBER)] = None,
) -> PromptDiff:
    return await prompt_versions.diff_versions(
        session=session,
        actor=actor,
        prompt_id=prompt_id,
        from_version=from_version,
        to_version=to_version,
    )


@router.post(
    "/{prompt_id}/render",
    response_model=RenderedPrompt,
    summary="Render a version (number, label, else latest) with variables, in the sandbox",
    responses=errors_for(
        401, 403, 404, descriptions={422: "A missing variable (named) or an unsafe template"}
    ),
)
async def render_prompt(
    prompt_id: uuid.UUID, data: RenderRequest, actor: ActorDep, session: SessionDep
) -> RenderedPrompt:
    return await prompt_versions.render_prompt(
        session=session, actor=actor, prompt_id=prompt_id, data=data
    )
