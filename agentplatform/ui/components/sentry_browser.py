"""Browser error reporting: a thin wrapper of @sentry/react, placed around every page.

The React side is ``assets/sentry_browser.jsx``. It starts the SDK once per page load when
a DSN is given (the backend's SENTRY_DSN: a DSN is a public key, meant for browsers), with
no default PII and the backend's scrubbing rules; without a DSN it only renders its children.
The DSN, environment and release are read from Settings when the app is built and served.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

SENTRY_BROWSER_MODULE = "$/public/sentry_browser.jsx"
SENTRY_REACT_PACKAGES = ("@sentry/react@11.12.0",)


class SentryBrowser(rx.Component):
    """Starts browser error reporting; renders its children unchanged."""

    library = SENTRY_BROWSER_MODULE
    tag = "SentryBrowser"
    lib_dependencies: list[str] = list(SENTRY_REACT_PACKAGES)

    dsn: Var[str]
    environment: Var[str]
    release: Var[str]


def sentry_browser(*, dsn: str, environment: str, release: str) -> rx.Component:
    """The app wrap for `rx.App(extra_app_wraps=...)`."""
    return SentryBrowser.create(dsn=dsn, environment=environment, release=release)
