"""A Python client for the AgentPlatform REST API (sync and asyncio), built on httpx.

```python
from agentplatform.client import AgentPlatformClient, NotFoundError

with AgentPlatformClient("http://localhost:3000") as client:
    client.login("me@example.com", "a-long-password")
    agent = client.create_agent("helper", instructions="Answer in one sentence.")
    run = client.create_run(agent_id=agent["id"], input="What is an agent?")
    for event in client.stream_events(run["id"]):
        print(event["event"], event["data"])
```

Answers are plain dicts mirroring the API's JSON (documented at /api/docs): a resource as
itself, a list as `{"data": [...], "count": total}`. Error answers raise `ApiError`
subclasses. See docs/api/README.md ("Python client").
"""

from agentplatform.client.client import AgentPlatformClient, AsyncAgentPlatformClient
from agentplatform.client.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    ServerError,
    ValidationError,
)

__all__ = [
    "AgentPlatformClient",
    "ApiError",
    "AsyncAgentPlatformClient",
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitedError",
    "ServerError",
    "ValidationError",
]
