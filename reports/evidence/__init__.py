"""Evidence pack renderers: the human report (HTML, PDF; Spanish or English) and OSCAL.

Input is only ``baluarte.evidence.data.EvidenceData``; nothing here reads the store.
"""

from __future__ import annotations

from reports.evidence.pdf import render_pdf
from reports.evidence.render import render_html

__all__ = ["render_html", "render_pdf"]
