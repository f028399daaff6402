"""TeamPanel: one team at a glance (strategy, members in order, termination, last change)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple, TypedDict

import reflex as rx


class Strategy(NamedTuple):
    label: str
    icon: str
    color: str
    explanation: str


STRATEGIES: dict[str, Strategy] = {
    "sequential": Strategy(
        "Sequential", "list-ordered", "blue",
        "Each member works once, in order, on the previous member's answer.",
    ),
    "round_robin": Strategy(
        "Round robin", "repeat", "green",
        "Members take turns in order on one conversation until a stop rule ends it.",
    ),
    "selector": Strategy(
        "Selector", "route", "purple",
        "A selector agent picks who speaks next at every turn, or ends the run.",
    ),
    "parallel": Strategy(
        "Parallel", "split", "orange",
        "All members answer at once; an aggregator combines their answers.",
    ),
}  # fmt: skip


_CLAMP = {
    "display": "-webkit-box",
    "-webkit-line-clamp": "2",
    "-webkit-box-orient": "vertical",
    "overflow": "hidden",
}


class MemberChip(TypedDict):
    name: str
    initials: str


class TeamRow(TypedDict):
    """A team as the list shows it: the public shape plus display strings."""

    id: str
    href: str
    name: str
    description: str
    strategy: str
    members: list[MemberChip]
    tags: list[str]
    summary: str
    updated: str


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").replace("_", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def termination_summary(termination: dict[str, Any]) -> str:
    """'Up to 10 turns · stops at "TERMINATE" · 50,000 tokens · $2 · 5 min' (JSON shape in)."""
    turns = termination.get("max_turns") or 10
    parts = [f"Up to {turns} turn{'s' if turns != 1 else ''}"]
    if termination.get("stop_phrase"):
        parts.append(f"stops at “{termination['stop_phrase']}”")
    if termination.get("max_total_tokens"):
        parts.append(f"{int(termination['max_total_tokens']):,} tokens")
    if termination.get("max_cost_usd"):
        parts.append(f"${float(termination['max_cost_usd']):,.2f}")
    if termination.get("max_seconds"):
        parts.append(_duration(float(termination["max_seconds"])))
    return " · ".join(parts)


def updated_label(iso: str, now: datetime | None = None) -> str:
    """'Updated 5 min ago' for recent changes, else the UTC date."""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 60:
        return "Updated just now"
    if seconds < 3600:
        return f"Updated {int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"Updated {int(seconds // 3600)} h ago"
    return f"Updated {when.astimezone(UTC):%d %b %Y}"


def team_row(team: dict[str, Any], href: str) -> TeamRow:
    """A `TeamPublic` (as JSON) shaped for the panel."""
    return TeamRow(
        id=team["id"],
        href=href,
        name=team["name"],
        description=team["description"],
        strategy=team["strategy"],
        members=[MemberChip(name=m["name"], initials=initials(m["name"])) for m in team["members"]],
        tags=list(team["tags"]),
        summary=termination_summary(team["termination"]),
        updated=updated_label(team["updated_at"]),
    )


def strategy_badge(strategy: rx.Var[str] | str) -> rx.Component:
    """The strategy's name with its icon and colour."""

    def badge(meta: Strategy) -> rx.Component:
        return rx.badge(
            rx.icon(meta.icon, size=12), meta.label,
            color_scheme=meta.color,
            variant="soft", radius="full", size="2",
        )  # fmt: skip

    return rx.match(
        strategy,
        *[(key, badge(meta)) for key, meta in STRATEGIES.items()],
        rx.badge(strategy, variant="soft", radius="full", color_scheme="gray"),
    )


def member_chip(member: rx.Var[MemberChip], index: rx.Var[int]) -> rx.Component:
    return rx.hstack(
        rx.cond(index > 0, rx.icon("chevron-right", size=14, color=rx.color("gray", 8))),
        rx.hstack(
            rx.avatar(fallback=member["initials"], size="1", radius="full", variant="solid"),
            rx.text(member["name"], size="1", weight="medium", trim="both"),
            spacing="1", align="center", padding_right="0.6em", padding_left="2px",
            padding_y="2px", border_radius="9999px", background=rx.color("gray", 3),
            border=f"1px solid {rx.color('gray', 5)}",
        ),
        spacing="1", align="center", role="listitem", aria_label=member["name"],
    )  # fmt: skip


def member_chips(members: rx.Var[list[MemberChip]]) -> rx.Component:
    """The members in team order, as avatar chips."""
    return rx.flex(
        rx.foreach(members, member_chip),
        wrap="wrap", spacing="1", align="center", role="list", aria_label="Members in order",
    )  # fmt: skip


def panel_card(team: rx.Var[TeamRow]) -> rx.Component:
    """The card itself: name, strategy, members in order, termination, tags, last change."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(team["name"], size="4", as_="h2", trim="both"),
                rx.spacer(),
                strategy_badge(team["strategy"]),
                width="100%", align="center", spacing="2",
            ),
            rx.cond(
                team["description"] != "",
                rx.text(team["description"], size="2", color_scheme="gray", style=_CLAMP),
            ),
            member_chips(team["members"]),
            rx.hstack(
                rx.icon("octagon-x", size=14, color=rx.color("gray", 9), flex_shrink="0"),
                rx.text(team["summary"], size="1", color_scheme="gray"),
                spacing="1", align="center",
            ),
            rx.hstack(
                rx.flex(
                    rx.foreach(team["tags"], lambda t: rx.badge(t, variant="outline",
                                                                color_scheme="gray")),
                    wrap="wrap", spacing="1",
                ),
                rx.spacer(),
                rx.text(team["updated"], size="1", color_scheme="gray", white_space="nowrap"),
                width="100%", align="center",
            ),
            spacing="3", align="start", width="100%",
        ),
        size="2", width="100%", height="100%",
    )  # fmt: skip


def team_panel(team: rx.Var[TeamRow]) -> rx.Component:
    """A team in the list: the card, linking to its builder."""
    return rx.link(
        panel_card(team),
        href=team["href"], underline="none", color="inherit", aria_label=team["name"],
        height="100%", display="block", border_radius="var(--radius-4)",
        _hover={"box_shadow": f"0 0 0 2px {rx.color('accent', 7)}"},
    )  # fmt: skip
