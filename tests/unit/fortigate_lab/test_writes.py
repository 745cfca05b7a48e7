"""cmdb writes on a configuration tree, without HTTP: validation, references, order, secrets."""

import pytest

from baluarte.lab.fortigate.state import Cmdb, load_state
from baluarte.lab.fortigate.writes import WriteFailure, WriteOp, apply, references_to
from tests.unit.fortigate_lab.sample_state import sample_state


@pytest.fixture
def cmdb() -> Cmdb:
    return load_state(sample_state()).cmdb


def fails(cmdb: Cmdb, op: WriteOp) -> tuple[int, int]:
    with pytest.raises(WriteFailure) as caught:
        apply(cmdb, op)
    return caught.value.status, caught.value.error


def order(cmdb: Cmdb) -> list[int]:
    return [row["policyid"] for row in cmdb.vdoms["root"]["firewall/policy"]]


def test_create_fills_defaults_assigns_ids_and_normalises_members(cmdb):
    data = {"policyid": 0, "srcaddr": ["lan-net"], "dstaddr": [{"name": "all"}]}
    result = apply(cmdb, WriteOp("create", "firewall/policy", "root", data=data))
    assert (result.mkey, result.changed) == (4, True)
    row = cmdb.vdoms["root"]["firewall/policy"][-1]
    assert row["policyid"] == row["q_origin_key"] == 4
    assert row["srcaddr"] == [{"name": "lan-net", "q_origin_key": "lan-net"}]
    assert (row["action"], row["logtraffic"], row["status"]) == ("deny", "utm", "enable")
    assert len(row["uuid"]) == 36


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "lan-net"}, (500, -5)),
        ({"subnet": "192.0.2.9 255.255.255.255"}, (500, -20)),
        ({"name": "n", "type": "nonsense"}, (500, -651)),
        ({"name": "n", "no-such-field": 1}, (500, -651)),
        ({"name": "n", "color": 33}, (500, -651)),
        ({"name": "n", "color": "blue"}, (500, -651)),
        ({"name": "n", "associated-interface": "port9"}, (424, -3)),
    ],
)
def test_create_failures(cmdb, data, expected):
    assert fails(cmdb, WriteOp("create", "firewall/address", "root", data=data)) == expected


def test_multi_value_fields_and_secrets(cmdb):
    apply(cmdb, WriteOp("update", "system/interface", "root", "internal",
                        {"allowaccess": ["ping", "https"]}))  # fmt: skip
    assert cmdb.global_["system/interface"][0]["allowaccess"] == "ping https"
    bad = WriteOp("update", "system/interface", "root", "internal", {"allowaccess": "ping ftp"})
    assert fails(cmdb, bad) == (500, -651)
    apply(cmdb, WriteOp("update", "system/admin", "root", "auditor", {"password": "s3cret!"}))
    stored = cmdb.global_["system/admin"][1]["password"]
    assert stored.startswith("ENC ") and "s3cret" not in stored


def test_update_reports_whether_anything_changed(cmdb):
    op = WriteOp("update", "system/global", "root", None, {"admintimeout": 10})
    assert apply(cmdb, op).changed is False
    op = WriteOp("update", "system/global", "root", None, {"admintimeout": 480})
    assert apply(cmdb, op).changed is True
    assert fails(cmdb, WriteOp("update", "system/global", "root", None, {"admintimeout": 481})) == (
        500, -651,
    )  # fmt: skip
    assert fails(cmdb, WriteOp("update", "firewall/address", "root", "nope", {})) == (404, -3)


def test_moves(cmdb):
    apply(cmdb, WriteOp("move", "firewall/policy", "root", "3", before="1"))
    assert order(cmdb) == [3, 1, 2]
    apply(cmdb, WriteOp("move", "firewall/policy", "root", "3", after="2"))
    assert order(cmdb) == [1, 2, 3]
    assert not apply(cmdb, WriteOp("move", "firewall/policy", "root", "3", after="2")).changed
    both = WriteOp("move", "firewall/policy", "root", "3", before="1", after="2")
    assert fails(cmdb, both) == (500, -651)
    assert fails(cmdb, WriteOp("move", "firewall/policy", "root", "3")) == (500, -651)
    assert fails(cmdb, WriteOp("move", "firewall/policy", "root", "3", before="9")) == (500, -3)
    assert fails(cmdb, WriteOp("move", "firewall/policy", "root", "9", before="1")) == (404, -3)


def test_delete_refuses_objects_in_use_anywhere(cmdb):
    assert sorted(references_to(cmdb, "firewall/address", "root", "lan-net")) == [
        "firewall/addrgrp grp-lan", "firewall/policy 1", "firewall/policy 3",
    ]  # fmt: skip
    assert fails(cmdb, WriteOp("delete", "firewall/address", "root", "lan-net")) == (500, -23)
    # a global object used by per-VDOM policies
    assert fails(cmdb, WriteOp("delete", "system/interface", "root", "wan1")) == (500, -23)
    assert apply(cmdb, WriteOp("delete", "firewall/address", "root", "10.0.0.0/8")).changed
    assert fails(cmdb, WriteOp("delete", "firewall/address", "root", "10.0.0.0/8")) == (404, -3)


def test_clone_gets_a_new_key_and_uuid(cmdb):
    result = apply(cmdb, WriteOp("clone", "firewall/policy", "root", "1", nkey="50"))
    original, clone = (
        cmdb.vdoms["root"]["firewall/policy"][0],
        cmdb.vdoms["root"]["firewall/policy"][-1],
    )
    assert result.mkey == 50 and clone["q_origin_key"] == 50 and clone["name"] == original["name"]
    assert clone["uuid"] != original["uuid"]
    assert fails(cmdb, WriteOp("clone", "firewall/policy", "root", "1", nkey="50")) == (500, -5)


def test_paths_outside_the_schema_take_the_fields_their_rows_have():
    state = sample_state()
    state["vdoms"]["root"]["user/radius"] = [{"name": "r1", "q_origin_key": "r1", "server": "x"}]
    cmdb = load_state(state).cmdb
    apply(cmdb, WriteOp("create", "user/radius", "root", data={"name": "r2", "server": "y"}))
    unknown = WriteOp("create", "user/radius", "root", data={"name": "r3", "secret-ish": 1})
    assert fails(cmdb, unknown) == (500, -651)


def test_singletons_and_table_roots_refuse_the_wrong_write(cmdb):
    assert fails(cmdb, WriteOp("create", "system/global", "root", data={})) == (405, -1)
    assert fails(cmdb, WriteOp("delete", "firewall/address", "root", None)) == (405, -1)
    assert fails(cmdb, WriteOp("create", "no/such", "root", data={})) == (404, -3)
