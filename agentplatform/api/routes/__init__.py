"""One router per resource; `ROUTERS` is the list the app mounts under /api."""

from fastapi import APIRouter

from agentplatform.api.routes import (
    agents,
    api_keys,
    audit,
    auth,
    client_config,
    health,
    metrics,
    prices,
    prompts,
    providers,
    runs,
    sessions,
    teams,
    users,
    workspaces,
)

ROUTERS: list[APIRouter] = [
    health.router,
    client_config.router,
    auth.router,
    sessions.router,
    users.router,
    workspaces.router,
    api_keys.router,
    audit.router,
    runs.router,
    metrics.router,
    agents.router,
    teams.router,
    prompts.router,
    providers.router,
    prices.router,
]
