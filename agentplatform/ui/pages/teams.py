"""Teams: the list, and the builder for a new or an existing team."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.layout import private_page
from agentplatform.ui.state.team_builder import TeamBuilderState
from agentplatform.ui.state.team_run import TeamRunState
from agentplatform.ui.state.teams_list import TeamsListState
from agentplatform.ui.views.team_builder import team_builder
from agentplatform.ui.views.team_list import teams_list


@private_page(routes.TEAMS, "Teams", on_load=TeamsListState.load)
def teams_page() -> rx.Component:
    return teams_list()


@private_page(routes.TEAM_NEW, "New team", on_load=TeamBuilderState.load)
def team_new_page() -> rx.Component:
    return team_builder()


@private_page(routes.TEAM_EDIT, "Team", on_load=[TeamBuilderState.load, TeamRunState.clear])
def team_edit_page() -> rx.Component:
    return team_builder()
