"""One PowerShell (PSRP) shell of the Windows lab, on psrpcore's server-side runspace pool.

Create feeds ``creationXml`` (SessionCapability + InitRunspacePool); psrpcore queues its
answers. Command registers the ``ServerPipeline`` BEFORE feeding its CreatePipeline fragment
(psrpcore needs the pipeline to exist), then the script is answered by the engine once its
input, if any, has ended. Outgoing messages are fragmented by psrpcore into ≤16 KiB pieces
and queued per target (pool or pipeline); each Receive takes what fits in the client's
MaxEnvelopeSize. When nothing is ready a Receive is the OperationTimeout fault at once (pypsrp
polls again), where Windows would block up to OperationTimeout first.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psrpcore import (
    CreatePipelineEvent,
    EndOfPipelineInputEvent,
    PipelineInputEvent,
    PSRPPayload,
    ServerPipeline,
    ServerRunspacePool,
    StreamType,
)
from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    ErrorRecord,
    NETException,
    PSInvocationState,
    PSVersion,
)

from baluarte.lab.windows.engine import ScriptResult
from baluarte.lab.windows.soap import OPERATION_TIMEOUT, WsmanFault

__all__ = ["FRAGMENT_SIZE", "PsrpShell", "Runner", "decode_b64", "parameters_of", "script_of"]

FRAGMENT_SIZE = 16 * 1024
# (script, pipeline input) -> what to emit, and how many Receives to stall before emitting
# (script text, pipeline input, the script's parameters) -> (result, Receives to hold it back)
Runner = Callable[[str, tuple[Any, ...], dict[str, Any]], tuple[ScriptResult, int]]
_TERMINATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"
_DONE_STATES = (PSInvocationState.Completed, PSInvocationState.Failed, PSInvocationState.Stopped)


def _timeout() -> WsmanFault:
    return WsmanFault(
        OPERATION_TIMEOUT,
        "The WS-Management service cannot complete the operation within the time specified "
        "in OperationTimeout.",
        subcode="w:TimedOut",
    )


@dataclass
class _Command:
    pipeline: ServerPipeline
    script: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # bound to the script (PSRP)
    input: list[Any] = field(default_factory=list)
    pending: ScriptResult | None = None  # answered but held back by a "slow" fault
    polls: int = 0


class PsrpShell:
    """A runspace pool plus its pipelines; every method is one WS-Man action on it."""

    def __init__(self, shell_id: str, resource_uri: str, ps_version: str, runner: Runner):
        self.id = shell_id
        self.resource_uri = resource_uri
        self._runner = runner
        version_table: dict[str, Any] = {"PSEdition": "Desktop"}
        with contextlib.suppress(TypeError, ValueError):
            version_table["PSVersion"] = PSVersion(ps_version)
        self.pool = ServerRunspacePool(application_private_data={"PSVersionTable": version_table})
        self._queues: dict[uuid.UUID | None, deque[bytes]] = {}
        self._commands: dict[uuid.UUID, _Command] = {}
        self._lock = threading.Lock()

    # -- actions --------------------------------------------------------------------------------

    def create(self, creation: bytes) -> None:
        with self._lock:
            self._feed(creation, None)

    def command(self, command_id: str, fragment: bytes) -> None:
        pid = _uuid(command_id)
        with self._lock:
            if pid in self._commands:
                raise WsmanFault(2150858843, f"The command {command_id} already exists.")
            self._commands[pid] = _Command(ServerPipeline(self.pool, pid))
            self._feed(fragment, pid)

    def send(self, command_id: str | None, data: bytes) -> None:
        with self._lock:
            self._feed(data, _uuid(command_id) if command_id else None)

    def receive(
        self, command_id: str | None, capacity: int, per_chunk: int
    ) -> tuple[list[bytes], bool]:
        """Chunks whose base64 (+ ``per_chunk`` each) fits ``capacity``; and "command done"."""
        pid = _uuid(command_id) if command_id else None
        with self._lock:
            cmd = self._commands.get(pid) if pid is not None else None
            if pid is not None and cmd is None:
                raise WsmanFault(2150858843, f"The command {command_id} was not found.")
            queue = self._queues.get(pid) or deque()
            if not queue:
                if cmd is not None and cmd.pipeline.state in _DONE_STATES:
                    return [], True
                if cmd is not None and cmd.polls > 0:
                    cmd.polls -= 1
                    if cmd.polls == 0:
                        self._emit(cmd)
                raise _timeout()
            chunks: list[bytes] = []
            used = 0
            while queue:
                cost = 4 * ((len(queue[0]) + 2) // 3) + per_chunk
                if chunks and used + cost > capacity:
                    break
                chunks.append(queue.popleft())
                used += cost
            done = cmd is not None and not queue and cmd.pipeline.state in _DONE_STATES
            return chunks, done

    def signal(self, command_id: str, code: str) -> None:
        pid = _uuid(command_id)
        with self._lock:
            cmd = self._commands.get(pid)
            if cmd is None:
                return  # Windows answers a signal to a finished command too
            if code == _TERMINATE:
                self._commands.pop(pid, None)
                self._queues.pop(pid, None)
                self.pool.pipeline_table.pop(pid, None)
                return
            # ctrl_c (PowerShell.stop()): a still-running pipeline ends Stopped
            if cmd.pipeline.state == PSInvocationState.Running:
                cmd.pending, cmd.polls = None, 0
                cmd.pipeline.stop()
                self._drain()

    # -- machinery ------------------------------------------------------------------------------

    def _feed(self, data: bytes, pid: uuid.UUID | None) -> None:
        self.pool.receive_data(PSRPPayload(data, StreamType.default, pid))
        while (event := self.pool.next_event()) is not None:
            if isinstance(event, CreatePipelineEvent) and event.pipeline_id in self._commands:
                cmd = self._commands[event.pipeline_id]
                pipeline = event.pipeline
                cmd.script = script_of(pipeline.commands)
                cmd.parameters = parameters_of(pipeline.commands)
                if pipeline.no_input:
                    self._start(cmd)
            elif isinstance(event, PipelineInputEvent) and event.pipeline_id in self._commands:
                self._commands[event.pipeline_id].input.append(event.data)
            elif isinstance(event, EndOfPipelineInputEvent) and event.pipeline_id in self._commands:
                self._start(self._commands[event.pipeline_id])
        self._drain()

    def _start(self, cmd: _Command) -> None:
        if cmd.pipeline.state != PSInvocationState.NotStarted:
            return
        # Windows sends no PipelineState(Running); psrpcore's start() would, so no emit.
        cmd.pipeline._change_state(PSInvocationState.Running, emit=False)
        result, polls = self._runner(cmd.script or "", tuple(cmd.input), cmd.parameters)
        cmd.pending, cmd.polls = result, polls
        if polls <= 0:
            self._emit(cmd)

    def _emit(self, cmd: _Command) -> None:
        result, cmd.pending = cmd.pending, None
        if result is None or cmd.pipeline.state != PSInvocationState.Running:
            return
        pipeline = cmd.pipeline
        for value in result.output:
            pipeline.write_output(value)
        for message in result.errors:
            pipeline.write_error(
                _exception(message, "Microsoft.PowerShell.Commands.WriteErrorException"),
                ErrorCategoryInfo(
                    Category=ErrorCategory.NotSpecified, Reason="WriteErrorException"
                ),
                fully_qualified_error_id="Microsoft.PowerShell.Commands.WriteErrorException",
            )
        for message in result.warnings:
            pipeline.write_warning(message)
        if result.terminating_error is None:
            pipeline.complete()
        else:
            record = ErrorRecord(
                Exception=_exception(result.terminating_error, result.exception_type),
                CategoryInfo=ErrorCategoryInfo(
                    Category=getattr(ErrorCategory, result.category, ErrorCategory.NotSpecified),
                    Reason=result.exception_type.rsplit(".", 1)[-1],
                ),
                FullyQualifiedErrorId=result.error_id,
            )
            # psrpcore has no public "fail": its state change is the only way to send Failed
            pipeline._change_state(PSInvocationState.Failed, error=record)
        self._drain()

    def _drain(self) -> None:
        while (payload := self.pool.data_to_send(FRAGMENT_SIZE)) is not None:
            self._queues.setdefault(payload.pipeline_id, deque()).append(payload.data)


def script_of(commands: list[Any]) -> str:
    """The script text of a pipeline: an ``add_script`` body, or Invoke-Expression's -Command."""
    for command in commands:
        if command.is_script:
            return str(command.command_text)
        if str(command.command_text).lower() == "invoke-expression":
            for name, value in command.parameters:
                if name is None or name.lower() == "command":
                    return str(value)
    return " | ".join(str(command.command_text) for command in commands)


def parameters_of(commands: list[Any]) -> dict[str, Any]:
    """The named parameters bound to a pipeline's script (``add_parameters``), as plain Python
    values: text, numbers, booleans, lists of them."""
    for command in commands:
        if command.is_script:
            return {str(name): _plain(value) for name, value in command.parameters if name}
    return {}


def _plain(value: Any) -> Any:
    # psrpcore's own types (PSInt, PSString…) subclass Python's: made plain
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _exception(message: str, type_name: str) -> NETException:
    exception = NETException(Message=message)
    names = [type_name, "System.Management.Automation.RuntimeException", "System.SystemException"]
    exception.PSObject.type_names = list(dict.fromkeys([*names, *exception.PSTypeNames]))
    return exception


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise WsmanFault(2150858843, f"The identifier {value!r} is not valid.") from None


def decode_b64(text: str | None) -> bytes:
    try:
        return base64.b64decode((text or "").strip(), validate=True)
    except ValueError:
        raise WsmanFault(2150858817, "The data is not valid base64.", sender=True) from None
