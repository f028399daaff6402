"""The Dockerfile read as data: its stages, and each stage's COPY, ENV, ARG and RUN lines."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = path.read_text().replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    destination: str
    from_stage: str | None


@dataclass
class Stage:
    name: str
    steps: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.steps if kw == keyword]

    def copies(self) -> list[Copy]:
        result = []
        for args in self.all("COPY"):
            words = json.loads(args) if args.startswith("[") else shlex.split(args)
            options = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            from_stage = next(
                (o.split("=", 1)[1] for o in options if o.startswith("--from=")), None
            )
            result.append(Copy(paths[:-1], paths[-1], from_stage))
        return result

    def env(self) -> dict[str, str]:
        """ENV and ARG defaults, in order, with `${NAME}` of earlier ones expanded."""
        values: dict[str, str] = {}
        for keyword, args in self.steps:
            if keyword not in {"ENV", "ARG"}:
                continue
            for word in shlex.split(args):
                name, _, value = word.partition("=")
                expanded = re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), ""), value)
                values[name] = expanded
        return values

    def workdir(self) -> str:
        return (self.all("WORKDIR") or ["/"])[-1]


def stages(path: Path = ROOT / "Dockerfile") -> list[Stage]:
    result: list[Stage] = []
    for keyword, args in instructions(path):
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(result))
            result.append(Stage(name))
        if result:
            result[-1].steps.append((keyword, args))
    return result


def stage(name: str, path: Path = ROOT / "Dockerfile") -> Stage:
    return next(s for s in stages(path) if s.name == name)
