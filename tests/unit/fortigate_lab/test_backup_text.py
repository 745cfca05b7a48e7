"""The configuration backup text rendered from a state (deterministic, CLI-shaped, no secrets)."""

from baluarte.lab.fortigate.backup import Revisions, config_text, header
from baluarte.lab.fortigate.state import load_state
from tests.unit.fortigate_lab.sample_state import sample_state


def block(text: str, start: str) -> list[str]:
    lines = text.splitlines()
    first = lines.index(start)
    end = next(i for i in range(first, len(lines)) if lines[i] == "end")
    return lines[first : end + 1]


def test_header_names_model_version_build_and_user():
    state = load_state(sample_state())
    assert header(state, "api-ro") == (
        "#config-version=FGT60F-7.04-FW-build2702-230615:opmode=0:vdom=0:user=api-ro"
    )
    older = load_state({**sample_state(), "version": "v6.4.14", "build": 2093})
    assert header(older, "admin").startswith("#config-version=FGT60F-6.04-FW-build2093-20")


def test_the_same_state_renders_the_same_bytes():
    state = load_state(sample_state())
    assert config_text(state, user="a") == config_text(state, user="a")


def test_tables_singletons_members_and_nested_objects():
    text = config_text(load_state(sample_state()), user="admin")
    assert block(text, "config firewall addrgrp") == [
        "config firewall addrgrp",
        '    edit "grp-lan"',
        '        set member "lan-net"',
        "        set color 0",
        "    next",
        "end",
    ]
    policy = block(text, "config firewall policy")
    assert "    edit 1" in policy and '        set srcaddr "lan-net"' in policy
    assert "        set action accept" in policy  # enums unquoted, names quoted
    av = block(text, "config antivirus profile")
    assert av[3:7] == ["        config http", "            set av-scan block",
                       "            set outbreak-prevention block", "        end"]  # fmt: skip
    assert "    set admin-https-ssl-versions tlsv1-2 tlsv1-3" in text
    assert "        set trusthost1 127.0.0.0 255.0.0.0" in text


def test_child_tables_and_secrets():
    text = config_text(load_state(sample_state()), user="admin")
    ha = block(text, "config system ha")
    assert "    config ha-mgmt-interfaces" in ha and "        edit 1" in ha
    assert "    set password ENC c2VhbGVkLWhh" in ha  # stored secrets as they are
    state = load_state(sample_state())
    state.cmdb.global_["system/ha"]["password"] = "plain-text-secret"
    assert "plain-text-secret" not in config_text(state, user="admin")


def test_multi_vdom_layout_and_vdom_scope():
    data = sample_state()
    data["vdoms"]["dmz"] = {"firewall/address": [{"name": "d1", "q_origin_key": "d1"}]}
    state = load_state(data)
    text = config_text(state, user="admin")
    assert ":vdom=1:" in text.splitlines()[0]
    lines = text.splitlines()
    assert lines[4:10] == ["config vdom", "edit root", "next", "edit dmz", "next", "end"]
    assert "config global" in lines and lines.count("config vdom") == 3
    one = config_text(state, user="admin", scope="vdom", vdom="dmz")
    assert 'edit "d1"' in one and "config system global" not in one and "lan-net" not in one


def test_revisions_keep_their_text():
    state = load_state(sample_state())
    revisions = Revisions()
    first = revisions.save(state, "admin", "before")
    second = revisions.save(state, "admin", "after")
    assert (first.id, second.id) == (1, 2)
    assert revisions.get(1).text == config_text(state, user="admin")
    assert revisions.delete([1]) == 1 and [r.id for r in revisions.all()] == [2]
    assert revisions.save(state, "admin", "again").id == 3
