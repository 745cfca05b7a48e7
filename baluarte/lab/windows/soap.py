"""WS-Management SOAP for the Windows lab: read a request envelope, write replies and faults.

Replies echo the request's MessageID in ``RelatesTo`` (pypsrp refuses any other). Faults take
the shape pypsrp parses into ``WSManFaultError``: ``s:Fault/s:Detail/f:WSManFault@Code``.
Replies are written as text with fixed prefixes, like Windows does.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "NS",
    "OPERATION_TIMEOUT",
    "SHELL_NOT_FOUND",
    "SoapError",
    "WsmanFault",
    "WsmanRequest",
    "fault_envelope",
    "parse_request",
    "reply_envelope",
]

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wst": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
_ACTION_BASES = (
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/",
)
DEFAULT_MAX_ENVELOPE = 153600  # what Windows assumes when the header is absent
OPERATION_TIMEOUT = 2150858793  # 0x80338029: nothing to answer within OperationTimeout
SHELL_NOT_FOUND = 2150858843  # 0x8033805B: the ShellId selector names no shell


class SoapError(ValueError):
    """The body is not a WS-Man envelope this lab understands (answered 400)."""


@dataclass(frozen=True)
class WsmanFault(Exception):
    """A WS-Man fault to answer (HTTP 500 + SOAP fault)."""

    code: int
    reason: str
    subcode: str = "w:InternalError"
    sender: bool = False  # s:Sender (the request is wrong) rather than s:Receiver


@dataclass(frozen=True)
class WsmanRequest:
    action: str  # short name: Create, Command, Send, Receive, Signal, Delete, Get…
    action_uri: str
    message_id: str
    resource_uri: str
    selectors: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    max_envelope: int = DEFAULT_MAX_ENVELOPE
    body: ET.Element | None = None  # first child of s:Body

    @property
    def shell_id(self) -> str | None:
        return self.selectors.get("ShellId")


def parse_request(data: bytes) -> WsmanRequest:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SoapError(f"not XML ({exc})") from None
    header = root.find("s:Header", NS)
    if root.tag != f"{{{NS['s']}}}Envelope" or header is None:
        raise SoapError("not a SOAP 1.2 envelope")
    action_uri = _text(header, "wsa:Action")
    message_id = _text(header, "wsa:MessageID")
    if not action_uri or not message_id:
        raise SoapError("wsa:Action and wsa:MessageID are required")
    action = action_uri
    for base in _ACTION_BASES:
        if action_uri.startswith(base):
            action = action_uri[len(base) :]
    selectors = {
        el.get("Name", ""): el.text or "" for el in header.findall("wsman:SelectorSet/*", NS)
    }
    options = {el.get("Name", ""): el.text or "" for el in header.findall("wsman:OptionSet/*", NS)}
    try:
        max_envelope = int(_text(header, "wsman:MaxEnvelopeSize") or DEFAULT_MAX_ENVELOPE)
    except ValueError:
        raise SoapError("wsman:MaxEnvelopeSize is not a number") from None
    body = root.find("s:Body", NS)
    return WsmanRequest(
        action=action,
        action_uri=action_uri,
        message_id=message_id,
        resource_uri=_text(header, "wsman:ResourceURI"),
        selectors=selectors,
        options=options,
        max_envelope=max_envelope,
        body=body[0] if body is not None and len(body) else None,
    )


def _text(parent: ET.Element, path: str) -> str:
    el = parent.find(path, NS)
    return (el.text or "").strip() if el is not None else ""


_OPEN = (
    '<s:Envelope xml:lang="en-US" xmlns:s="{s}" xmlns:a="{wsa}" xmlns:x="{wst}" xmlns:w="{wsman}"'
    ' xmlns:rsp="{rsp}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
).format(**NS)


def reply_envelope(req: WsmanRequest, body: str, action_uri: str | None = None) -> bytes:
    """The reply to ``req``: ``<action>Response``, RelatesTo = its MessageID, ``body`` inside."""
    action = action_uri or req.action_uri + "Response"
    return (
        _OPEN + "<s:Header>"
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(req.message_id)}</a:RelatesTo>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def fault_envelope(message_id: str | None, fault: WsmanFault, machine: str) -> bytes:
    relates = f"<a:RelatesTo>{escape(message_id)}</a:RelatesTo>" if message_id else ""
    value = "s:Sender" if fault.sender else "s:Receiver"
    reason = escape(fault.reason)
    return (
        _OPEN + "<s:Header>"
        "<a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>{relates}"
        "</s:Header><s:Body><s:Fault>"
        f"<s:Code><s:Value>{value}</s:Value><s:Subcode><s:Value>{escape(fault.subcode)}"
        "</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="{NS["f"]}" Code="{fault.code}"'
        f" Machine={quoteattr(machine)}><f:Message>{reason} </f:Message></f:WSManFault>"
        "</s:Detail></s:Fault></s:Body></s:Envelope>"
    ).encode()


_ID = re.compile(r"^[0-9A-Fa-f-]{1,64}$")


def valid_id(value: str) -> bool:
    """A ShellId / CommandId the lab accepts (GUID-like; anything else is refused)."""
    return bool(_ID.match(value))
