"""Every page's path, in one place."""

HOME = "/"
LOGIN = "/login"
REGISTER = "/register"
ONBOARDING = "/onboarding"
DASHBOARD = "/dashboard"
AGENTS = "/agents"
AGENT_NEW = "/agents/new"
AGENT_EDIT = "/agents/[agent_id]"
TEAMS = "/teams"
TEAM_NEW = "/teams/new"
TEAM_EDIT = "/teams/[team_id]"
PROMPTS = "/prompts"
PROMPT = "/prompts/[prompt_id]"
PLAYGROUND = "/playground"
RUNS = "/runs"
RUN = "/runs/[run_id]"
SETTINGS = "/settings"
ADMIN_MEMBERS = "/admin/members"
ADMIN_API_KEYS = "/admin/api-keys"
ADMIN_PROVIDERS = "/admin/providers"
ADMIN_AUDIT = "/admin/audit"
API_DOCS = "/api/docs"


def agent(agent_id: str) -> str:
    return f"/agents/{agent_id}"


def team(team_id: str) -> str:
    return f"/teams/{team_id}"


def prompt(prompt_id: str) -> str:
    return f"/prompts/{prompt_id}"


def run(run_id: str) -> str:
    return f"/runs/{run_id}"
