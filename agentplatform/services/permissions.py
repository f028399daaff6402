"""Who may do what: the role-by-action matrix (documented in docs/permissions.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from agentplatform.core.errors import PermissionDenied

Action = Literal[
    "workspace.read",
    "workspace.update",
    "members.read",
    "members.manage",
    "api_keys.manage",
    "providers.read",
    "providers.manage",
    "agents.read",
    "agents.write",
    "teams.read",
    "teams.write",
    "prompts.read",
    "prompts.write",
    "prompts.deploy",
    "runs.read",
    "runs.create",
    "runs.cancel",
    "metrics.read",
    "audit.read",
]

_READ: frozenset[str] = frozenset(
    {
        "workspace.read",
        "members.read",
        "providers.read",
        "agents.read",
        "teams.read",
        "prompts.read",
        "runs.read",
        "metrics.read",
    }
)
_OPERATE = _READ | {"runs.create", "runs.cancel"}
_BUILD = _OPERATE | {"agents.write", "teams.write", "prompts.write", "prompts.deploy"}
_ADMIN = _BUILD | {
    "members.manage",
    "api_keys.manage",
    "providers.manage",
    "audit.read",
    "workspace.update",
}

MATRIX: dict[str, frozenset[str]] = {
    "owner": frozenset(_ADMIN),
    "admin": frozenset(_ADMIN),
    "builder": frozenset(_BUILD),
    "operator": frozenset(_OPERATE),
    "viewer": _READ,
}
ROLE_RANK = {"viewer": 0, "operator": 1, "builder": 2, "admin": 3, "owner": 4}


@dataclass(frozen=True)
class Actor:
    """The caller of a service: a user acting in one workspace with one role."""

    user_id: uuid.UUID
    email: str
    workspace_id: uuid.UUID
    role: str
    api_key_id: uuid.UUID | None = None

    def can(self, action: Action) -> bool:
        return action in MATRIX.get(self.role, frozenset())


def require(actor: Actor, action: Action) -> None:
    """Raise `PermissionDenied` unless the actor's role allows `action`."""
    if not actor.can(action):
        raise PermissionDenied(
            f"Your role '{actor.role}' in this workspace does not allow {action}. "
            "Ask an owner or admin for a different role."
        )
