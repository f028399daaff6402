"""SQLModel tables and their Create/Update/Public shapes; importing this registers every table."""

from agentplatform.models.agent import Agent
from agentplatform.models.audit import AuditEvent
from agentplatform.models.prompt import Prompt, PromptLabel, PromptVersion
from agentplatform.models.provider import ModelPrice, Provider
from agentplatform.models.run import Run, RunStep
from agentplatform.models.team import Team, TeamMember
from agentplatform.models.throttle import LoginAttempt
from agentplatform.models.workspace import (
    ApiKey,
    Membership,
    RefreshToken,
    User,
    Workspace,
)

__all__ = [
    "Agent",
    "ApiKey",
    "AuditEvent",
    "LoginAttempt",
    "Membership",
    "ModelPrice",
    "Prompt",
    "PromptLabel",
    "PromptVersion",
    "Provider",
    "RefreshToken",
    "Run",
    "RunStep",
    "Team",
    "TeamMember",
    "User",
    "Workspace",
]
