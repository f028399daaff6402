"""The application shell: sidebar navigation, workspace switcher, user menu, colour mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.browser_session import session_end
from agentplatform.ui.state.session import SessionState

SIDEBAR_WIDTH = "232px"


@dataclass(frozen=True)
class NavItem:
    label: str
    icon: str
    route: str
    permission: str = ""


NAV_GROUPS: list[tuple[str, list[NavItem]]] = [
    ("Overview", [NavItem("Dashboard", "layout-dashboard", routes.DASHBOARD)]),
    (
        "Build",
        [
            NavItem("Agents", "bot", routes.AGENTS),
            NavItem("Teams", "users", routes.TEAMS),
            NavItem("Prompts", "file-text", routes.PROMPTS),
        ],
    ),
    (
        "Operate",
        [
            NavItem("Playground", "play", routes.PLAYGROUND, "runs.create"),
            NavItem("Runs", "list-checks", routes.RUNS),
        ],
    ),
    (
        "Admin",
        [
            NavItem("Members", "user-cog", routes.ADMIN_MEMBERS, "members.read"),
            NavItem("API keys", "key-round", routes.ADMIN_API_KEYS, "api_keys.manage"),
            NavItem("Providers", "plug", routes.ADMIN_PROVIDERS, "providers.read"),
            NavItem("Audit log", "scroll-text", routes.ADMIN_AUDIT, "audit.read"),
        ],
    ),
]


def _is_active(route: str) -> rx.Var[bool]:
    path = rx.State.router.url.path
    return (path == route) | path.startswith(route + "/")


def _nav_link(item: NavItem) -> rx.Component:
    active = _is_active(item.route)
    link = rx.link(
        rx.hstack(
            rx.icon(item.icon, size=18),
            rx.text(
                item.label,
                size="2",
                weight="medium",
                display=rx.breakpoints(initial="none", md="block"),
            ),
            spacing="3",
            align="center",
            padding_x="0.75em",
            padding_y="0.5em",
            border_radius="var(--radius-3)",
            width="100%",
            color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
            background=rx.cond(active, rx.color("accent", 3), "transparent"),
            _hover={"background": rx.color("gray", 3), "color": rx.color("gray", 12)},
        ),
        href=item.route,
        underline="none",
        aria_label=item.label,
        aria_current=rx.cond(active, "page", "false"),
        width="100%",
    )
    if item.permission:
        return rx.cond(SessionState.permissions.contains(item.permission), link)
    return link


def _nav_group(title: str, items: list[NavItem]) -> rx.Component:
    return rx.vstack(
        rx.text(
            title.upper(),
            size="1",
            weight="bold",
            color_scheme="gray",
            padding_x="0.75em",
            letter_spacing="0.06em",
            display=rx.breakpoints(initial="none", md="block"),
        ),
        *[_nav_link(item) for item in items],
        spacing="1",
        width="100%",
    )


def sidebar() -> rx.Component:
    """A full-height column whose navigation stays in view while the page scrolls."""
    return rx.box(
        _sidebar_nav(),
        width=rx.breakpoints(initial="64px", md=SIDEBAR_WIDTH),
        flex_shrink="0",
        align_self="stretch",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )


def _sidebar_nav() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            rx.link(
                rx.hstack(
                    rx.icon("bot", size=22, color=rx.color("accent", 10)),
                    rx.heading(
                        "AgentPlatform",
                        size="4",
                        display=rx.breakpoints(initial="none", md="block"),
                    ),
                    spacing="2",
                    align="center",
                ),
                href=SessionState.landing_route,
                underline="none",
                color=rx.color("gray", 12),
                aria_label="AgentPlatform home",
                padding_x="0.75em",
                padding_bottom="0.75em",
            ),
            *[_nav_group(title, items) for title, items in NAV_GROUPS],
            rx.spacer(),
            _nav_link(NavItem("Settings", "settings", routes.SETTINGS)),
            spacing="5",
            height="100%",
            padding="1em",
        ),
        aria_label="Main navigation",
        style={"height": "100vh", "position": "sticky", "top": "0", "overflow_y": "auto"},
    )


def workspace_switcher() -> rx.Component:
    return rx.hstack(
        rx.el.label(
            rx.text("Workspace", size="1", color_scheme="gray"),
            html_for="workspace-switcher",
        ),
        rx.select.root(
            rx.select.trigger(
                id="workspace-switcher", variant="ghost", min_width="12em", aria_label="Workspace"
            ),
            rx.select.content(
                rx.foreach(
                    SessionState.workspaces,
                    lambda w: rx.select.item(w["name"], value=w["id"]),
                )
            ),
            value=SessionState.workspace_id,
            on_change=SessionState.switch_workspace,
        ),
        rx.badge(SessionState.role, variant="surface", color_scheme="gray"),
        align="center",
        spacing="2",
    )


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=SessionState.initials, size="2", radius="full"),
                variant="ghost",
                aria_label="Account menu",
                padding="0",
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(SessionState.display_name, size="2", weight="medium"),
                rx.text(SessionState.email, size="1", color_scheme="gray"),
                padding_x="0.75em",
                padding_y="0.5em",
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.hstack(rx.icon("settings", size=14), rx.text("Settings")),
                on_select=rx.redirect(routes.SETTINGS),
            ),
            rx.menu.item(
                rx.hstack(rx.icon("log-out", size=14), rx.text("Sign out")),
                on_select=SessionState.logout,
                color="red",
            ),
            align="end",
        ),
    )


def top_bar() -> rx.Component:
    return rx.hstack(
        workspace_switcher(),
        rx.spacer(),
        rx.color_mode.button(aria_label="Toggle light and dark mode", variant="ghost"),
        user_menu(),
        align="center",
        spacing="4",
        padding_x="1.5em",
        height="56px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        position="sticky",
        top="0",
        z_index="5",
        background=rx.color("gray", 1),
    )


def shell(content: rx.Component) -> rx.Component:
    """A signed-in page: nothing shows until the session is known, then the full shell.
    Signing out renders `session_end`, which clears the session cookies and leaves."""
    return rx.fragment(
        rx.cond(SessionState.signing_out, session_end(SessionState.sign_out_target)),
        _signed_in_or_spinner(content),
    )


def _signed_in_or_spinner(content: rx.Component) -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.hstack(
            sidebar(),
            rx.box(
                top_bar(),
                rx.el.main(
                    rx.box(content, max_width="1200px", margin_x="auto"),
                    padding=rx.breakpoints(initial="1em", md="2em"),
                ),
                flex="1",
                min_width="0",
            ),
            spacing="0",
            align="stretch",
            width="100%",
            min_height="100vh",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )


def private_page(
    route: str, title: str, on_load: Any = None
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register a signed-in page: guard first, then the page's own `on_load` (one or a list)."""
    loads: list[Any] = [SessionState.guard]
    if on_load is not None:
        loads.extend(on_load if isinstance(on_load, list) else [on_load])

    def decorate(body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return shell(body())

        page.__name__ = body.__name__
        rx.page(route=route, title=f"{title} · AgentPlatform", on_load=loads)(page)
        return page

    return decorate
