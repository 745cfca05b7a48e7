"""Windows lab state files: one host's check-script answer, and the lab-time shift applied to it.

    {"hostname": "PC-RECEPCION", "os": "Windows 11 Pro 24H2", "output": <document>}

``output`` is the JSON document of ``checks/windows/document.py`` (schema, host, checks). The
server answers Baluarte's check script with it. By default every ISO 8601 UTC timestamp in the
document is moved by (now − host.Now), whole seconds, so the ages the host had when it was
recorded are the ages it has now (a state recorded in 2026 still says "updated 3 days ago").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from baluarte.errors import LabError
from checks.windows.document import SCHEMA

__all__ = ["WindowsState", "document_text", "load_state", "shift_timestamps"]

# "2026-11-28T10:00:00Z", "2026-11-28T10:00:00.0000000Z", "…+00:00": what ToString('o') gives
# for UTC. The fraction is kept as text: PowerShell writes 7 digits, Python parses only 6.
_UTC_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|\+00:00)$")


class WindowsState(BaseModel):
    """One emulated Windows host: its name, OS and the check script's recorded answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hostname: str = Field(min_length=1, description="Computer name (also a valid NTLM domain).")
    os: str = Field(min_length=1, description="Operating system, as shown to people.")
    output: dict[str, Any] = Field(description="The check script's JSON document.")

    @property
    def recorded_now(self) -> datetime:
        """host.Now of the document: the host's clock when the script ran."""
        stamp = _parse(self.output["host"]["Now"])
        assert stamp is not None  # checked by load_state
        return stamp


def load_state(source: WindowsState | Mapping[str, Any] | str | Path) -> WindowsState:
    """A state from a file path, a dict, or an existing state; ``LabError`` says what is wrong."""
    if isinstance(source, WindowsState):
        return source
    where = "Windows lab state"
    if isinstance(source, str | Path):
        where = str(source)
        try:
            data: Any = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise LabError(f"{where}: cannot read ({exc.strerror})") from None
        except ValueError as exc:
            raise LabError(f"{where}: not JSON ({exc})") from None
    else:
        data = dict(source)
    if not isinstance(data, dict):
        raise LabError(f"{where}: must be a JSON object with hostname, os and output")
    try:
        state = WindowsState.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise LabError(f"{where}: {loc}: {first['msg']}") from None
    _check_document(state.output, where)
    return state


def _check_document(doc: Mapping[str, Any], where: str) -> None:
    if doc.get("schema") != SCHEMA:
        raise LabError(f"{where}: output.schema must be {SCHEMA!r}, not {doc.get('schema')!r}")
    host = doc.get("host")
    if not isinstance(host, dict):
        raise LabError(f"{where}: output.host must be an object")
    if not isinstance(host.get("Now"), str) or _parse(host["Now"]) is None:
        raise LabError(f"{where}: output.host.Now must be an ISO 8601 UTC time, like {_EXAMPLE}")
    if not isinstance(doc.get("checks"), dict):
        raise LabError(f"{where}: output.checks must be an object")


_EXAMPLE = "2026-11-28T10:00:00.0000000Z"


def document_text(state: WindowsState, now: datetime | None = None, freeze: bool = False) -> str:
    """The JSON text the check script prints: compressed, ASCII only (``_footer.ps1``),
    timestamps shifted unless frozen."""
    doc: Any = state.output
    if not freeze:
        now = now or datetime.now(UTC)
        doc = shift_timestamps(doc, now - state.recorded_now)
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":"))


def shift_timestamps(value: Any, delta: timedelta) -> Any:
    """A copy of ``value`` with every UTC timestamp string moved by ``delta`` (whole seconds)."""
    seconds = timedelta(seconds=round(delta.total_seconds()))
    if isinstance(value, dict):
        return {key: shift_timestamps(item, seconds) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_timestamps(item, seconds) for item in value]
    if isinstance(value, str):
        match = _UTC_STAMP.match(value)
        if match is not None:
            try:
                base = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
                moved = (base + seconds).strftime("%Y-%m-%dT%H:%M:%S")
            except (ValueError, OverflowError):
                return value  # not a real date (e.g. month 13): leave it as recorded
            return moved + (match.group(2) or "") + match.group(3)
    return value


def _parse(text: str) -> datetime | None:
    match = _UTC_STAMP.match(text)
    if match is None:
        return None
    try:
        base = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    fraction = float(match.group(2)) if match.group(2) else 0.0
    return base + timedelta(seconds=fraction)
