"""Access facts on Windows: ADSI's member names, and an unreadable RDP switch."""

from __future__ import annotations

from baluarte.findings import Status
from tests.unit.windows._states import data, document, not_passing, verdicts


def test_adsi_member_names_read_like_get_localgroupmember_s():
    doc = document("hardened")
    admins = data(doc, "localadmins")
    admins["Method"] = "ADSI"
    for member in admins["Members"]:
        # ADSI's WinNT://WORKGROUP/PC-GERENCIA/admin-msp, slashes turned to backslashes
        member.update(Name="WORKGROUP\\" + member["Name"], PrincipalSource=None)
    out = verdicts(doc)
    assert not_passing(out) == {}
    assert "PC-GERENCIA\\admin-msp" in (out["access.admin_accounts"].observed or "")


def test_rdp_switch_unreadable_is_an_error_saying_so():
    doc = document("hardened")
    data(doc, "rdp.nla").update(RdpEnabled=None)
    out = verdicts(doc)["access.insecure_admin_protocols"]
    assert out.status == Status.ERROR
    assert "fDenyTSConnections could not be read" in (out.reason or "")
