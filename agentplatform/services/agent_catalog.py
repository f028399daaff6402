"""What the agent editor offers: the tool catalogue (with availability) and the workspace's tags."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.models import Agent
from agentplatform.services.permissions import Actor, require
from agentplatform.services.run_specs import tool_registry


class ToolInfo(BaseModel):
    """A tool an agent may list; `available` is False when configuration switches it off."""

    name: str
    description: str
    available: bool
    unavailable_reason: str = ""


async def list_tools(*, actor: Actor) -> list[ToolInfo]:
    """Every registered tool by name, as runs in this process would see it."""
    require(actor, "agents.read")
    return [
        ToolInfo(
            name=tool.name,
            description=tool.description,
            available=tool.available,
            unavailable_reason=tool.unavailable_reason,
        )
        for tool in tool_registry().list()
    ]


async def agent_tags(*, session: AsyncSession, actor: Actor) -> list[str]:
    """The tags used by the agents of the actor's workspace, sorted."""
    require(actor, "agents.read")
    rows = await session.exec(select(Agent.tags).where(Agent.workspace_id == actor.workspace_id))
    return sorted({tag for tags in rows.all() for tag in tags or ()})
