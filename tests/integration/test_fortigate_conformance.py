"""Unmodified third-party clients against the emulator: ``fortiosapi`` 1.0.5, ``fortigate-api`` 2.0.8.

Both speak ``requests`` with TLS verification on, against the emulator's CA. fortiosapi's
``verify=`` is silently overridden by REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (reference §4.1), so
those are cleared for it; fortigate-api can only take ``verify=True``, so REQUESTS_CA_BUNDLE
points at the lab CA for it. The clients' known bugs are asserted as the real behaviour they
meet on real units: fortiosapi's default ``tokenlogin`` (``?global=1`` on a path FortiOS 7.4
does not have), its second ``move`` (mutable default: before and after together), its session
writes on 7.4 (CSRF cookie name), and fortigate-api's session login on 7.6.3+.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from baluarte.lab.fortigate import FortigateLab
from tests.unit.fortigate_lab.sample_state import sample_state

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # fortiosapi: `is` with a literal; both: urllib3 warnings
    from fortigate_api import FortiGateAPI
    from fortiosapi import FortiOSAPI
    from fortiosapi.exceptions import NotLogged

RW = "rw-token-conformance"
PASSWORD = "pw-conformance"


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fgt-ca")


def lab(cert_dir: Path, profile: str) -> FortigateLab:
    return FortigateLab(
        sample_state(), tokens={RW: "rw"}, admins={"admin": PASSWORD}, profile=profile,
        cert_dir=cert_dir,
    )  # fmt: skip


@pytest.fixture(scope="module")
def fgt74(cert_dir: Path) -> Iterator[FortigateLab]:
    with lab(cert_dir, "7.4") as running:
        yield running


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def lab_ca_env(monkeypatch: pytest.MonkeyPatch, fgt74: FortigateLab) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fgt74.ca_path))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def token_api(fgt: FortigateLab) -> FortiOSAPI:
    api = FortiOSAPI()
    assert api.tokenlogin(f"127.0.0.1:{fgt.port}", RW, verify=str(fgt.ca_path), vdom="root")
    return api


# -- fortiosapi ---------------------------------------------------------------------------------


def test_fortiosapi_token_login(no_ca_env, fgt74):
    api = token_api(fgt74)  # GET cmdb/system/status?vdom=root: a 404 envelope carrying version
    assert api.get_version() == "v7.4.5"
    with pytest.raises(NotLogged):  # the default vdom="global" sends ?global=1 (issue #80)
        FortiOSAPI().tokenlogin(f"127.0.0.1:{fgt74.port}", RW, verify=str(fgt74.ca_path))


def test_fortiosapi_reads_tables_rows_and_singletons(no_ca_env, fgt74):
    api = token_api(fgt74)
    policies = api.get("firewall", "policy", vdom="root")
    assert [p["policyid"] for p in policies["results"]][:3] == [1, 2, 3]
    row = api.get("firewall", "address", vdom="root", mkey="10.0.0.0/8")
    assert row["results"][0]["subnet"] == "10.0.0.0 255.0.0.0"
    settings = api.get("system", "global", vdom="global")  # ?global=1, element [0]
    assert settings["results"]["hostname"] == "fgt-acme-hq"


def test_fortiosapi_writes(no_ca_env, fgt74):
    api = token_api(fgt74)
    address = {"name": "fa-1", "subnet": "192.0.2.70 255.255.255.255"}
    created = api.post("firewall", "address", data=dict(address), vdom="root")
    assert (created["status"], created["mkey"]) == ("success", "fa-1")
    duplicate = api.post("firewall", "address", data=dict(address), vdom="root")
    assert (duplicate["http_status"], duplicate["error"]) == (500, -5)
    # without mkey, put() asks ?action=schema for the mkey name
    updated = api.put("firewall", "address", vdom="root", data={"name": "fa-1", "comment": "c"})
    assert updated["status"] == "success" and updated["revision_changed"] is True
    assert api.get("firewall", "address", vdom="root", mkey="fa-1")["results"][0]["comment"] == "c"
    in_use = api.delete("firewall", "address", vdom="root", mkey="lan-net")
    assert (in_use["http_status"], in_use["error"]) == (500, -23)
    assert api.delete("firewall", "address", vdom="root", mkey="fa-1")["status"] == "success"
    assert api.get("firewall", "address", vdom="root", mkey="fa-1")["http_status"] == 404


def test_fortiosapi_move(no_ca_env, cert_dir):
    FortiOSAPI.move.__defaults__[-1].clear()  # the shared default, as a fresh process has it
    with lab(cert_dir, "7.4") as fgt:
        api = token_api(fgt)

        def order() -> list[int]:
            return [p["policyid"] for p in api.get("firewall", "policy", vdom="root")["results"]]

        moved = api.move("firewall", "policy", vdom="root", mkey=3, where="before",
                         reference_key=1, parameters={})  # fmt: skip
        assert moved["status"] == "success" and order() == [3, 1, 2]
        first = api.move("firewall", "policy", vdom="root", mkey=2, where="before", reference_key=1)
        assert first["status"] == "success" and order() == [3, 2, 1]
        # the default parameters={} is shared: the second call sends before= and after=
        second = api.move("firewall", "policy", vdom="root", mkey=1, where="after", reference_key=3)
        assert (second["http_status"], second["error"]) == (500, -651)
        assert order() == [3, 2, 1]


def test_fortiosapi_session_login_and_write_on_6_4(no_ca_env, cert_dir):
    with lab(cert_dir, "6.4") as fgt:
        api = FortiOSAPI()
        assert api.login(f"127.0.0.1:{fgt.port}", "admin", PASSWORD, verify=str(fgt.ca_path))
        assert api.get_version() == "v7.4.5"
        data = {"name": "fs-1", "subnet": "192.0.2.71 255.255.255.255"}
        assert api.post("firewall", "address", data=data, vdom="root")["status"] == "success"
        api.logout()
        assert fgt.requests[-1].path == "/logout"


def test_fortiosapi_session_writes_are_refused_on_7_4(no_ca_env, fgt74):
    api = FortiOSAPI()
    assert api.login(f"127.0.0.1:{fgt74.port}", "admin", PASSWORD, verify=str(fgt74.ca_path))
    assert api.get("system", "global", vdom="root")["status"] == "success"
    # it only copies a cookie named exactly "ccsrftoken" into X-CSRFTOKEN (issue #79)
    refused = api.post("firewall", "address", data={"name": "fs-2"}, vdom="root")
    assert refused.status_code == 403  # a raw Response: the 403 page is not JSON
    api.logout()


# -- fortigate-api ------------------------------------------------------------------------------


def test_fortigate_api_token_crud(lab_ca_env, fgt74):
    api = FortiGateAPI(host="127.0.0.1", port=fgt74.port, token=RW, verify=True)
    api.login()  # GET monitor/system/status
    addresses = api.cmdb.firewall.address
    assert [a["name"] for a in addresses.get(name="10.0.0.0/8")] == ["10.0.0.0/8"]
    assert addresses.create({"name": "ga-1", "subnet": "192.0.2.80/32"}).status_code == 200
    assert addresses.create({"name": "ga-1", "subnet": "192.0.2.80/32"}).status_code == 500
    assert addresses.update({"name": "ga-1", "comment": "g"}).status_code == 200
    assert addresses.get(filter="comment==g")[0]["name"] == "ga-1"
    assert addresses.is_exist("ga-1") and not addresses.is_exist("nope")
    assert addresses.delete("lan-net").status_code == 500  # referenced
    assert addresses.delete("ga-1").status_code == 200
    assert api.cmdb.system.global_.get()[0]["hostname"] == "fgt-acme-hq"
    assert api.cmdb.system.global_.update({"admintimeout": 12}).status_code == 200
    assert api.cmdb.system.global_.get()[0]["admintimeout"] == 12


def test_fortigate_api_policy_move(lab_ca_env, fgt74):
    api = FortiGateAPI(host="127.0.0.1", port=fgt74.port, token=RW, verify=True)
    policies = api.cmdb.firewall.policy
    before = [p["policyid"] for p in policies.get()]
    assert policies.move(before[-1], "before", before[0]).status_code == 200
    assert [p["policyid"] for p in policies.get()] == [before[-1], *before[:-1]]
    assert policies.move(before[-1], "after", before[-2]).status_code == 200
    assert [p["policyid"] for p in policies.get()] == before


def test_fortigate_api_session_login(lab_ca_env, fgt74):
    api = FortiGateAPI(host="127.0.0.1", port=fgt74.port, username="admin", password=PASSWORD,
                       verify=True)  # fmt: skip
    api.login()  # /logincheck; takes any cookie starting "ccsrftoken"
    created = api.cmdb.firewall.address.create({"name": "gs-1", "subnet": "192.0.2.81/32"})
    assert created.status_code == 200
    assert api.cmdb.firewall.address.delete("gs-1").status_code == 200
    api.logout()
    assert fgt74.requests[-1].method == "GET" and fgt74.requests[-1].path == "/logout"


def test_fortigate_api_session_login_fails_on_7_6(monkeypatch, cert_dir):
    with lab(cert_dir, "7.6") as fgt:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fgt.ca_path))
        api = FortiGateAPI(host="127.0.0.1", port=fgt.port, username="admin", password=PASSWORD,
                           verify=True)  # fmt: skip
        with pytest.raises(ValueError, match="ccsrftoken"):  # fortigate-api issue #52
            api.login()
