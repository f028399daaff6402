"""Text from models, tools and users, shown as markdown: formatting yes, live HTML never.

`safe_markdown` is the only way the UI renders markdown (a test checks that nothing else calls
`rx.markdown`). Raw HTML in the text is shown as text, not parsed (no `rehype-raw`); links
open in a new tab without the opener or a referrer, and only with http(s), mailto and
relative URLs (react-markdown drops `javascript:`, `data:` and other schemes); images are
shown as links, so a model's answer cannot make the browser fetch a URL on its own (the CSP
also limits images to the app's own origin).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.base import Var

LINK_REL = "noopener noreferrer nofollow"
_ALT: Var[str] = Var(_js_expr="(props.alt || props.src || 'image')", _var_type=str)
_SRC: Var[str] = Var(_js_expr="(props.src || '')", _var_type=str)


def _link(*children: Any, **props: Any) -> rx.Component:
    return rx.link(*children, is_external=True, rel=LINK_REL, **props)


def _image_as_link(*_children: Any, **_props: Any) -> rx.Component:
    return rx.link(
        rx.icon("image", size=14),
        _ALT,
        href=_SRC,
        is_external=True,
        rel=LINK_REL,
        display="inline-flex",
        align_items="center",
        gap="0.25em",
    )


SAFE_COMPONENT_MAP = {"a": _link, "img": _image_as_link}


def safe_markdown(text: Var[str] | str, **props: Any) -> rx.Component:
    """Markdown of untrusted text (raw HTML off, safe links, images as links)."""
    return rx.markdown(text, use_raw=False, component_map=SAFE_COMPONENT_MAP, **props)
