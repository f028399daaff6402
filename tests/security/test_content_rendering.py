"""Model, tool and user content is text, never live HTML: the rules the code must keep.

The browser tests in tests/security/browser/ prove it on rendered pages; these checks stop a
new screen from bringing raw HTML back, or a handler from needing `eval` (which the CSP
forbids, so it would fail silently).
"""

from __future__ import annotations

import re
from pathlib import Path

from agentplatform.ui.components.markdown import LINK_REL, safe_markdown

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT_ROOT / "agentplatform"
SAFE_MARKDOWN_MODULE = PACKAGE / "ui" / "components" / "markdown.py"
RAW_HTML = re.compile(
    r"rx\.markdown\(|rx\.html\(|dangerouslySetInnerHTML|innerHTML|use_raw\s*=\s*True|rehype_?raw",
    re.IGNORECASE,
)
# Events that Reflex runs through eval() when an event handler returns them.
EVAL_EVENTS = re.compile(
    r"rx\.(toast(\.\w+)?|call_script|call_function|run_script|set_clipboard|download|window_alert)\("
)


def _sources(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if ".web" not in p.parts)


def test_markdown_is_only_rendered_through_safe_markdown() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in [*_sources(PACKAGE, "*.py"), *_sources(PROJECT_ROOT / "assets", "*.jsx")]
        if path != SAFE_MARKDOWN_MODULE
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if RAW_HTML.search(line)
    ]
    assert offenders == [], "render untrusted text with safe_markdown or as plain text"


def test_event_handlers_return_no_event_that_needs_eval() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in _sources(PACKAGE / "ui" / "state", "*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if EVAL_EVENTS.search(line)
    ]
    assert offenders == [], "use toasts.toast.* (and page-side rx.set_clipboard) instead"


def test_safe_markdown_parses_no_html_and_hardens_links() -> None:
    compiled = str(safe_markdown("**bold** <b>raw</b>"))
    assert "rehypeRaw" not in compiled
    assert "rehypeKatex" in compiled and "remarkGfm" in compiled  # formatting stays on
    component_map = safe_markdown("x").children[0]
    link = component_map.format_component("a")  # type: ignore[attr-defined]
    image = component_map.format_component("img")  # type: ignore[attr-defined]
    assert f'rel:"{LINK_REL}"' in link and '"_blank"' in link
    assert 'jsx("img"' not in image and f'rel:"{LINK_REL}"' in image
