"""The FortiOS REST emulator over real HTTPS (verification on), driven with plain httpx.

One emulator per module for the read/write tests (each test uses its own object names);
small extra emulators for the behaviours that need their own settings (profiles, lockout,
expiry). The CLI is exercised as a subprocess at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from baluarte.lab.fortigate import Fault, FortigateLab, load_state
from tests.unit.fortigate_lab.sample_state import sample_state

CANARY = "canary-Zq8v1XkP-do-not-leak"
TOKENS = {
    "ro-token-0001": "baluarte-ro",
    "rw-token-0002": "rw",
    "remote-token-3": "remote-only",
    "nofw-token-04": "no-fw",
    "noadmin-tok-5": "no-admin",
    "hanet-token-6": "ha-net",
    CANARY: None,
}
RO, RW, REMOTE, NOFW, NOADMIN, HANET = list(TOKENS)[:6]
ADMIN_PW = "pw-" + CANARY
BIN = Path(sys.executable).parent / "baluarte"


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fgt-ca")


@pytest.fixture(scope="module")
def fgt(cert_dir: Path) -> Iterator[FortigateLab]:
    with FortigateLab(
        sample_state(), tokens=TOKENS, admins={"admin": ADMIN_PW}, cert_dir=cert_dir
    ) as lab:
        yield lab


@pytest.fixture
def make_lab(cert_dir: Path) -> Iterator:
    """Extra emulators with their own settings (stopped after the test)."""
    started: list[FortigateLab] = []

    def make(state: dict | None = None, **settings) -> FortigateLab:
        lab = FortigateLab(state or sample_state(), cert_dir=cert_dir, **settings).start()
        started.append(lab)
        return lab

    yield make
    for lab in started:
        lab.stop()


def client(lab: FortigateLab, token: str | None = RO, **kwargs) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    context = ssl.create_default_context(cafile=str(lab.ca_path))
    return httpx.Client(base_url=lab.url, verify=context, headers=headers, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def ro(fgt: FortigateLab) -> Iterator[httpx.Client]:
    with client(fgt, RO) as c:
        yield c


@pytest.fixture(scope="module")
def rw(fgt: FortigateLab) -> Iterator[httpx.Client]:
    with client(fgt, RW) as c:
        yield c


# -- reads ------------------------------------------------------------------------------------


def test_table_answer_has_the_fortios_envelope_and_rows_in_stored_order(ro):
    body = ro.get("/api/v2/cmdb/firewall/address", params={"vdom": "root"}).json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["revision"])
    assert [body[k] for k in ("http_method", "vdom", "path", "name", "status", "http_status")] == [
        "GET", "root", "firewall", "address", "success", 200,
    ]  # fmt: skip
    assert (body["serial"], body["version"], body["build"]) == ("FGT60FTK24000001", "v7.4.5", 2702)
    names = [row["name"] for row in body["results"]]
    assert names[:4] == ["all", "lan-net", "web-srv", "10.0.0.0/8"]
    assert all(row["q_origin_key"] == row["name"] for row in body["results"])
    assert body["size"] == len(names) and body["matched_count"] == len(names)


def test_row_by_url_encoded_mkey_is_a_one_element_list(ro):
    body = ro.get("/api/v2/cmdb/firewall/address/10.0.0.0%2F8").json()
    assert body["http_status"] == 200
    assert [row["name"] for row in body["results"]] == ["10.0.0.0/8"]
    missing = ro.get("/api/v2/cmdb/firewall/address/nope")
    assert missing.status_code == 404 and missing.json()["error"] == -3


def test_singleton_is_an_object_and_global_or_many_vdoms_give_lists(ro):
    single = ro.get("/api/v2/cmdb/system/global").json()
    assert single["results"]["hostname"] == "fgt-acme-hq"
    listed = ro.get("/api/v2/cmdb/system/global", params={"global": "1"}).json()
    assert isinstance(listed, list) and listed[0]["results"]["hostname"] == "fgt-acme-hq"
    every = ro.get("/api/v2/cmdb/firewall/policy", params={"vdom": "*"}).json()
    assert [env["vdom"] for env in every] == ["root"]
    assert ro.get("/api/v2/cmdb/firewall/policy", params={"vdom": "nope"}).status_code == 404


def test_filters_format_and_paging(ro):
    def ids(**params) -> list[int]:
        body = ro.get("/api/v2/cmdb/firewall/policy", params=params).json()
        return [row["policyid"] for row in body["results"]]

    assert ids(filter="name==LEGACY") == [3]  # == is case-insensitive
    assert ids(filter="srcaddr==grp-lan") == [2]  # a member list matches on any member
    assert ids(filter="name=@-") == [1, 2]
    assert ids(filter="policyid>=2") == [2, 3]
    assert ids(filter=["policyid>=2", "status==enable"]) == [2]  # repeated: AND
    assert ids(filter="name==legacy,name==grp-ssh") == [2, 3]  # comma: OR
    assert ids(start="1", count="1") == [2]
    body = ro.get("/api/v2/cmdb/firewall/policy", params={"format": "policyid|name"}).json()
    assert set(body["results"][0]) == {"policyid", "name", "q_origin_key"}
    body = ro.get("/api/v2/cmdb/firewall/policy", params={"filter": "status==enable"}).json()
    assert (body["size"], body["matched_count"]) == (3, 2)
    assert ro.get("/api/v2/cmdb/firewall/policy", params={"filter": "nonsense"}).status_code == 400


def test_schema_and_default_actions(ro):
    table = ro.get("/api/v2/cmdb/firewall/policy", params={"action": "schema"}).json()["results"]
    assert (table["mkey"], table["mkey_type"], table["category"]) == (
        "policyid",
        "integer",
        "table",
    )
    assert table["children"]["action"]["type"] == "option"
    single = ro.get("/api/v2/cmdb/system/global", params={"action": "schema"}).json()["results"]
    assert single["category"] == "complex" and "mkey" not in single
    default = ro.get("/api/v2/cmdb/system/global", params={"action": "default"}).json()
    assert default["results"]["admintimeout"] == 5


def test_secrets_read_back_as_a_fresh_enc_value_each_time(ro):
    first = ro.get("/api/v2/cmdb/system/admin/admin").json()["results"][0]["password"]
    second = ro.get("/api/v2/cmdb/system/admin/admin").json()["results"][0]["password"]
    assert first.startswith("ENC ") and second.startswith("ENC ") and first != second


def test_datasource_and_with_meta(ro):
    row = ro.get("/api/v2/cmdb/firewall/address/lan-net", params={"with_meta": "1"}).json()[
        "results"
    ][0]
    assert row["q_ref"] == 3  # policies 1 and 3, group grp-lan
    policy = ro.get("/api/v2/cmdb/firewall/policy/2", params={"datasource": "1"}).json()
    assert policy["results"][0]["srcaddr"][0]["datasource"] == "firewall.addrgrp"


# -- writes -----------------------------------------------------------------------------------


def test_create_duplicate_update_and_delete(rw):
    url = "/api/v2/cmdb/firewall/address"
    before = rw.get(url).json()["revision"]
    created = rw.post(url, json={"name": "w1", "subnet": "192.0.2.50 255.255.255.255"}).json()
    assert (created["mkey"], created["revision_changed"]) == ("w1", True)
    assert created["revision"] != before
    dup = rw.post(url, json={"name": "w1"})
    assert (dup.status_code, dup.json()["error"]) == (500, -5)
    for bad in (
        {"name": "w2", "type": "bogus"},
        {"name": "w2", "colour": 1},
        {"name": "w2", "color": 99},
    ):
        answer = rw.post(url, json=bad)
        assert (answer.status_code, answer.json()["error"]) == (500, -651), bad
    same = rw.put(f"{url}/w1", json={"comment": ""}).json()
    changed = rw.put(f"{url}/w1", json={"comment": "web"}).json()
    again = rw.put(f"{url}/w1", json={"comment": "web"}).json()
    assert (changed["revision_changed"], again["revision_changed"]) == (True, False)
    assert again["revision"] == changed["revision"] and same["status"] == "success"
    assert rw.get(f"{url}/w1").json()["results"][0]["comment"] == "web"
    missing = rw.put(f"{url}/nope", json={"comment": "x"})
    assert (missing.status_code, missing.json()["error"]) == (404, -3)
    assert rw.delete(f"{url}/w1").json()["status"] == "success"
    gone = rw.delete(f"{url}/w1")
    assert (gone.status_code, gone.json()["error"]) == (404, -3)


def test_references_are_checked_on_create_and_delete(rw):
    group = "/api/v2/cmdb/firewall/addrgrp"
    absent = rw.post(group, json={"name": "g1", "member": [{"name": "no-such-address"}]})
    assert (absent.status_code, absent.json()["error"]) == (424, -3)
    assert rw.post(group, json={"name": "g1", "member": [{"name": "web-srv"}]}).status_code == 200
    in_use = rw.delete("/api/v2/cmdb/firewall/address/web-srv")
    assert (in_use.status_code, in_use.json()["error"]) == (500, -23)
    # member lists are replaced whole
    rw.put(f"{group}/g1", json={"member": [{"name": "lan-net"}]})
    members = rw.get(f"{group}/g1").json()["results"][0]["member"]
    assert members == [{"name": "lan-net", "q_origin_key": "lan-net"}]
    assert rw.delete(f"{group}/g1").status_code == 200


def test_method_errors(rw):
    assert rw.post("/api/v2/cmdb/system/global", json={"hostname": "x"}).status_code == 405
    assert rw.post("/api/v2/cmdb/firewall/address/lan-net", json={}).status_code == 405
    assert rw.delete("/api/v2/cmdb/firewall/address").status_code == 405
    unknown = rw.get("/api/v2/cmdb/no/such")
    assert unknown.status_code == 404 and unknown.json()["version"] == "v7.4.5"
    assert rw.get("/api/v2/nothing/here").headers["content-type"].startswith("application/json")
    assert rw.get("/no/such/page").headers["content-type"].startswith("text/html")


def test_policy_id_is_assigned_and_moves_reorder_the_table(rw):
    url = "/api/v2/cmdb/firewall/policy"
    new = rw.post(url, json={"name": "m", "srcintf": [{"name": "internal"}], "dstintf": [
        {"name": "wan1"}], "srcaddr": [{"name": "all"}], "dstaddr": [{"name": "all"}],
        "service": [{"name": "HTTPS"}], "schedule": "always", "action": "accept"}).json()  # fmt: skip
    pid = new["mkey"]
    assert pid == 4
    row = rw.get(f"{url}/{pid}").json()["results"][0]
    assert row["logtraffic"] == "utm" and re.fullmatch(r"[0-9a-f-]{36}", row["uuid"])

    def order() -> list[int]:
        return [r["policyid"] for r in rw.get(url).json()["results"]]

    assert rw.put(f"{url}/{pid}", params={"action": "move", "before": "1"}).status_code == 200
    assert order()[:2] == [pid, 1]
    assert rw.put(f"{url}/{pid}", params={"action": "move", "after": "3"}).status_code == 200
    assert order()[-1] == pid
    both = rw.put(f"{url}/{pid}", params={"action": "move", "before": "1", "after": "2"})
    assert (both.status_code, both.json()["error"]) == (500, -651)
    clone = rw.post(f"{url}/{pid}", params={"action": "clone", "nkey": "40"})
    assert clone.json()["mkey"] == 40 and order()[-1] == 40
    for p in (40, pid):
        assert rw.delete(f"{url}/{p}").status_code == 200


# -- auth and permissions ---------------------------------------------------------------------


def test_missing_or_wrong_token_is_401(fgt):
    with client(fgt, None) as anonymous:
        assert anonymous.get("/api/v2/cmdb/system/global").status_code == 401
    with client(fgt, "not-a-token") as wrong:
        answer = wrong.get("/api/v2/cmdb/system/global")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'error="invalid_token"'


def test_token_from_an_untrusted_address_is_401(fgt):
    with client(fgt, REMOTE) as remote:
        assert remote.get("/api/v2/monitor/system/status").status_code == 401


def test_profile_without_the_access_group_gets_403(fgt, ro):
    with client(fgt, NOFW) as nofw:
        denied = nofw.get("/api/v2/cmdb/firewall/policy")
        assert (denied.status_code, denied.json()["error"]) == (403, -14)
        assert nofw.get("/api/v2/cmdb/system/global").status_code == 200
        assert nofw.get("/api/v2/monitor/system/status").status_code == 200  # "any"
    refused = ro.post("/api/v2/cmdb/firewall/address", json={"name": "ro1"})
    assert (refused.status_code, refused.json()["error"]) == (403, -37)


def test_partly_permitted_nodes_answer_200_with_fields_missing(fgt):
    with client(fgt, HANET) as hanet:
        ha = hanet.get("/api/v2/cmdb/system/ha").json()
    assert ha["http_status"] == 200 and set(ha["results"]) == {"ha-mgmt-interfaces"}
    with client(fgt, NOADMIN) as noadmin:
        settings = noadmin.get("/api/v2/cmdb/system/global").json()["results"]
        assert settings["hostname"] == "fgt-acme-hq" and settings["strong-crypto"] == "enable"
        assert not any(key.startswith("admin") for key in settings)
        assert "post-login-banner" not in settings
        assert noadmin.get("/api/v2/cmdb/system/admin").status_code == 403


def test_token_in_the_query_string_is_refused_on_7_4_unless_enabled(fgt, rw):
    with client(fgt, None) as anonymous:
        url = "/api/v2/monitor/system/status"
        refused = anonymous.get(url, params={"access_token": RO})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'error="invalid_token"'
        rw.put("/api/v2/cmdb/system/global", json={"rest-api-key-url-query": "enable"})
        try:
            assert anonymous.get(url, params={"access_token": RO}).status_code == 200
        finally:
            rw.put("/api/v2/cmdb/system/global", json={"rest-api-key-url-query": "disable"})


def test_token_in_the_query_string_is_accepted_on_6_4(make_lab):
    with client(make_lab(tokens={RO: "baluarte-ro"}, profile="6.4"), None) as anonymous:
        url = "/api/v2/monitor/system/status"
        assert anonymous.get(url, params={"access_token": RO}).status_code == 200
        assert anonymous.get(url, params={"access_token": "wrong-token"}).status_code == 401


# -- transactions, backup, revisions ----------------------------------------------------------


def test_transaction_commit_applies_every_write_at_once(rw):
    start = rw.post("/api/v2/cmdb", params={"action": "transaction-start"}, json={"timeout": 30})
    tx = start.json()["results"]["transaction-id"]
    assert rw.post("/api/v2/cmdb", params={"action": "transaction-start"}).status_code == 500
    header = {"X-TRANSACTION-ID": str(tx)}
    url = "/api/v2/cmdb/firewall/address"
    assert rw.post(url, json={"name": "t1", "subnet": "192.0.2.61/32"}, headers=header).json()[
        "status"] == "success"  # fmt: skip
    group = {"name": "tg", "member": [{"name": "t1"}]}  # refers to the pending address
    assert rw.post("/api/v2/cmdb/firewall/addrgrp", json=group, headers=header).status_code == 200
    assert rw.get(f"{url}/t1").status_code == 404  # not live yet
    assert rw.get(f"{url}/t1", headers=header).status_code == 200  # visible inside
    shown = rw.get("/api/v2/cmdb", params={"action": "transaction-show"}, headers=header).json()
    assert 'edit "t1"' in shown["results"][0] and "config firewall addrgrp" in shown["results"][1]
    before = rw.get(url).json()["revision"]
    done = rw.post("/api/v2/cmdb", params={"action": "transaction-commit"}, headers=header).json()
    assert done["revision_changed"] is True and done["revision"] != before
    assert rw.get(f"{url}/t1").status_code == 200
    assert rw.get("/api/v2/cmdb/firewall/addrgrp/tg").status_code == 200
    again = rw.post("/api/v2/cmdb", params={"action": "transaction-commit"}, headers=header)
    assert again.status_code == 404
    rw.delete("/api/v2/cmdb/firewall/addrgrp/tg")
    rw.delete(f"{url}/t1")


def test_transaction_abort_and_timeout_discard_the_writes(rw):
    for how in ("abort", "timeout"):
        body = {"timeout": 0.2 if how == "timeout" else 30}
        tx = rw.post("/api/v2/cmdb", params={"action": "transaction-start"}, json=body).json()
        header = {"X-TRANSACTION-ID": str(tx["results"]["transaction-id"])}
        rw.post("/api/v2/cmdb/firewall/address", json={"name": "ta"}, headers=header)
        if how == "abort":
            rw.post("/api/v2/cmdb", params={"action": "transaction-abort"}, headers=header)
        else:
            time.sleep(0.3)
        commit = rw.post("/api/v2/cmdb", params={"action": "transaction-commit"}, headers=header)
        assert commit.status_code == 404, how
        assert rw.get("/api/v2/cmdb/firewall/address/ta").status_code == 404, how


@pytest.mark.parametrize(
    ("profile", "get", "post"), [("6.4", 200, 405), ("7.4", 200, 200), ("7.6", 405, 200)]
)
def test_config_backup_verb_depends_on_the_profile(make_lab, profile, get, post):
    with client(make_lab(tokens={RO: None}, profile=profile)) as c:
        url = "/api/v2/monitor/system/config/backup"
        by_get = c.get(url, params={"scope": "global"})
        by_post = c.post(url, json={"scope": "global"})
    assert (by_get.status_code, by_post.status_code) == (get, post)
    ok = by_get if get == 200 else by_post
    assert ok.headers["content-type"] == "application/octet-stream"
    first = ok.text.splitlines()[0]
    assert first == "#config-version=FGT60F-7.04-FW-build2702-230615:opmode=0:vdom=0:user=api-admin"
    assert "config firewall policy" in ok.text and 'edit "lan-net"' in ok.text
    assert "set password ENC " in ok.text


def test_config_revisions_are_saved_listed_and_read(rw):
    saved = rw.post("/api/v2/monitor/system/config-revision/save", json={"comments": "run 7"})
    config_id = saved.json()["results"]["config_id"]
    listing = rw.get("/api/v2/monitor/system/config-revision").json()["results"]["revisions"]
    assert {"id": config_id, "comments": "run 7", "admin": "rw"}.items() <= listing[-1].items()
    info = rw.get("/api/v2/monitor/system/config-revision/info", params={"config_id": config_id})
    assert info.json()["results"]["comments"] == "run 7"
    text = rw.get("/api/v2/monitor/system/config-revision/file", params={"config_id": config_id})
    assert text.text.startswith("#config-version=FGT60F-7.04-")


# -- monitor ----------------------------------------------------------------------------------


def test_monitor_answers(fgt, ro):
    status = ro.get("/api/v2/monitor/system/status").json()
    assert status["results"]["model"] == "FGT60F" and status["results"]["hostname"] == "fgt-acme-hq"
    assert (status["path"], status["name"], status["action"]) == ("system", "status", "")
    licence = ro.get("/api/v2/monitor/license/status").json()["results"]
    assert licence["antivirus"]["status"] == "licensed"
    ntp = ro.get("/api/v2/monitor/system/ntp/status").json()
    assert ntp["results"][0]["selected"] is True and ntp["action"] == "status"
    admins = ro.get("/api/v2/monitor/system/current-admins").json()["results"]
    me = [a for a in admins if a["is_current"]]
    assert me[0]["admin"] == "baluarte-ro" and me[0]["srcaddr"] == "127.0.0.1"
    info = ro.get(
        "/api/v2/monitor/system/interface-connected-admins-info", params={"interface": "internal"}
    ).json()["results"]
    assert info["current_admin_connected"] is True  # the first interface offering https
    missing = ro.get("/api/v2/monitor/system/ha-peer")
    assert missing.status_code == 404 and missing.json()["status"] == "error"


# -- sessions -----------------------------------------------------------------------------------


def test_api_authentication_with_a_session_key(fgt):
    with client(fgt, None) as anonymous:
        login = {"username": "admin", "secretkey": ADMIN_PW, "ack_pre_disclaimer": True,
                 "ack_post_disclaimer": True, "request_key": True}  # fmt: skip
        body = anonymous.post("/api/v2/authentication", json=login).json()
        assert body["status_message"] == "LOGIN_SUCCESS"
        wrong = anonymous.post("/api/v2/authentication", json={**login, "secretkey": "nope"})
        assert wrong.json()["status_message"] == "LOGIN_FAILED"
    with client(fgt, body["session_key"]) as session:
        assert session.get("/api/v2/cmdb/system/global").status_code == 200
        assert (
            session.put("/api/v2/cmdb/system/global", json={"alias": "FortiGate-60F"}).status_code
            == 200
        )
        assert session.put("/api/v2/authentication").status_code == 200
        assert session.delete("/api/v2/authentication").status_code == 200
        assert session.get("/api/v2/cmdb/system/global").status_code == 401


def test_api_authentication_with_cookies_needs_the_csrf_header(fgt):
    with client(fgt, None) as session:
        login = {"username": "admin", "secretkey": ADMIN_PW, "request_key": False}
        assert session.post("/api/v2/authentication", json=login).status_code == 200
        names = set(session.cookies.keys())
        assert f"session_key_{fgt.port}_" in " ".join(names)
        csrf_name = next(n for n in names if n.startswith(f"ccsrf_token_{fgt.port}_"))
        url = "/api/v2/cmdb/system/global"
        assert session.get(url).status_code == 200
        refused = session.put(url, json={"alias": "x"})
        assert refused.status_code == 403 and refused.headers["content-type"].startswith(
            "text/html"
        )
        csrf = session.cookies[csrf_name].strip('"')
        assert (
            session.put(url, json={"alias": "x"}, headers={"X-CSRFTOKEN": csrf}).status_code == 200
        )
        assert session.get("/logout").status_code == 200
        assert session.get(url).status_code == 401


@pytest.mark.parametrize(
    ("profile", "cookie"), [("6.4", "ccsrftoken"), ("7.4", "ccsrftoken_{port}_"), ("7.6", None)]
)
def test_logincheck_cookies_depend_on_the_profile(make_lab, profile, cookie):
    lab = make_lab(admins={"admin": "pw"}, profile=profile)
    with client(lab, None) as session:
        answer = session.post("/logincheck", data={"username": "admin", "secretkey": "pw"})
        assert answer.text.startswith("1")
        names = list(session.cookies.keys())
        status = session.get("/api/v2/monitor/system/status").status_code
        wrong = session.post("/logincheck", data={"username": "admin", "secretkey": "x"})
        assert wrong.text == "0"
    if cookie is None:
        assert names == [] and status == 401  # 7.6.3+: no usable session cookie
    else:
        expected = cookie.format(port=lab.port)
        assert any(
            n == expected or (expected.endswith("_") and n.startswith(expected)) for n in names
        )
        assert any(n.startswith("APSCOOKIE_") for n in names) and status == 200


def test_idle_sessions_expire(make_lab):
    lab = make_lab(admins={"admin": "pw"}, session_ttl=0.3)
    with client(lab, None) as anonymous:
        login = {"username": "admin", "secretkey": "pw", "request_key": True}
        key = anonymous.post("/api/v2/authentication", json=login).json()["session_key"]
    with client(lab, key) as session:
        assert session.get("/api/v2/monitor/system/status").status_code == 200
        time.sleep(0.5)
        assert session.get("/api/v2/monitor/system/status").status_code == 401


def test_failed_logins_lock_the_address_out_then_recover(make_lab):
    lab = make_lab(admins={"admin": "pw"}, login_lockout=3, lockout_seconds=0.5)
    with client(lab, None) as anonymous:
        login = {"username": "admin", "secretkey": "wrong"}
        for _ in range(3):
            assert anonymous.post("/api/v2/authentication", json=login).status_code == 200
        good = {"username": "admin", "secretkey": "pw"}
        assert anonymous.post("/api/v2/authentication", json=good).status_code == 429
        assert anonymous.post("/logincheck", data=good).status_code == 429
        time.sleep(0.6)
        assert anonymous.post("/api/v2/authentication", json=good).json()["status_code"] == 5


def test_post_login_banner_holds_logincheck_sessions_until_confirmed(make_lab):
    state = sample_state()
    state["global"]["system/global"]["post-login-banner"] = "enable"
    with client(make_lab(state, admins={"admin": "pw"}, profile="6.4"), None) as session:
        answer = session.post("/logincheck", data={"username": "admin", "secretkey": "pw"})
        assert "/logindisclaimer" in answer.text
        assert session.get("/api/v2/monitor/system/status").status_code == 401
        csrf = session.cookies["ccsrftoken"].strip('"')
        session.post("/logindisclaimer", data={"confirm": "1"}, headers={"X-CSRFTOKEN": csrf})
        assert session.get("/api/v2/monitor/system/status").status_code == 200


# -- faults, request log, state ---------------------------------------------------------------


def test_faults(fgt, ro):
    url = "/api/v2/cmdb/firewall/policy"
    fgt.faults.add(Fault(match=url, kind="status", status=500, times=1))
    assert ro.get(url).status_code == 500
    assert ro.get(url).status_code == 200  # times=1: only once
    fgt.faults.add(Fault(match="/api/v2/cmdb/*/policy", kind="html", status=502, times=1))
    html = ro.get(url)
    assert html.status_code == 502 and html.headers["content-type"].startswith("text/html")
    fgt.faults.add(Fault(match=url, kind="malformed", times=1))
    with pytest.raises(json.JSONDecodeError):
        ro.get(url).json()
    fgt.faults.add(Fault(match=url, kind="drop", times=1))
    with pytest.raises(httpx.TransportError):
        ro.get(url)
    fgt.faults.add(Fault(match=url, kind="latency", seconds=0.3, times=None))
    started = time.monotonic()
    assert ro.get(url).status_code == 200
    assert time.monotonic() - started >= 0.3
    fgt.faults.clear()
    started = time.monotonic()
    ro.get(url)
    assert time.monotonic() - started < 0.3
    assert [r.status for r in fgt.requests if r.path == url][-7:] == [
        500,
        200,
        502,
        200,
        0,
        200,
        200,
    ]


def test_request_log_never_holds_a_secret(fgt):
    with client(fgt, CANARY) as canary:
        assert canary.get("/api/v2/cmdb/system/global").status_code == 200
    with client(fgt, None) as anonymous:
        anonymous.get("/api/v2/monitor/system/status", params={"access_token": CANARY})
        anonymous.post("/logincheck", data={"username": "admin", "secretkey": ADMIN_PW})
        anonymous.post("/api/v2/authentication", json={"username": "admin", "secretkey": ADMIN_PW})
        anonymous.get("/api/v2/monitor/system/status")  # with the session cookies
    logged = repr(fgt.requests)
    assert CANARY not in logged
    assert any(r.headers.get("authorization") == "Bearer ***" for r in fgt.requests)
    assert any(r.query.get("access_token") == "***" for r in fgt.requests)
    assert any("APSCOOKIE_" in r.headers.get("cookie", "") for r in fgt.requests)


def test_live_state_round_trips_through_the_state_format(fgt, rw):
    rw.post("/api/v2/cmdb/firewall/address", json={"name": "rt1", "comment": "round trip"})
    rw.put("/api/v2/cmdb/system/admin/auditor", json={"password": "n3w-" + CANARY})
    dumped = fgt.state.to_dict()
    assert load_state(dumped).to_dict() == dumped
    assert any(row["name"] == "rt1" for row in dumped["vdoms"]["root"]["firewall/address"])
    assert CANARY not in json.dumps(dumped)  # a written password is stored sealed
    rw.delete("/api/v2/cmdb/firewall/address/rt1")


def test_many_emulators_run_side_by_side_and_release_their_ports(cert_dir):
    labs = [
        FortigateLab(sample_state(), tokens={RO: None}, cert_dir=cert_dir).start() for _ in range(8)
    ]
    try:
        for lab in labs:
            with client(lab) as c:
                assert c.get("/api/v2/monitor/system/status").status_code == 200
    finally:
        for lab in labs:
            lab.stop()
    assert len({lab.ca_path.read_bytes() for lab in labs}) == 1  # one CA, reused
    for lab in labs:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", lab.port))  # free again


@pytest.mark.parametrize("name", ["hardened", "small-office"])
def test_every_path_of_the_shipped_states_is_served(make_lab, name):
    from baluarte.lab.fortigate.shipped import shipped_state

    state = shipped_state(name)
    with client(make_lab(state, tokens={RO: None})) as c:  # a super-admin token reads it all
        for path in [*state["global"], *state["vdoms"]["root"]]:
            assert c.get(f"/api/v2/cmdb/{path}", params={"vdom": "root"}).status_code == 200, path
        for path in state["monitor"]:
            assert c.get(f"/api/v2/monitor/{path}").json()["results"] == state["monitor"][path]
        backup = c.post("/api/v2/monitor/system/config/backup", json={"scope": "global"})
        assert backup.status_code == 200 and backup.text.startswith("#config-version=FGT60F-")


# -- the command --------------------------------------------------------------------------------


def test_cli_serves_until_sigterm(tmp_path, cert_dir):
    state = tmp_path / "fw.json"
    state.write_text(json.dumps(sample_state()))
    env = {**os.environ, "LAB_TOKEN": RO}
    proc = subprocess.Popen(
        [str(BIN), "lab", "serve", "fortigate", "--state", str(state), "--token-env",
         "LAB_TOKEN:baluarte-ro", "--cert-dir", str(cert_dir), "--profile", "7.6"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = proc.stdout.readline().strip()
        ca = proc.stdout.readline().strip()
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+", url) and ca == str(cert_dir / "ca.pem")
        context = ssl.create_default_context(cafile=ca)
        answer = httpx.get(f"{url}/api/v2/monitor/system/status", verify=context,
                           headers={"Authorization": f"Bearer {RO}"})  # fmt: skip
        assert answer.json()["results"]["hostname"] == "fgt-acme-hq"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert RO not in proc.stdout.read() + proc.stderr.read()


def test_cli_rejects_a_broken_state_file_with_exit_2(tmp_path):
    state = tmp_path / "broken.json"
    state.write_text('{"version": "v7.4.5", "build": 2702, "serial": "X", "vdoms": []}')
    done = subprocess.run(
        [str(BIN), "lab", "serve", "fortigate", "--state", str(state)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "vdoms must be an object" in lines[0]
