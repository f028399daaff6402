"""Provider cards (kind, URL, models, key set, test result), the editor and delete dialogs."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.common import empty_state, field, loading_state
from agentplatform.ui.state.admin_providers import KIND_LABELS
from agentplatform.ui.state.admin_providers import AdminProvidersState as S
from agentplatform.ui.views.admin_common import error_callout


def add_button(label: str = "Add provider") -> rx.Component:
    return rx.cond(S.can_manage, rx.button(rx.icon("plus", size=16), label, on_click=S.open_new))


def _kind_badge(kind: Any, label: Any) -> rx.Component:
    return rx.badge(label, variant="soft", radius="full", color_scheme=rx.match(
        kind, ("openai", "green"), ("anthropic", "orange"), "gray"))  # fmt: skip


def _check(row: Any) -> rx.Component:
    return rx.match(
        row["check"],
        ("testing", rx.hstack(rx.spinner(size="1"), rx.text("Testing connection…", size="2"),
                              align="center", role="status")),
        ("ok", rx.callout(row["check_message"], icon="circle-check", color_scheme="green",
                          size="1", role="status", width="100%")),
        ("fail", rx.callout(row["check_message"], icon="circle-x", color_scheme="red",
                            size="1", role="alert", width="100%")),
        rx.fragment(),
    )  # fmt: skip


def _actions(row: Any) -> rx.Component:
    return rx.cond(S.can_manage, rx.hstack(
        rx.button(rx.icon("activity", size=14), "Test connection", size="1", variant="soft",
                  on_click=S.test(row["name"]),  # type: ignore[misc]
                  loading=row["check"] == "testing",
                  aria_label=f"Test connection of {row['name']}"),
        rx.spacer(),
        rx.icon_button(rx.icon("pencil", size=14), size="1", variant="ghost",
                       aria_label=f"Edit {row['name']}", on_click=S.open_edit(row["name"])),
        rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                       aria_label=f"Delete {row['name']}", on_click=S.ask_delete(row["name"])),
        width="100%", align="center", spacing="2",
    ))  # fmt: skip


def _card(row: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(row["name"], size="4", as_="h2", trim="both"), rx.spacer(),
                      _kind_badge(row["kind"], row["kind_label"]), width="100%", align="center"),
            rx.text(rx.cond(row["base_url"] != "", row["base_url"], "Runs in-process, no network"),
                    size="2", color_scheme="gray", font_family="var(--code-font-family)",
                    word_break="break-all"),
            rx.flex(
                rx.cond(row["models"].to(list[str]).length() > 0,
                        rx.foreach(row["models"].to(list[str]),
                                   lambda m: rx.badge(m, variant="surface", color_scheme="gray")),
                        rx.text("No models listed", size="1", color_scheme="gray")),
                gap="0.4em", wrap="wrap",
            ),
            rx.cond(row["kind"] != "offline", rx.hstack(
                rx.icon(rx.cond(row["has_key"], "key-round", "key"), size=14,
                        color=rx.cond(row["has_key"], rx.color("green", 10), rx.color("gray", 9))),
                rx.text(rx.cond(row["has_key"], "API key set", "No API key"), size="2",
                        color_scheme=rx.cond(row["has_key"], "green", "gray")),
                spacing="1", align="center",
            )),
            rx.spacer(),
            _check(row),
            _actions(row),
            spacing="3", height="100%", width="100%",
        ),
        role="listitem", aria_label=row["name"], size="2",
    )  # fmt: skip


def provider_cards() -> rx.Component:
    return rx.cond(
        S.loading,
        loading_state("Loading providers…"),
        rx.cond(
            S.rows.length() > 0,
            rx.box(rx.foreach(S.rows, _card), display="grid", width="100%", gap="1em",
                   grid_template_columns="repeat(auto-fill, minmax(320px, 1fr))",
                   role="list", aria_label="Providers"),
            empty_state("plug", "No providers yet",
                        "Connect an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM…) or "
                        "Anthropic. The built-in offline model works without one.",
                        add_button("Add your first provider")),
        ),
    )  # fmt: skip


def _form_fields() -> rx.Component:
    v = S.form_values
    return rx.vstack(
        error_callout(S.form_error),
        field("Provider name", rx.input(id="provider-name", name="name", default_value=v["name"],
                                        placeholder="OpenAI", width="100%"),
              field_id="provider-name", error=S.errors.get("name", "")),
        field("Kind", rx.select.root(
            rx.select.trigger(id="provider-kind", width="100%"),
            rx.select.content(*[rx.select.item(text, value=k) for k, text in KIND_LABELS.items()]),
            value=S.kind, on_change=S.set_kind, disabled=S.editing != ""),
            field_id="provider-kind",
            hint=rx.cond(S.editing != "", "The kind of a saved provider cannot change.", "")),
        rx.cond(S.kind != "offline", rx.vstack(
            field("Base URL", rx.input(id="provider-url", name="base_url",
                                       default_value=v["base_url"], width="100%",
                                       placeholder=rx.cond(S.kind == "anthropic",
                                                           "https://api.anthropic.com",
                                                           "https://api.openai.com/v1")),
                  field_id="provider-url", error=S.errors.get("base_url", ""),
                  hint="Ollama: http://localhost:11434/v1"),
            field("API key", rx.input(id="provider-key", name="api_key", type="password",
                                      auto_complete="new-password", width="100%",
                                      placeholder=rx.cond(S.editing != "", "••••••••", "sk-…")),
                  field_id="provider-key", error=S.errors.get("api_key", ""),
                  hint=rx.cond(S.editing != "", "Leave blank to keep the current key.",
                               "Stored encrypted; never shown again.")),
            spacing="4", width="100%",
        )),
        field("Models", rx.input(id="provider-models", name="models", default_value=v["models"],
                                 placeholder="gpt-4o-mini, gpt-4o", width="100%"),
              field_id="provider-models", error=S.errors.get("models", ""),
              hint="Comma-separated model names agents may use."),
        spacing="4", width="100%",
    )  # fmt: skip


def provider_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing != "", "Edit provider", "New provider")),
            rx.form(
                rx.vstack(
                    _form_fields(),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft",
                                                  color_scheme="gray")),
                        rx.button("Save provider", type="submit", loading=S.saving),
                        spacing="3", justify="end", width="100%",
                    ),
                    spacing="4", margin_top="1em", width="100%",
                ),
                on_submit=S.save,
            ),
            max_width="520px",
        ),
        open=S.form_open,
        on_open_change=S.set_form_open,
    )  # fmt: skip


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this provider?"),
            rx.alert_dialog.description(
                "'", S.delete_name, "' and its stored key will be removed. Agents that use it "
                "must point at another provider first.", size="2"),
            rx.box(error_callout(S.delete_error), margin_top="1em"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.button("Delete provider", color_scheme="red", on_click=S.delete),
                spacing="3", justify="end", margin_top="1.25em",
            ),
            max_width="480px",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )  # fmt: skip
