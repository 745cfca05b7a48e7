"""The WS-Management service of the Windows lab: shells, and the actions pypsrp sends them.

Create, Command, Send, Receive, Signal and Delete on PowerShell shells
(``http://schemas.microsoft.com/powershell/Microsoft.PowerShell``), Get on a shell (pypsrp's
``is_alive``) and on ``winrm/config`` (``update_max_payload_size``). The WinRS cmd shell is not
emulated (Baluarte runs PowerShell only): creating one is a fault.
"""

from __future__ import annotations

import base64
import threading
import uuid
from xml.sax.saxutils import escape, quoteattr

from baluarte.lab.windows.psrp import PsrpShell, Runner, decode_b64
from baluarte.lab.windows.soap import NS, SHELL_NOT_FOUND, WsmanFault, WsmanRequest, reply_envelope

__all__ = ["MAX_ENVELOPE_KB", "WsmanService"]

MAX_ENVELOPE_KB = 500  # Windows' default MaxEnvelopeSizekb
_PS_PREFIX = "http://schemas.microsoft.com/powershell/"
_CONFIGURATIONS = {"microsoft.powershell"}
_SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
_CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
_STATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/"
# Codes other than OperationTimeout and ShellNotFound are close to, not checked against, Windows.
_UNKNOWN_RESOURCE = 2150858770
_UNSUPPORTED_ACTION = 2150858801


class WsmanService:
    """The shells of one lab; ``handle`` answers one parsed request with its reply envelope."""

    def __init__(self, machine: str, ps_version: str, runner: Runner, endpoint: str) -> None:
        self.machine = machine
        self.endpoint = endpoint
        self._ps_version = ps_version
        self._runner = runner
        self._shells: dict[str, PsrpShell] = {}
        self._lock = threading.Lock()

    def handle(self, req: WsmanRequest, peer: str) -> bytes:
        handler = {
            "Create": self._create,
            "Command": self._command,
            "Send": self._send,
            "Receive": self._receive,
            "Signal": self._signal,
            "Delete": self._delete,
            "Get": self._get,
        }.get(req.action)
        if handler is None:
            raise WsmanFault(
                _UNSUPPORTED_ACTION,
                f"The action {req.action_uri} is not supported by this service.",
                subcode="a:ActionNotSupported",
                sender=True,
            )
        return handler(req, peer)

    def shell_count(self) -> int:
        with self._lock:
            return len(self._shells)

    # -- actions --------------------------------------------------------------------------------

    def _create(self, req: WsmanRequest, peer: str) -> bytes:
        uri = req.resource_uri
        if not uri.startswith(_PS_PREFIX) or uri[len(_PS_PREFIX) :].lower() not in _CONFIGURATIONS:
            raise WsmanFault(
                _UNKNOWN_RESOURCE,
                f"The WS-Management service cannot process the request. The resource URI {uri} "
                "is not available on this lab host (PowerShell sessions only).",
                subcode="w:DestinationUnreachable",
                sender=True,
            )
        shell_el = req.body
        if shell_el is None or shell_el.tag != f"{{{NS['rsp']}}}Shell":
            raise WsmanFault(2150858817, "Create needs an rsp:Shell body.", sender=True)
        shell_id = (shell_el.get("ShellId") or str(uuid.uuid4())).upper()
        creation = shell_el.find("pwsh:creationXml", NS)
        shell = PsrpShell(shell_id, uri, self._ps_version, self._runner)
        shell.create(decode_b64(creation.text if creation is not None else ""))
        with self._lock:
            self._shells[shell_id] = shell
        body = (
            f"<x:ResourceCreated><a:Address>{escape(self.endpoint)}</a:Address>"
            f"<a:ReferenceParameters><w:ResourceURI>{escape(uri)}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
            "</a:ReferenceParameters></x:ResourceCreated>"
            f'<rsp:Shell xmlns:rsp="{NS["rsp"]}"><rsp:ShellId>{shell_id}</rsp:ShellId>'
            f"<rsp:ResourceUri>{escape(uri)}</rsp:ResourceUri>"
            f"<rsp:ClientIP>{escape(peer)}</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S"
            "</rsp:IdleTimeOut><rsp:InputStreams>stdin pr</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout</rsp:OutputStreams><rsp:ProcessId>4242</rsp:ProcessId>"
            "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
            "<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>"
        )
        return reply_envelope(req, body)

    def _command(self, req: WsmanRequest, peer: str) -> bytes:
        shell = self._shell(req)
        line = req.body
        command_id = line.get("CommandId") if line is not None else None
        if line is None or not command_id:
            raise WsmanFault(2150858817, "Command needs rsp:CommandLine@CommandId.", sender=True)
        arguments = line.find("rsp:Arguments", NS)
        shell.command(command_id, decode_b64(arguments.text if arguments is not None else ""))
        body = f"<rsp:CommandResponse><rsp:CommandId>{escape(command_id.upper())}</rsp:CommandId>"
        return reply_envelope(req, body + "</rsp:CommandResponse>")

    def _send(self, req: WsmanRequest, peer: str) -> bytes:
        shell = self._shell(req)
        stream = req.body.find("rsp:Stream", NS) if req.body is not None else None
        if stream is None:
            raise WsmanFault(2150858817, "Send needs an rsp:Stream.", sender=True)
        shell.send(stream.get("CommandId"), decode_b64(stream.text))
        return reply_envelope(req, "<rsp:SendResponse/>")

    def _receive(self, req: WsmanRequest, peer: str) -> bytes:
        shell = self._shell(req)
        desired = req.body.find("rsp:DesiredStream", NS) if req.body is not None else None
        command_id = desired.get("CommandId") if desired is not None else None
        id_attr = f" CommandId={quoteattr(command_id.upper())}" if command_id else ""

        def state_of(done: str) -> str:
            if not command_id:
                return ""  # pool receives carry no command state
            return f'<rsp:CommandState{id_attr} State="{_STATE}{done}"/>'

        # the envelope around the streams, and each stream element's own cost
        empty = f"<rsp:ReceiveResponse>{state_of('Running')}</rsp:ReceiveResponse>"
        frame = len(reply_envelope(req, empty))
        per_chunk = len(f'<rsp:Stream Name="stdout"{id_attr}></rsp:Stream>')
        chunks, done = shell.receive(command_id, req.max_envelope - frame, per_chunk)
        streams = "".join(
            f'<rsp:Stream Name="stdout"{id_attr}>{_b64(chunk)}</rsp:Stream>' for chunk in chunks
        )
        state = state_of("Done" if done else "Running")
        return reply_envelope(req, f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>")

    def _signal(self, req: WsmanRequest, peer: str) -> bytes:
        shell = self._shell(req)
        signal = req.body
        code = signal.find("rsp:Code", NS) if signal is not None else None
        command_id = signal.get("CommandId") if signal is not None else None
        if code is None or not command_id:
            raise WsmanFault(2150858817, "Signal needs CommandId and rsp:Code.", sender=True)
        shell.signal(command_id, (code.text or "").strip())
        return reply_envelope(req, "<rsp:SignalResponse/>")

    def _delete(self, req: WsmanRequest, peer: str) -> bytes:
        shell = self._shell(req)
        with self._lock:
            self._shells.pop(shell.id, None)
        return reply_envelope(req, "")

    def _get(self, req: WsmanRequest, peer: str) -> bytes:
        if req.resource_uri == _CONFIG_URI:
            body = (
                f'<cfg:Config xmlns:cfg="{NS["cfg"]}">'
                f"<cfg:MaxEnvelopeSizekb>{MAX_ENVELOPE_KB}</cfg:MaxEnvelopeSizekb>"
                "<cfg:MaxTimeoutms>60000</cfg:MaxTimeoutms><cfg:MaxBatchItems>32000"
                "</cfg:MaxBatchItems><cfg:MaxProviderRequests>4294967295</cfg:MaxProviderRequests>"
                "</cfg:Config>"
            )
            return reply_envelope(req, body)
        if req.resource_uri == _SHELL_URI:
            shell = self._shell(req)
            body = (
                f"<rsp:Shell><rsp:ShellId>{shell.id}</rsp:ShellId>"
                f"<rsp:ResourceUri>{escape(shell.resource_uri)}</rsp:ResourceUri>"
                f"<rsp:ClientIP>{escape(peer)}</rsp:ClientIP><rsp:State>Connected</rsp:State>"
                "</rsp:Shell>"
            )
            return reply_envelope(req, body)
        raise WsmanFault(
            _UNKNOWN_RESOURCE,
            f"The resource URI {req.resource_uri} is not available on this lab host.",
            subcode="w:DestinationUnreachable",
            sender=True,
        )

    def _shell(self, req: WsmanRequest) -> PsrpShell:
        shell_id = (req.shell_id or "").upper()
        with self._lock:
            shell = self._shells.get(shell_id)
        if shell is None:
            raise WsmanFault(
                SHELL_NOT_FOUND,
                f"The request for the Windows Remote Shell with ShellId {shell_id} failed because "
                "the shell was not found on the server. Possible causes are: the specified ShellId "
                "is incorrect or the shell no longer exists on the server. Provide the correct "
                "ShellId or create a new shell and retry the operation.",
                subcode="w:InvalidSelectors",
                sender=True,
            )
        return shell


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
