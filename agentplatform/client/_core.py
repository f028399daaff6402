"""What the sync and async clients share: credentials, request building, answers, SSE, endpoints.

The resource methods live once, in `Endpoints`, written against two primitives (`_json` for
calls that answer JSON, `_empty` for 204s). The sync client implements them returning values,
the async client returning coroutines, so `client.get_agent(id)` and
`await aclient.get_agent(id)` are the same method.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx

from agentplatform.client.errors import error_from_response

D = TypeVar("D")  # what a call answering JSON returns (a dict, or an awaitable of one)
N = TypeVar("N")  # what a call answering 204 returns (None, or an awaitable of None)

DEFAULT_TIMEOUT = 30.0
STREAM_READ_TIMEOUT = 60.0  # the server sends a keep-alive comment every 15 s
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
USER_AGENT = "agentplatform-client"
Json = dict[str, Any]


def jsonable(value: Any) -> Any:
    """`value` with UUIDs and datetimes turned into the strings the API expects."""
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def query(params: dict[str, Any] | None) -> dict[str, str | int | float] | None:
    """Query parameters without the unset (None) ones; booleans as `true`/`false`."""
    if not params:
        return None
    clean: dict[str, str | int | float] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            clean[key] = "true" if value else "false"
        elif isinstance(value, int | float | str):
            clean[key] = value
        else:
            clean[key] = str(jsonable(value))
    return clean or None


def seg(value: Any) -> str:
    """One path segment (an id, a slug, a label), escaped."""
    return quote(str(value), safe="")


def api_root(base_url: str) -> str:
    """`http://host:3000`, `http://host:3000/` or `http://host:3000/api` → `http://host:3000/api`."""
    root = base_url.rstrip("/")
    return root if root.endswith("/api") else f"{root}/api"


@dataclass
class Prepared:
    """A request ready to send, and the access token it carries (to detect a stale one)."""

    method: str
    url: str
    params: dict[str, str | int | float] | None
    body: Any
    headers: dict[str, str]
    token: str | None


class SSEParser:
    """Server-Sent Events, line by line: `event:`, `data:` (joined), `id:`; `:` comments skipped.

    Each complete event is a dict `{"event": name, "data": parsed JSON (or the text), "id": id}`.
    """

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None
        self.last_event_id: str | None = None

    def feed(self, line: str) -> Json | None:
        """Take one line (without its newline); return an event when a blank line ends one."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def flush(self) -> Json | None:
        """The last event if the stream ended without its blank line."""
        return self._dispatch()

    def _dispatch(self) -> Json | None:
        if self._id is not None:
            self.last_event_id = self._id
        if not self._data and self._event is None:
            self._id = None
            return None
        text = "\n".join(self._data)
        try:
            data: Any = json.loads(text) if text else None
        except ValueError:
            data = text
        event = {"event": self._event or "message", "data": data, "id": self._id}
        self._event, self._data, self._id = None, [], None
        return event


class Core:
    """Credentials and the acting workspace; builds requests and reads answers."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        workspace: str | uuid.UUID | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        headers: dict[str, str] | None = None,
    ) -> None:
        if api_key is not None and not api_key.startswith("apk_"):
            raise ValueError("api_key must be an AgentPlatform API key (it starts with 'apk_').")
        self.base_url = base_url
        self._root = api_root(base_url)
        self._api_key = api_key
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._workspace = str(workspace) if workspace is not None else None
        self._user: Json | None = None
        self._timeout = timeout
        self._extra_headers = dict(headers or {})

    # -- state -----------------------------------------------------------------------------

    def __repr__(self) -> str:  # never the secrets
        mode = "api_key" if self._api_key else ("signed_in" if self._access_token else "anonymous")
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, auth={mode!r}, "
            f"workspace={self._workspace!r})"
        )

    @property
    def access_token(self) -> str | None:
        return self._access_token

    @access_token.setter
    def access_token(self, value: str | None) -> None:
        self._access_token = value

    @property
    def refresh_token(self) -> str | None:
        return self._refresh_token

    @property
    def user(self) -> Json | None:
        """Your account as of the last register/login/refresh/`me()` (None with an API key)."""
        return self._user

    @property
    def workspace(self) -> str | None:
        """The workspace chosen with `use_workspace` (sent as `X-Workspace`), if any."""
        return self._workspace

    def use_workspace(self, id_or_slug: str | uuid.UUID | None) -> None:
        """Act in this workspace (id or slug) from now on; None: your default workspace."""
        self._workspace = str(id_or_slug) if id_or_slug is not None else None

    def _store_tokens(self, tokens: Json) -> None:
        self._access_token = tokens["access_token"]
        self._refresh_token = tokens["refresh_token"]
        if isinstance(tokens.get("user"), dict):
            self._user = tokens["user"]

    def _clear_tokens(self) -> None:
        self._access_token = None
        self._refresh_token = None

    def _workspace_ref(self, workspace: str | uuid.UUID | None) -> str:
        """The workspace for `/workspaces/{id}/…` paths: given, chosen, else your default."""
        if workspace is not None:
            return str(workspace)
        if self._workspace is not None:
            return self._workspace
        default = (self._user or {}).get("default_workspace_id")
        if default:
            return str(default)
        raise ValueError(
            "No workspace to act in: pass workspace=..., or call client.use_workspace(...)."
        )

    # -- requests and answers ----------------------------------------------------------------

    def _prepare(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
        auth: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Prepared:
        sent: dict[str, str] = {"User-Agent": USER_AGENT, **self._extra_headers, **(headers or {})}
        token: str | None = None
        if auth:
            if self._api_key is not None:
                sent["Authorization"] = f"Bearer {self._api_key}"
            elif self._access_token is not None:
                token = self._access_token
                sent["Authorization"] = f"Bearer {token}"
            if self._workspace is not None:
                sent["X-Workspace"] = self._workspace
        if if_match is not None:
            sent["If-Match"] = f'"{if_match}"' if isinstance(if_match, int) else str(if_match)
        return Prepared(
            method=method,
            url=f"{self._root}{path}",
            params=query(params),
            body=jsonable(body) if body is not None else None,
            headers=sent,
            token=token,
        )

    def _can_refresh(self, response: httpx.Response, prepared: Prepared) -> bool:
        """A 401 to a bearer-authenticated call, with a refresh token to exchange."""
        return (
            response.status_code == 401
            and prepared.token is not None
            and self._api_key is None
            and self._refresh_token is not None
        )

    def _refresh_request(self) -> Prepared:
        return self._prepare(
            "POST", "/auth/refresh", body={"refresh_token": self._refresh_token}, auth=False
        )

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        """The JSON of a success (None for 204 or an empty body); a typed error otherwise."""
        if response.status_code >= 400:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


class Endpoints(Generic[D, N]):
    """Every resource method, once; `D`/`N` are what a JSON / no-content call returns.

    Answers are plain dicts mirroring the API's JSON (see /api/docs): single resources as
    themselves, lists as `{"data": [...], "count": total}`.
    """

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
        auth: bool = True,
    ) -> D:
        raise NotImplementedError

    def _empty(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
    ) -> N:
        raise NotImplementedError

    def _workspace_ref(self, workspace: str | uuid.UUID | None) -> str:
        raise NotImplementedError

    # -- account -----------------------------------------------------------------------------

    def me(self) -> D:
        """Your account (`GET /users/me`)."""
        return self._json("GET", "/users/me")

    def update_me(self, **changes: Any) -> D:
        """Change `full_name`, `persona`, `onboarded`, `default_workspace_id`, or the password
        (`current_password` + `new_password`)."""
        return self._json("PATCH", "/users/me", body=changes)

    # -- workspaces and members --------------------------------------------------------------

    def list_workspaces(self) -> D:
        """The workspaces you belong to, with your role in each."""
        return self._json("GET", "/workspaces")

    def create_workspace(self, name: str, *, slug: str | None = None) -> D:
        """A new workspace; you become its owner (not with an API key)."""
        return self._json("POST", "/workspaces", body={"name": name, "slug": slug})

    def get_workspace(self, workspace: str | uuid.UUID | None = None) -> D:
        return self._json("GET", f"/workspaces/{seg(self._workspace_ref(workspace))}")

    def update_workspace(self, workspace: str | uuid.UUID | None = None, **changes: Any) -> D:
        """Rename a workspace or change its slug (owners, admins)."""
        ref = seg(self._workspace_ref(workspace))
        return self._json("PATCH", f"/workspaces/{ref}", body=changes)

    def list_members(self, workspace: str | uuid.UUID | None = None) -> D:
        ref = seg(self._workspace_ref(workspace))
        return self._json("GET", f"/workspaces/{ref}/members")

    def add_member(self, email: str, role: str, *, workspace: str | uuid.UUID | None = None) -> D:
        """Add an existing account (owners, admins)."""
        ref = seg(self._workspace_ref(workspace))
        return self._json("POST", f"/workspaces/{ref}/members", body={"email": email, "role": role})

    def change_role(
        self, user_id: str | uuid.UUID, role: str, *, workspace: str | uuid.UUID | None = None
    ) -> D:
        ref = seg(self._workspace_ref(workspace))
        return self._json("PATCH", f"/workspaces/{ref}/members/{seg(user_id)}", body={"role": role})

    def remove_member(
        self, user_id: str | uuid.UUID, *, workspace: str | uuid.UUID | None = None
    ) -> N:
        """Remove a member, or leave (your own id); their API keys there are revoked."""
        ref = seg(self._workspace_ref(workspace))
        return self._empty("DELETE", f"/workspaces/{ref}/members/{seg(user_id)}")

    # -- API keys and audit ------------------------------------------------------------------

    def create_api_key(self, name: str, role: str = "builder") -> D:
        """A key for the acting workspace; its `secret` is in this answer only."""
        return self._json("POST", "/api-keys", body={"name": name, "role": role})

    def list_api_keys(self) -> D:
        return self._json("GET", "/api-keys")

    def revoke_api_key(self, key_id: str | uuid.UUID) -> D:
        return self._json("DELETE", f"/api-keys/{seg(key_id)}")

    def list_audit(
        self,
        *,
        action: str | None = None,
        resource_type: str | None = None,
        actor_id: str | uuid.UUID | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> D:
        """The audit trail, newest first (owners, admins)."""
        params = {
            "action": action,
            "resource_type": resource_type,
            "actor_id": actor_id,
            "since": since,
            "until": until,
            "limit": limit,
            "offset": offset,
        }
        return self._json("GET", "/audit", params=params)

    # -- agents ------------------------------------------------------------------------------

    def list_agents(
        self,
        *,
        q: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> D:
        params = {"q": q, "tag": tag, "limit": limit, "offset": offset}
        return self._json("GET", "/agents", params=params)

    def get_agent(self, agent_id: str | uuid.UUID) -> D:
        return self._json("GET", f"/agents/{seg(agent_id)}")

    def create_agent(self, name: str, **fields: Any) -> D:
        """Fields as in `AgentCreate`: `model` (default: the offline model without a
        provider), `provider_id`, `instructions` or `prompt_id` + `prompt_label`/`prompt_version`,
        `temperature`, `tools`, `max_iterations`, `timeout_s`, `tags`, `description`..."""
        return self._json("POST", "/agents", body={"name": name, **fields})

    def update_agent(
        self, agent_id: str | uuid.UUID, *, if_match: int | None = None, **changes: Any
    ) -> D:
        """Change some fields; with `if_match=<version you read>` a stale version raises
        `PreconditionFailedError` (412) instead of overwriting someone's change."""
        return self._json("PATCH", f"/agents/{seg(agent_id)}", body=changes, if_match=if_match)

    def delete_agent(self, agent_id: str | uuid.UUID, *, if_match: int | None = None) -> N:
        return self._empty("DELETE", f"/agents/{seg(agent_id)}", if_match=if_match)

    # -- teams -------------------------------------------------------------------------------

    def list_teams(
        self,
        *,
        q: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> D:
        params = {"q": q, "tag": tag, "limit": limit, "offset": offset}
        return self._json("GET", "/teams", params=params)

    def get_team(self, team_id: str | uuid.UUID) -> D:
        return self._json("GET", f"/teams/{seg(team_id)}")

    def create_team(
        self,
        name: str,
        *,
        strategy: str,
        member_ids: list[str] | list[uuid.UUID],
        **fields: Any,
    ) -> D:
        """`strategy`: sequential, round_robin, selector (+ `selector_agent_id`) or parallel;
        also `termination` ({max_turns, stop_phrase, max_total_tokens, max_cost_usd,
        max_seconds}), `description`, `tags`."""
        body = {"name": name, "strategy": strategy, "member_ids": member_ids, **fields}
        return self._json("POST", "/teams", body=body)

    def update_team(
        self, team_id: str | uuid.UUID, *, if_match: int | None = None, **changes: Any
    ) -> D:
        """Change some fields (`member_ids` replaces the members, in order)."""
        return self._json("PATCH", f"/teams/{seg(team_id)}", body=changes, if_match=if_match)

    def delete_team(self, team_id: str | uuid.UUID, *, if_match: int | None = None) -> N:
        return self._empty("DELETE", f"/teams/{seg(team_id)}", if_match=if_match)

    # -- prompts -----------------------------------------------------------------------------

    def list_prompts(
        self,
        *,
        q: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> D:
        params = {"q": q, "tag": tag, "limit": limit, "offset": offset}
        return self._json("GET", "/prompts", params=params)

    def get_prompt(self, prompt_id: str | uuid.UUID) -> D:
        """A prompt with `labels` ({label: version number}) and `latest_version`."""
        return self._json("GET", f"/prompts/{seg(prompt_id)}")

    def create_prompt(
        self,
        name: str,
        *,
        template: str | None = None,
        variables: list[str] | None = None,
        config: dict[str, Any] | None = None,
        commit_message: str = "",
        **fields: Any,
    ) -> D:
        """A prompt (`description`, `tags`); with `template`, its version 1 too."""
        body: Json = {"name": name, **fields}
        if template is not None:
            body["first_version"] = {
                "template": template,
                "variables": variables,
                "config": config or {},
                "commit_message": commit_message,
            }
        return self._json("POST", "/prompts", body=body)

    def update_prompt(
        self, prompt_id: str | uuid.UUID, *, if_match: int | None = None, **changes: Any
    ) -> D:
        """Rename, re-describe or re-tag (versions are immutable: add one instead)."""
        return self._json("PATCH", f"/prompts/{seg(prompt_id)}", body=changes, if_match=if_match)

    def delete_prompt(self, prompt_id: str | uuid.UUID, *, if_match: int | None = None) -> N:
        return self._empty("DELETE", f"/prompts/{seg(prompt_id)}", if_match=if_match)

    def create_version(
        self,
        prompt_id: str | uuid.UUID,
        template: str,
        *,
        variables: list[str] | None = None,
        config: dict[str, Any] | None = None,
        commit_message: str = "",
        if_match: int | None = None,
    ) -> D:
        """Save the next version (`latest` follows it); answers the version."""
        body = {
            "template": template,
            "variables": variables,
            "config": config or {},
            "commit_message": commit_message,
        }
        path = f"/prompts/{seg(prompt_id)}/versions"
        return self._json("POST", path, body=body, if_match=if_match)

    def list_versions(
        self,
        prompt_id: str | uuid.UUID,
        *,
        limit: int | None = None,
        offset: int | None = None,
    ) -> D:
        """Versions, newest first."""
        params = {"limit": limit, "offset": offset}
        return self._json("GET", f"/prompts/{seg(prompt_id)}/versions", params=params)

    def get_version(self, prompt_id: str | uuid.UUID, number: int) -> D:
        return self._json("GET", f"/prompts/{seg(prompt_id)}/versions/{int(number)}")

    def set_label(
        self,
        prompt_id: str | uuid.UUID,
        label: str,
        version: int,
        *,
        if_match: int | None = None,
    ) -> D:
        """Point `label` (e.g. `production`) at `version`: deploy, or roll back."""
        path = f"/prompts/{seg(prompt_id)}/labels/{seg(label)}"
        return self._json("PUT", path, body={"version": version}, if_match=if_match)

    def delete_label(
        self, prompt_id: str | uuid.UUID, label: str, *, if_match: int | None = None
    ) -> N:
        path = f"/prompts/{seg(prompt_id)}/labels/{seg(label)}"
        return self._empty("DELETE", path, if_match=if_match)

    def diff(
        self,
        prompt_id: str | uuid.UUID,
        from_: int | None = None,
        to: int | None = None,
    ) -> D:
        """What changed from version `from_` to `to` (default: latest against the previous)."""
        params = {"from": from_, "to": to}
        return self._json("GET", f"/prompts/{seg(prompt_id)}/diff", params=params)

    def render(
        self,
        prompt_id: str | uuid.UUID,
        variables: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        label: str | None = None,
    ) -> D:
        """`{"text", "version"}`: a version (number, label, else latest) rendered."""
        body = {"variables": variables or {}, "version": version, "label": label}
        return self._json("POST", f"/prompts/{seg(prompt_id)}/render", body=body)

    # -- providers ---------------------------------------------------------------------------

    def list_providers(
        self, *, q: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> D:
        return self._json("GET", "/providers", params={"q": q, "limit": limit, "offset": offset})

    def get_provider(self, provider_id: str | uuid.UUID) -> D:
        return self._json("GET", f"/providers/{seg(provider_id)}")

    def create_provider(
        self,
        name: str,
        kind: Literal["openai", "anthropic", "offline"] | str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        models: list[str] | None = None,
    ) -> D:
        """Owners, admins. The provider's `api_key` is stored encrypted and never returned."""
        body = {
            "name": name,
            "kind": kind,
            "base_url": base_url,
            "api_key": api_key,
            "models": models or [],
        }
        return self._json("POST", "/providers", body=body)

    def update_provider(
        self, provider_id: str | uuid.UUID, *, if_match: int | None = None, **changes: Any
    ) -> D:
        """`name`, `base_url`, `models`, `api_key` (None or "" removes the key)."""
        path = f"/providers/{seg(provider_id)}"
        return self._json("PATCH", path, body=changes, if_match=if_match)

    def delete_provider(self, provider_id: str | uuid.UUID, *, if_match: int | None = None) -> N:
        return self._empty("DELETE", f"/providers/{seg(provider_id)}", if_match=if_match)

    # -- runs and metrics --------------------------------------------------------------------

    def create_run(
        self,
        *,
        input: str,
        agent_id: str | uuid.UUID | None = None,
        team_id: str | uuid.UUID | None = None,
        variables: dict[str, str] | None = None,
        prompt_versions: dict[str, int] | dict[uuid.UUID, int] | None = None,
    ) -> D:
        """Start a run of an agent or a team (exactly one); it is answered `queued`."""
        body: Json = {"input": input, "variables": variables or {}}
        if agent_id is not None:
            body["agent_id"] = agent_id
        if team_id is not None:
            body["team_id"] = team_id
        if prompt_versions:
            body["prompt_versions"] = prompt_versions
        return self._json("POST", "/runs", body=body)

    def get_run(self, run_id: str | uuid.UUID) -> D:
        return self._json("GET", f"/runs/{seg(run_id)}")

    def list_runs(
        self,
        *,
        status: str | None = None,
        agent_id: str | uuid.UUID | None = None,
        team_id: str | uuid.UUID | None = None,
        created_by: str | uuid.UUID | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> D:
        """Runs, newest first."""
        params = {
            "status": status,
            "agent_id": agent_id,
            "team_id": team_id,
            "created_by": created_by,
            "since": since,
            "until": until,
            "limit": limit,
            "offset": offset,
        }
        return self._json("GET", "/runs", params=params)

    def list_steps(
        self, run_id: str | uuid.UUID, *, after_seq: int | None = None, limit: int | None = None
    ) -> D:
        """The run's trace in `seq` order."""
        params = {"after_seq": after_seq, "limit": limit}
        return self._json("GET", f"/runs/{seg(run_id)}/steps", params=params)

    def cancel_run(self, run_id: str | uuid.UUID) -> D:
        """Cancel (at once if queued, at its next step if running); 409 once finished."""
        return self._json("POST", f"/runs/{seg(run_id)}/cancel")

    def metrics_summary(
        self, *, since: datetime | str | None = None, until: datetime | str | None = None
    ) -> D:
        """Counts, success rate, latency, tokens and cost over [since, until)."""
        return self._json("GET", "/metrics/summary", params={"since": since, "until": until})
