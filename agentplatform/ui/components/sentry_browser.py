"""Browser error reporting: a thin wrapper of @sentry/react, placed around every page.

The React side is ``assets/sentry_browser.jsx``. It asks the server for its configuration
(`GET /api/client-config`: the backend's SENTRY_DSN, a public key meant for browsers) and
starts the SDK once per page load when there is a DSN, with no default PII and the backend's
scrubbing rules; without one it only renders its children. Nothing is baked into the build,
so a prebuilt frontend follows the settings it is served with.
"""

from __future__ import annotations

import reflex as rx

SENTRY_BROWSER_MODULE = "$/public/sentry_browser.jsx"
SENTRY_REACT_PACKAGES = ("@sentry/react@11.12.0",)


class SentryBrowser(rx.Component):
    """Starts browser error reporting; renders its children unchanged."""

    library = SENTRY_BROWSER_MODULE
    tag = "SentryBrowser"
    lib_dependencies: list[str] = list(SENTRY_REACT_PACKAGES)


def sentry_browser() -> rx.Component:
    """The app wrap for `rx.App(extra_app_wraps=...)`."""
    return SentryBrowser.create()
