"""`.env.example` documents every setting there is."""

from __future__ import annotations

import re

from agentplatform.core.config import PROJECT_ROOT, Settings


def test_env_example_lists_every_setting() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert documented == fields
