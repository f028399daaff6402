"""Prompt versions (immutable, numbered 1, 2, 3…), labels, diffs and rendering."""

from __future__ import annotations

import difflib
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import Conflict, NotFound, ValidationFailed
from agentplatform.models import Prompt, PromptLabel, PromptVersion
from agentplatform.models.common import utcnow
from agentplatform.models.prompt import (
    PromptDiff,
    PromptPublic,
    PromptVersionCreate,
    PromptVersionPublic,
    PromptVersionsPublic,
    RenderedPrompt,
    RenderRequest,
)
from agentplatform.services import audit
from agentplatform.services.pagination import (
    Page,
    check_version,
    paginate,
)
from agentplatform.services.permissions import Actor, require
from agentplatform.services.prompt_render import checked_version_fields, render_text
from agentplatform.services.prompts import (
    LATEST,
    agents_using,
    find_version,
    label_map,
    load_prompt,
    prompt_changed,
    to_public,
    touch,
)


def _version_public(version: PromptVersion, labels: dict[str, int]) -> PromptVersionPublic:
    names = sorted(label for label, number in labels.items() if number == version.number)
    public = PromptVersionPublic(
        number=version.number,
        template=version.template,
        variables=list(version.variables),
        config=dict(version.config),
        commit_message=version.commit_message,
        author_id=version.author_id,
        created_at=version.created_at,
        labels=names,
    )
    return public


async def _labels(session: AsyncSession, prompt: Prompt) -> dict[str, int]:
    return dict((await label_map(session, [prompt.id]))[prompt.id])


async def list_versions(
    *, session: AsyncSession, actor: Actor, prompt_id: uuid.UUID, page: Page
) -> PromptVersionsPublic:
    """The prompt's versions, newest first."""
    require(actor, "prompts.read")
    prompt = await load_prompt(session, actor.workspace_id, prompt_id)
    query = select(PromptVersion).where(PromptVersion.prompt_id == prompt.id)
    rows, count = await paginate(
        session, query, page=page, order_by=[col(PromptVersion.number).desc()]
    )
    labels = await _labels(session, prompt)
    return PromptVersionsPublic(data=[_version_public(v, labels) for v in rows], count=count)


async def get_version(
    *, session: AsyncSession, actor: Actor, prompt_id: uuid.UUID, number: int
) -> PromptVersionPublic:
    require(actor, "prompts.read")
    prompt = await load_prompt(session, actor.workspace_id, prompt_id)
    version = await find_version(session, prompt, version=number)
    return _version_public(version, await _labels(session, prompt))


async def create_version(
    *,
    session: AsyncSession,
    actor: Actor,
    prompt_id: uuid.UUID,
    data: PromptVersionCreate,
    expected_version: int | None = None,
) -> PromptVersionPublic:
    """Save the next version number; `latest` follows it."""
    require(actor, "prompts.write")
    prompt = await load_prompt(session, actor.workspace_id, prompt_id, lock=True)
    check_version("prompt", prompt.version, expected_version)
    fields = checked_version_fields(data)
    query = select(func.max(PromptVersion.number)).where(PromptVersion.prompt_id == prompt.id)
    number = ((await session.exec(query)).one() or 0) + 1
    version = PromptVersion(prompt_id=prompt.id, number=number, author_id=actor.user_id, **fields)
    session.add(version)
    touch(prompt)
    session.add(prompt)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            "Someone saved a version of this prompt at the same moment: reload and save again."
        ) from None
    public = _version_public(version, await _labels(session, prompt))
    audit.record(
        session,
        actor=actor,
        action="prompt.version_create",
        resource_type="prompt",
        resource_id=prompt.id,
        after={"number": number, "commit_message": version.commit_message},
    )
    await session.commit()
    await prompt_changed(prompt.id)  # `latest` moved
    return public


async def _label_row(session: AsyncSession, prompt_id: uuid.UUID, label: str) -> PromptLabel | None:
    query = select(PromptLabel).where(PromptLabel.prompt_id == prompt_id)
    return (await session.exec(query.where(PromptLabel.label == label))).first()


def _check_label(label: str) -> None:
    if label == LATEST:
        raise ValidationFailed(
            "The label 'latest' is automatic: it always points at the highest version, so it "
            "cannot be moved or removed. Use another label, e.g. 'production'.",
            details=[{"field": "label", "message": "'latest' is automatic"}],
        )


async def move_label(
    *,
    session: AsyncSession,
    actor: Actor,
    prompt_id: uuid.UUID,
    label: str,
    number: int,
    expected_version: int | None = None,
) -> PromptPublic:
    """Point `label` at version `number` (deploy forward, or roll back to an older one)."""
    require(actor, "prompts.deploy")
    _check_label(label)
    prompt = await load_prompt(session, actor.workspace_id, prompt_id, lock=True)
    check_version("prompt", prompt.version, expected_version)
    target = await find_version(session, prompt, version=number)
    before = (await _labels(session, prompt)).get(label)
    row = await _label_row(session, prompt.id, label)
    if row is None:
        row = PromptLabel(prompt_id=prompt.id, label=label, version_id=target.id)
    row.version_id, row.updated_by, row.updated_at = target.id, actor.user_id, utcnow()
    session.add(row)
    touch(prompt)
    session.add(prompt)
    await session.flush()
    kind = "rollback" if before is not None and number < before else "deploy"
    audit.record(
        session,
        actor=actor,
        action="prompt.label_move",
        resource_type="prompt",
        resource_id=prompt.id,
        before={"label": label, "version": before},
        after={"label": label, "version": number, "kind": kind},
    )
    public = await to_public(session, prompt)
    await session.commit()
    await prompt_changed(prompt.id)
    return public


async def delete_label(
    *,
    session: AsyncSession,
    actor: Actor,
    prompt_id: uuid.UUID,
    label: str,
    expected_version: int | None = None,
) -> PromptPublic:
    """Remove a label no agent relies on."""
    require(actor, "prompts.deploy")
    _check_label(label)
    prompt = await load_prompt(session, actor.workspace_id, prompt_id, lock=True)
    check_version("prompt", prompt.version, expected_version)
    row = await _label_row(session, prompt.id, label)
    if row is None:
        raise NotFound(f"The prompt '{prompt.name}' has no label '{label}'.")
    users = await agents_using(session, prompt.id, label=label)
    if users:
        raise Conflict(
            f"These agents use the label '{label}': {', '.join(users)}. "
            "Point them elsewhere first.",
            details={"agents": users},
        )
    before = (await _labels(session, prompt)).get(label)
    await session.delete(row)
    touch(prompt)
    session.add(prompt)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="prompt.label_delete",
        resource_type="prompt",
        resource_id=prompt.id,
        before={"label": label, "version": before},
    )
    public = await to_public(session, prompt)
    await session.commit()
    await prompt_changed(prompt.id)
    return public


def _config_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {
        "added": {k: new[k] for k in new.keys() - old.keys()},
        "removed": {k: old[k] for k in old.keys() - new.keys()},
        "changed": {
            k: {"from": old[k], "to": new[k]} for k in old.keys() & new.keys() if old[k] != new[k]
        },
    }


def diff_texts(old: str, new: str, *, old_name: str, new_name: str) -> tuple[str, list[Any]]:
    """A unified diff and a line list (`op` is "+", "-" or " ", with line numbers)."""
    a, b = old.splitlines(), new.splitlines()
    unified = "\n".join(difflib.unified_diff(a, b, fromfile=old_name, tofile=new_name, lineterm=""))
    lines: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [
                {"op": " ", "text": a[i1 + k], "old": i1 + k + 1, "new": j1 + k + 1}
                for k in range(i2 - i1)
            ]
            continue
        lines += [{"op": "-", "text": a[i], "old": i + 1, "new": None} for i in range(i1, i2)]
        lines += [{"op": "+", "text": b[j], "old": None, "new": j + 1} for j in range(j1, j2)]
    return unified, lines


async def diff_versions(
    *,
    session: AsyncSession,
    actor: Actor,
    prompt_id: uuid.UUID,
    from_version: int | None = None,
    to_version: int | None = None,
) -> PromptDiff:
    """What changed between two versions (default: the latest against the one before)."""
    require(actor, "prompts.read")
    prompt = await load_prompt(session, actor.workspace_id, prompt_id)
    new = await find_version(session, prompt, version=to_version)
    if from_version is None:
        from_version = max(new.number - 1, 1)
    old = await find_version(session, prompt, version=from_version)
    unified, lines = diff_texts(
        old.template, new.template, old_name=f"v{old.number}", new_name=f"v{new.number}"
    )
    return PromptDiff(
        from_version=old.number,
        to_version=new.number,
        unified=unified,
        lines=lines,
        config_changes=_config_changes(old.config, new.config),
    )


async def render_prompt(
    *, session: AsyncSession, actor: Actor, prompt_id: uuid.UUID, data: RenderRequest
) -> RenderedPrompt:
    """Render a version (by number, label, else latest) with the given variables."""
    require(actor, "prompts.read")
    if data.label is not None and data.version is not None:
        raise ValidationFailed("Render a version by label or by number, not both.")
    prompt = await load_prompt(session, actor.workspace_id, prompt_id)
    version = await find_version(session, prompt, label=data.label, version=data.version)
    return RenderedPrompt(
        text=render_text(version.template, data.variables), version=version.number
    )
