"""The prompt repository: prompts CRUD, their public shape, and resolution for the engine."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core import cache
from agentplatform.core.errors import Conflict, NotFound, ValidationFailed
from agentplatform.models import Agent, Prompt, PromptLabel, PromptVersion
from agentplatform.models.common import utcnow
from agentplatform.models.prompt import PromptCreate, PromptPublic, PromptsPublic, PromptUpdate
from agentplatform.services import audit
from agentplatform.services.pagination import (
    Page,
    apply_filters,
    by_name,
    changes,
    check_version,
    commit_unique,
    ensure_name_free,
    paginate,
)
from agentplatform.services.permissions import Actor, require
from agentplatform.services.prompt_render import checked_version_fields
from agentplatform.services.run_metrics import runs_changed

LATEST = "latest"
RESOLUTION_CACHE_TTL_S = 300.0


async def load_prompt(
    session: AsyncSession, workspace_id: uuid.UUID, prompt_id: uuid.UUID, *, lock: bool = False
) -> Prompt:
    """The prompt in this workspace, or 404 (another workspace's prompt is 404 too)."""
    query = select(Prompt).where(Prompt.id == prompt_id, Prompt.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update()
    prompt = (await session.exec(query)).first()
    if prompt is None:
        raise NotFound(f"No prompt {prompt_id} in this workspace.")
    return prompt


async def label_map(session: AsyncSession, prompt_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Per prompt: `{label: version number}` including the automatic `latest`."""
    result: dict[uuid.UUID, dict[str, int]] = {pid: {} for pid in prompt_ids}
    if not prompt_ids:
        return result
    latest = (
        select(PromptVersion.prompt_id, func.max(PromptVersion.number))
        .where(col(PromptVersion.prompt_id).in_(prompt_ids))
        .group_by(col(PromptVersion.prompt_id))
    )
    for pid, number in (await session.exec(latest)).all():
        result[pid][LATEST] = number
    labels = (
        select(PromptLabel.prompt_id, PromptLabel.label, PromptVersion.number)
        .join(PromptVersion, col(PromptVersion.id) == col(PromptLabel.version_id))
        .where(col(PromptLabel.prompt_id).in_(prompt_ids))
        .order_by(col(PromptLabel.label))
    )
    for pid, label, number in (await session.exec(labels)).all():
        result[pid][label] = number
    return result


def _public(prompt: Prompt, labels: dict[str, int]) -> PromptPublic:
    public = PromptPublic(
        id=prompt.id,
        name=prompt.name,
        description=prompt.description,
        tags=list(prompt.tags),
        labels=dict(labels),
        latest_version=labels.get(LATEST),
        version=prompt.version,
        created_by=prompt.created_by,
        created_at=prompt.created_at,
        updated_at=prompt.updated_at,
    )
    return public


async def to_public(session: AsyncSession, prompt: Prompt) -> PromptPublic:
    return _public(prompt, (await label_map(session, [prompt.id]))[prompt.id])


def touch(prompt: Prompt) -> None:
    """A change to the prompt's versions, labels or fields: new ETag."""
    prompt.version += 1
    prompt.updated_at = utcnow()


async def agents_using(
    session: AsyncSession, prompt_id: uuid.UUID, *, label: str | None = None
) -> list[str]:
    """Names of the agents whose instructions come from this prompt (or this label of it)."""
    query = select(Agent.name).where(Agent.prompt_id == prompt_id)
    if label is not None:
        query = query.where(Agent.prompt_label == label)
    return sorted((await session.exec(query)).all())


async def list_prompts(*, session: AsyncSession, actor: Actor, page: Page) -> PromptsPublic:
    """Prompts of the actor's workspace, by name, filtered by `q` and `tag`."""
    require(actor, "prompts.read")
    query = select(Prompt).where(Prompt.workspace_id == actor.workspace_id)
    query = apply_filters(query, page=page, name_column=col(Prompt.name), tags_column=Prompt.tags)
    rows, count = await paginate(
        session, query, page=page, order_by=by_name(Prompt.name, Prompt.id)
    )
    labels = await label_map(session, [p.id for p in rows])
    return PromptsPublic(data=[_public(p, labels[p.id]) for p in rows], count=count)


async def get_prompt(*, session: AsyncSession, actor: Actor, prompt_id: uuid.UUID) -> PromptPublic:
    require(actor, "prompts.read")
    return await to_public(session, await load_prompt(session, actor.workspace_id, prompt_id))


async def create_prompt(*, session: AsyncSession, actor: Actor, data: PromptCreate) -> PromptPublic:
    """A new prompt, with version 1 when `first_version` is given."""
    require(actor, "prompts.write")
    await ensure_name_free(session, Prompt, actor.workspace_id, data.name)
    first = checked_version_fields(data.first_version) if data.first_version else None
    prompt = Prompt(
        workspace_id=actor.workspace_id,
        name=data.name,
        description=data.description,
        tags=data.tags,
        created_by=actor.user_id,
    )
    session.add(prompt)
    await session.flush()
    if first is not None:
        session.add(PromptVersion(prompt_id=prompt.id, number=1, author_id=actor.user_id, **first))
        await session.flush()
    public = await to_public(session, prompt)
    audit.record(
        session,
        actor=actor,
        action="prompt.create",
        resource_type="prompt",
        resource_id=prompt.id,
        after=public,
    )
    await commit_unique(session, "prompt", prompt.name)
    return public


async def update_prompt(
    *,
    session: AsyncSession,
    actor: Actor,
    prompt_id: uuid.UUID,
    data: PromptUpdate,
    expected_version: int | None = None,
) -> PromptPublic:
    """Rename or re-describe a prompt (its versions are immutable)."""
    require(actor, "prompts.write")
    prompt = await load_prompt(session, actor.workspace_id, prompt_id, lock=True)
    check_version("prompt", prompt.version, expected_version)
    updates = changes(data)
    before = await to_public(session, prompt)
    if "name" in updates and updates["name"] != prompt.name:
        await ensure_name_free(
            session, Prompt, actor.workspace_id, updates["name"], exclude=prompt.id
        )
    for key, value in updates.items():
        setattr(prompt, key, value)
    touch(prompt)
    session.add(prompt)
    await session.flush()
    public = await to_public(session, prompt)
    audit.record(
        session,
        actor=actor,
        action="prompt.update",
        resource_type="prompt",
        resource_id=prompt.id,
        before=before,
        after=public,
    )
    await commit_unique(session, "prompt", prompt.name)
    await runs_changed(actor.workspace_id)  # the dashboard names prompt versions
    return public


async def delete_prompt(
    *,
    session: AsyncSession,
    actor: Actor,
    prompt_id: uuid.UUID,
    expected_version: int | None = None,
) -> None:
    """Remove a prompt with its versions and labels, unless an agent uses it."""
    require(actor, "prompts.write")
    prompt = await load_prompt(session, actor.workspace_id, prompt_id, lock=True)
    check_version("prompt", prompt.version, expected_version)
    users = await agents_using(session, prompt.id)
    if users:
        raise Conflict(
            f"The prompt '{prompt.name}' is used by these agents: {', '.join(users)}. "
            "Give them other instructions first.",
            details={"agents": users},
        )
    audit.record(
        session,
        actor=actor,
        action="prompt.delete",
        resource_type="prompt",
        resource_id=prompt.id,
        before=await to_public(session, prompt),
    )
    await session.exec(delete(PromptLabel).where(col(PromptLabel.prompt_id) == prompt.id))
    await session.exec(delete(PromptVersion).where(col(PromptVersion.prompt_id) == prompt.id))
    await session.delete(prompt)
    await session.commit()
    await prompt_changed(prompt.id)
    await runs_changed(actor.workspace_id)


async def find_version(
    session: AsyncSession,
    prompt: Prompt,
    *,
    label: str | None = None,
    version: int | None = None,
) -> PromptVersion:
    """The version by number, else by label, else the latest; 404 naming what is missing."""
    query = select(PromptVersion).where(PromptVersion.prompt_id == prompt.id)
    if version is not None:
        query = query.where(PromptVersion.number == version)
        missing = f"The prompt '{prompt.name}' has no version {version}."
    elif label is not None and label != LATEST:
        query = query.join(PromptLabel, col(PromptLabel.version_id) == col(PromptVersion.id))
        query = query.where(PromptLabel.label == label)
        missing = f"The prompt '{prompt.name}' has no label '{label}'."
    else:
        query = query.order_by(col(PromptVersion.number).desc()).limit(1)
        missing = f"The prompt '{prompt.name}' has no versions yet: save one first."
    found = (await session.exec(query)).first()
    if found is None:
        raise NotFound(missing)
    return found


def _resolution_scope(prompt_id: uuid.UUID) -> str:
    return f"prompt:{prompt_id}"


async def prompt_changed(prompt_id: uuid.UUID) -> None:
    """A version, label or the prompt itself changed: forget its cached resolutions."""
    await cache.invalidate(_resolution_scope(prompt_id))


def _decode_resolution(raw: bytes) -> tuple[int, str]:
    number, template = json.loads(raw)
    if not isinstance(number, int) or not isinstance(template, str):
        raise ValueError("not a prompt resolution")
    return number, template


async def resolve_prompt(
    *,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    prompt_id: uuid.UUID,
    label: str | None = None,
    version: int | None = None,
) -> tuple[int, str]:
    """For the engine at run start: (version number, template) by version, label or latest.

    Cached (every run start reads it); writes to the prompt call `prompt_changed`."""
    if label is not None and version is not None:
        raise ValidationFailed("Reference a prompt version by label or by number, not both.")

    async def load() -> tuple[int, str]:
        prompt = await load_prompt(session, workspace_id, prompt_id)
        found = await find_version(session, prompt, label=label, version=version)
        return found.number, found.template

    return await cache.cached(
        _resolution_scope(prompt_id),
        f"{workspace_id}:{label or ''}:{version or ''}",
        ttl_s=RESOLUTION_CACHE_TTL_S,
        load=load,
        encode=lambda resolved: json.dumps(list(resolved)).encode(),
        decode=_decode_resolution,
    )
