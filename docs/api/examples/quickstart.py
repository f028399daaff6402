# ruff: noqa: T201  (an example script: it prints what it does)
"""Quick start with the Python client: prompt versions and labels, agents, a team, a run.

    python docs/api/examples/quickstart.py http://localhost:3000 [email] [password]

Registers a new account (a random email unless given), so run it against a server with
sign-up open. Uses only `agentplatform.client`; every model call is the built-in offline
model, so no provider key is needed.
"""

from __future__ import annotations

import sys
import uuid

from agentplatform.client import AgentPlatformClient, PreconditionFailedError


def main(base_url: str, email: str, password: str) -> dict[str, object]:
    with AgentPlatformClient(base_url) as client:
        client.register(email, password, full_name="Quick Start", persona="builder")
        workspace = (client.user or {}).get("default_workspace_id")
        print(f"registered {email}; acting in workspace {workspace}")

        # A prompt with two versions; `production` goes to v2, then back to v1 (a rollback).
        prompt = client.create_prompt(
            "support-tone",
            template="You are a helpful assistant. Answer about {{ topic }} briefly.",
            commit_message="first draft",
        )
        v2 = client.create_version(
            prompt["id"],
            "You are a friendly expert. Answer about {{ topic }} in three bullet points.",
            commit_message="friendlier",
        )
        client.set_label(prompt["id"], "production", v2["number"])
        print("diff v1 → v2:\n" + client.diff(prompt["id"], 1, 2)["unified"])
        prompt = client.set_label(prompt["id"], "production", 1)
        print(f"production → v{prompt['labels']['production']} (rolled back)")

        # An agent following the label, another with inline instructions, and a team of both.
        writer = client.create_agent(
            "writer", prompt_id=prompt["id"], prompt_label="production", tags=["demo"]
        )
        editor = client.create_agent("editor", instructions="Tighten the draft you are given.")
        team = client.create_team(
            "writing-crew",
            strategy="sequential",
            member_ids=[writer["id"], editor["id"]],
            termination={"max_turns": 4},
        )

        # Optimistic concurrency: a stale version is refused with 412 and the current one.
        client.update_agent(writer["id"], if_match=writer["version"], description="drafts")
        try:
            client.update_agent(writer["id"], if_match=writer["version"], description="again")
        except PreconditionFailedError as error:
            print(f"stale update refused; current version is {error.current_version}")

        # Run the team on the offline model, follow it live, then read the result.
        run = client.create_run(
            team_id=team["id"], input="Explain vector databases.", variables={"topic": "search"}
        )
        for event in client.stream_events(run["id"]):
            if event["event"] == "step":
                step = event["data"]
                print(f"  step {step['seq']} {step['agent_name']}: {step['kind']}")
        run = client.wait(run["id"], timeout=60)
        print(f"run {run['status']} ({run['stopped_reason']}); output:\n{run['output']}")

        # The audit trail (owners and admins can read it).
        audit = client.list_audit(limit=20)
        print("audit: " + ", ".join(event["action"] for event in audit["data"]))
        return {"run": run, "audit": audit, "prompt": prompt, "team": team}


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(
        sys.argv[1],
        sys.argv[2] if len(sys.argv) > 2 else f"quickstart-{uuid.uuid4().hex[:8]}@example.com",
        sys.argv[3] if len(sys.argv) > 3 else "a-long-quickstart-password-42",
    )
