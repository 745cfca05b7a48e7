"""FortigateLab without sockets: set-up checks, and requests dispatched in-process."""

import json

import pytest

from baluarte.errors import LabError
from baluarte.lab.fortigate import Fault, FortigateLab
from baluarte.lab.fortigate.wire import Request
from tests.unit.fortigate_lab.sample_state import sample_state


def request(method: str, path: str, query: str = "", token: str = "t-0001", body: object = None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body).encode() if body is not None else b""
    return Request(method, path, query, headers, data, "127.0.0.1")


def test_unknown_profiles_and_api_users_are_refused():
    with pytest.raises(LabError, match=r"unknown FortiOS profile '8\.0'"):
        FortigateLab(sample_state(), profile="8.0")
    with pytest.raises(LabError, match="api-user 'ghost'"):
        FortigateLab(sample_state(), tokens={"t-0001": "ghost"})


def test_requests_can_be_dispatched_without_a_server():
    lab = FortigateLab(sample_state(), tokens={"t-0001": "rw"})
    reply = lab.dispatch(request("GET", "/api/v2/cmdb/firewall/address/10.0.0.0%2F8"))
    assert json.loads(reply.body)["results"][0]["name"] == "10.0.0.0/8"
    reply = lab.dispatch(request("POST", "/api/v2/cmdb/firewall/address", body={"name": "n1"}))
    assert (
        reply.status == 200 and lab.state.cmdb.vdoms["root"]["firewall/address"][-1]["name"] == "n1"
    )
    assert lab.dispatch(request("GET", "/api/v2/cmdb/system/global", token="")).status == 401
    assert [r.status for r in lab.requests] == [200, 200, 401]


def test_a_write_needs_write_access_to_every_field_it_touches():
    state = sample_state()
    state["global"]["system/accprofile"].append(
        {"name": "cfg_rw", "q_origin_key": "cfg_rw", "sysgrp": "custom",
         "sysgrp-permission": {"cfg": "read-write", "admin": "read"}}
    )  # fmt: skip
    state["global"]["system/api-user"][0]["accprofile"] = "cfg_rw"
    lab = FortigateLab(state, tokens={"t-0001": "baluarte-ro"})
    ok = lab.dispatch(request("PUT", "/api/v2/cmdb/system/global", body={"alias": "a"}))
    refused = lab.dispatch(request("PUT", "/api/v2/cmdb/system/global", body={"admintimeout": 9}))
    assert (ok.status, refused.status, json.loads(refused.body)["error"]) == (200, 403, -37)


def test_faults_are_taken_in_order_and_expire():
    lab = FortigateLab(sample_state(), tokens={"t-0001": None})
    lab.faults.add(Fault(match="/api/v2/monitor/*", kind="status", status=503, times=2))
    lab.faults.add(Fault(match="/api/v2/monitor/", kind="status", status=429, times=1))
    statuses = [
        lab.dispatch(request("GET", "/api/v2/monitor/system/status")).status for _ in range(4)
    ]
    assert statuses == [503, 503, 429, 200]
    lab.faults.add(Fault(match="/api/v2/cmdb/", kind="drop", method="POST", times=None))
    assert lab.dispatch(request("GET", "/api/v2/cmdb/system/global")).status == 200
    assert lab.dispatch(request("POST", "/api/v2/cmdb/firewall/address", body={})).drop
