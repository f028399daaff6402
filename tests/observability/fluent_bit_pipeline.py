"""Our Fluent Bit pipelines (deployment/monitoring/fluent-bit/) applied to records, as
configured: no fluent-bit binary installs offline, so the parser filter, the record accessors
and the Loki output are evaluated here following Fluent Bit's documented rules (and its
sources for the corner cases named below), while the Lua filter runs for real in LuaJIT (the
interpreter Fluent Bit embeds). Only the options our configs use are understood; any other
option fails loudly, so a config change cannot pass untested.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from tests.deployment.monitoring_support import MONITORING, require_tool

FLUENT_BIT = MONITORING / "fluent-bit"
_NETWORK = {"name", "match", "host", "port", "retry_limit"}
_SUPPORTED = {
    "parser": {"name", "match", "key_name", "parser", "reserve_data"},
    "lua": {"name", "match", "script", "call", "enable_flb_null"},
    "kubernetes": {
        "name",
        "match",
        "merge_log",
        "keep_log",
        "labels",
        "annotations",
        "k8s-logging.parser",
        "k8s-logging.exclude",
    },
    "loki": _NETWORK | {"labels", "structured_metadata", "remove_keys", "line_format"},
}
_ACCESSOR = re.compile(r"^\$(\w[\w.-]*)((?:\['[^']+'\])*)$")


def _on(value: object) -> bool:
    return str(value).lower() in {"on", "true", "yes", "1"}


@dataclass
class Entry:
    """What Loki receives for one record: stream labels, structured metadata, line, time."""

    labels: dict[str, str]
    metadata: dict[str, str]
    line: dict[str, Any]
    time: datetime | None


@dataclass
class Pipeline:
    path: Path
    parsers: dict[str, dict[str, Any]] = field(default_factory=dict)
    filters: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, name: str) -> Pipeline:
        path = FLUENT_BIT / name
        config = yaml.safe_load(path.read_text())
        pipeline = cls(path)
        for include in config.get("includes", []):
            for parser in yaml.safe_load((path.parent / include).read_text())["parsers"]:
                pipeline.parsers[parser["name"]] = parser
        pipeline.filters = config["pipeline"]["filters"]
        pipeline.outputs = config["pipeline"]["outputs"]
        for plugin in [*pipeline.filters, *pipeline.outputs]:
            unknown = set(plugin) - _SUPPORTED.get(plugin["name"], set())
            assert not unknown, f"{name}: {plugin['name']} options not evaluated here: {unknown}"
        return pipeline

    def ship(self, tag: str, records: list[dict[str, Any]]) -> list[Entry]:
        """Run records (as the input plugin made them) through the filters and the output."""
        stamped: list[tuple[dict[str, Any], datetime | None]] = [(r, None) for r in records]
        for step in self.filters:
            if not fnmatch.fnmatchcase(tag, step["match"]):
                continue
            if step["name"] == "parser":
                stamped = [self._parse(step, record, time) for record, time in stamped]
            elif step["name"] == "lua":
                kept = self._lua(step, [record for record, _ in stamped])
                stamped = [(record, time) for record, (_, time) in zip(kept, stamped, strict=True)]
            elif step["name"] == "kubernetes":
                assert not _on(step["merge_log"]), "the parser filter parses the app's JSON"
        [loki] = [o for o in self.outputs if fnmatch.fnmatchcase(tag, o["match"])]
        assert loki["name"] == "loki" and loki["line_format"] == "json"
        return [self._loki(loki, record, time) for record, time in stamped]

    # --- filter: parser (format json) -------------------------------------------------------
    def _parse(
        self, step: dict[str, Any], record: dict[str, Any], time: datetime | None
    ) -> tuple[dict[str, Any], datetime | None]:
        parser = self.parsers[step["parser"]]
        assert parser["format"] == "json"
        raw = record.get(step["key_name"])
        try:
            parsed = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            return record, time  # not JSON: the record goes on unchanged
        time_key = parser.get("time_key")
        if time_key and isinstance(parsed.get(time_key), str):
            python_format = parser["time_format"].replace("%L", "%f")
            # On a mismatch Fluent Bit warns "invalid time format" and keeps the record's time.
            with contextlib.suppress(ValueError):
                time = datetime.strptime(parsed[time_key], python_format)
            if not _on(parser.get("time_keep", False)):
                parsed.pop(time_key)
        if _on(step.get("reserve_data", False)):
            rest = {k: v for k, v in record.items() if k != step["key_name"]}
            assert not set(rest) & set(parsed), "msgpack would keep both copies of a key"
            parsed.update(rest)
        return parsed, time

    # --- filter: lua (the real script, in LuaJIT) --------------------------------------------
    def _lua(self, step: dict[str, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert _on(step["enable_flb_null"]), "nulls reach Lua as flb_null only with this on"
        script = self.path.parent / step["script"]
        driver = (
            'local cjson = require("cjson")\n'
            "flb_null = cjson.null  -- what enable_flb_null gives the script\n"
            f"dofile({json.dumps(str(script))})\n"
            "for line in io.lines() do\n"
            "  local code, ts, record = "
            f'{step["call"]}("tag", 0, cjson.decode(line))\n'
            "  io.write(cjson.encode({code = code, record = record}), '\\n')\n"
            "end\n"
        )
        done = subprocess.run(
            [require_tool("luajit"), "-e", driver],
            input="".join(json.dumps(r) + "\n" for r in records),
            capture_output=True,
            text=True,
            check=True,
        )
        results = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(results) == len(records)
        kept = []
        for result, record in zip(results, records, strict=True):
            assert result["code"] in (0, 2), f"the script dropped or re-timed {record}"
            kept.append(record if result["code"] == 0 else result["record"])
        return kept

    # --- output: loki ----------------------------------------------------------------------
    def _loki(self, loki: dict[str, Any], record: dict[str, Any], time: datetime | None) -> Entry:
        remove = [self._path(key.strip()) for key in loki.get("remove_keys", "").split(",")]
        line = json.loads(json.dumps(record))
        for path in remove:
            holder = line
            for part in path[:-1]:
                holder = holder.get(part, {}) if isinstance(holder, dict) else {}
            if isinstance(holder, dict):
                holder.pop(path[-1], None)
        return Entry(
            labels=self._pairs(loki["labels"], record),
            metadata=self._pairs(loki.get("structured_metadata", ""), record),
            line=line,
            time=time,
        )

    @staticmethod
    def _path(accessor: str) -> list[str]:
        match = _ACCESSOR.match(accessor if accessor.startswith("$") else f"${accessor}")
        assert match, f"not a record accessor: {accessor}"
        return [match.group(1), *re.findall(r"\['([^']+)'\]", match.group(2))]

    def _pairs(self, spec: str, record: dict[str, Any]) -> dict[str, str]:
        """`key=value, key=$accessor, $accessor` as out_loki reads them: a missing or empty
        value skips the pair; other values are rendered the way the record accessor does."""
        found: dict[str, str] = {}
        for item in (part.strip() for part in spec.split(",") if part.strip()):
            key, _, value = item.partition("=") if "=" in item else ("", "", item)
            if not value.startswith("$"):
                found[key] = value
                continue
            path = self._path(value)
            current: Any = record
            for part in path:
                if not isinstance(current, dict) or part not in current:
                    current = _MISSING
                    break
                current = current[part]
            rendered = _render(current)
            if rendered:
                found[key or re.sub(r"\W", "_", path[-1])] = rendered
        return found


_MISSING = object()


def _render(value: object) -> str:
    """flb_ra_translate's text for a value (src/flb_record_accessor.c: ra_translate_keymap)."""
    if value is _MISSING:
        return ""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:f}"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
