"""Admin pages: members, API keys, providers and the audit log (each hidden by permission)."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import page_header
from agentplatform.ui.layout import private_page
from agentplatform.ui.state.admin_api_keys import AdminApiKeysState
from agentplatform.ui.state.admin_audit import AdminAuditState
from agentplatform.ui.state.admin_members import AdminMembersState
from agentplatform.ui.state.admin_providers import AdminProvidersState
from agentplatform.ui.views import admin_api_keys, admin_audit, admin_members, admin_providers
from agentplatform.ui.views.admin_common import no_access


@private_page(routes.ADMIN_MEMBERS, "Members", on_load=AdminMembersState.load)
def admin_members_page() -> rx.Component:
    return rx.vstack(
        page_header("Members", "Who works in this workspace, and with which role."),
        rx.cond(
            AdminMembersState.can_read,
            rx.vstack(
                rx.cond(AdminMembersState.can_manage, admin_members.add_member_card()),
                admin_members.members_table(),
                admin_members.remove_dialog(),
                spacing="5", width="100%",
            ),
            no_access("the members of this workspace"),
        ),
        width="100%",
    )  # fmt: skip


@private_page(routes.ADMIN_API_KEYS, "API keys", on_load=AdminApiKeysState.load)
def admin_api_keys_page() -> rx.Component:
    return rx.vstack(
        page_header("API keys", "Credentials for scripts and CI calling the REST API.",
                    rx.cond(AdminApiKeysState.can_manage, admin_api_keys.create_button())),
        rx.cond(
            AdminApiKeysState.can_manage,
            rx.box(
                admin_api_keys.keys_table(),
                admin_api_keys.create_dialog(),
                admin_api_keys.secret_dialog(),
                admin_api_keys.revoke_dialog(),
                width="100%",
            ),
            no_access("the API keys of this workspace"),
        ),
        width="100%",
    )  # fmt: skip


@private_page(routes.ADMIN_PROVIDERS, "Providers", on_load=AdminProvidersState.load)
def admin_providers_page() -> rx.Component:
    return rx.vstack(
        page_header("Providers", "Connections to LLM services. Keys are write-only.",
                    admin_providers.add_button()),
        rx.cond(
            AdminProvidersState.can_read,
            rx.box(
                admin_providers.provider_cards(),
                admin_providers.provider_dialog(),
                admin_providers.delete_dialog(),
                width="100%",
            ),
            no_access("the providers of this workspace"),
        ),
        width="100%",
    )  # fmt: skip


@private_page(routes.ADMIN_AUDIT, "Audit log", on_load=AdminAuditState.load)
def admin_audit_page() -> rx.Component:
    return rx.vstack(
        page_header("Audit log", "Who changed what in this workspace, newest first."),
        rx.cond(
            AdminAuditState.can_read,
            rx.vstack(
                admin_audit.filters(),
                admin_audit.audit_table(),
                admin_audit.detail_dialog(),
                spacing="4", width="100%",
            ),
            no_access("the audit log"),
        ),
        width="100%",
    )  # fmt: skip
