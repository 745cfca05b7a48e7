"""State files: what load_state accepts, the clear errors for what it does not, round trips."""

import json

import pytest

from baluarte.errors import LabError
from baluarte.lab.fortigate.state import load_state, present_secret, seal
from tests.unit.fortigate_lab.sample_state import sample_state


def test_a_state_round_trips_through_to_dict(tmp_path):
    path = tmp_path / "fw.json"
    path.write_text(json.dumps(sample_state()))
    state = load_state(path)
    assert state.to_dict() == sample_state()
    assert load_state(state.to_dict()).to_dict() == sample_state()


def test_optional_parts_default_sensibly():
    state = load_state({"version": "v7.2.8", "build": 1639, "serial": "FGT60FTK24009999"})
    assert state.vdom_names == ["root"] and state.management_vdom == "root"
    assert state.hostname == "FGT60FTK24009999" and state.model_name == "FGT60F"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": "7.4.5"}, "version must look like 'v7.4.5'"),
        ({"build": "2702"}, "build must be a non-negative integer"),
        ({"serial": ""}, "serial must be a non-empty string"),
        ({"extra": 1}, "unknown key 'extra'"),
        ({"vdoms": {}}, "vdoms must be an object with at least one VDOM"),
        ({"global": {"system/global": "x"}}, "results must be a list of rows or an object"),
        ({"global": {"firewall": []}}, "is not a cmdb path"),
        ({"vdoms": {"root": {"firewall/policy": [1]}}}, "every row of a table must be an object"),
        ({"monitor": []}, "monitor must be an object"),
        ({"hostname": 5}, "hostname must be a string"),
    ],
)
def test_bad_states_are_refused_with_a_reason(change, message):
    state = {**sample_state(), **change}
    with pytest.raises(LabError, match=message):
        load_state(state)


def test_a_missing_key_is_named():
    state = sample_state()
    del state["serial"]
    with pytest.raises(LabError, match="missing key 'serial'"):
        load_state(state)


def test_unreadable_files_give_one_line_reasons(tmp_path):
    with pytest.raises(LabError, match="state file not found"):
        load_state(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": ')
    with pytest.raises(LabError, match=r"not valid JSON \(.* line 1 column 13\)"):
        load_state(broken)


def test_paths_unknown_to_the_schema_are_inferred_from_the_state():
    state = sample_state()
    state["vdoms"]["root"]["router/bgp"] = {"as": 65001}
    state["vdoms"]["root"]["user/radius"] = [{"name": "r1", "q_origin_key": "r1"}]
    state["global"]["system/sso-admin"] = [{"id": 7, "q_origin_key": 7, "name": "x"}]
    cmdb = load_state(state).cmdb
    bgp, radius, sso = (cmdb.schema(p) for p in ("router/bgp", "user/radius", "system/sso-admin"))
    assert bgp is not None and not bgp.table and not bgp.known
    assert radius is not None and (radius.mkey, radius.scope) == ("name", "vdom")
    assert sso is not None and (sso.mkey, sso.mkey_type, sso.scope) == ("id", "integer", "global")
    assert cmdb.schema("not/there") is None


def test_secrets_are_sealed_for_storage_and_fresh_when_shown():
    assert seal("hunter2").startswith("ENC ") and "hunter2" not in seal("hunter2")
    assert seal("hunter2") == seal("hunter2")
    assert seal("ENC abc") == "ENC abc"
    assert present_secret() != present_secret()
