"""What the printed reports a client is handed (the intervention report, the monthly executive
report) share: the page (A4, DejaVu fonts, colours, running head and foot), the Jinja
environment their templates render in, where their words are marked, and the signature.

- ``environment``: ``printed_environment``, with the shared page templates;
- ``messages``: ``report_messages``, the words a report's modules and template mark;
- ``signing``: the signed file (``sign_rendered``, ``write_signed``) and what the page says of it.
"""

from reports.printed.environment import printed_environment
from reports.printed.messages import report_messages
from reports.printed.signing import Signature, Signed, sign_rendered, verify_command, write_signed

__all__ = [
    "Signature",
    "Signed",
    "printed_environment",
    "report_messages",
    "sign_rendered",
    "verify_command",
    "write_signed",
]
