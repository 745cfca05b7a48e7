import pytest

from baluarte.inventory import load_inventory

from ._helpers import BAD, ROOT, input_errors, only_error


def load(name):
    return load_inventory([BAD / name])


def test_example_inventory_loads():
    inv = load_inventory([ROOT / "inventory"])
    (ref,) = inv.devices()
    assert (ref.client_name, ref.site_name, ref.name, ref.platform) == (
        "demo",
        "local",
        "this-machine",
        "linux",
    )
    assert ref.client.legal_name == "Demo Asesores S.L."
    assert ref.tags == ("server", "demo")
    assert ref.device.is_local and ref.device.port == 22
    assert [p.name for p, _ in inv.files] == ["example.yaml"]
    assert len(inv.sha256) == 64


def test_unknown_key_suggests_the_close_one_and_lists_allowed():
    errors = input_errors(lambda: load("unknown_key_adress.yaml"))
    unknown = next(e for e in errors if e.code == "unknown_key")
    assert (unknown.line, unknown.column) == (9, 13)
    assert unknown.key == "clients[0].sites[0].devices[0].adress"
    assert "unknown key 'adress'; did you mean 'address'?" in unknown.message
    assert "platform" in (unknown.allowed or "")
    missing = next(e for e in errors if e.code == "missing_key")
    assert missing.key == "clients[0].sites[0].devices[0].address"
    assert len(errors) == 2


def test_wrong_type_names_expected_and_found():
    err = only_error(lambda: load("wrong_type_port.yaml"))
    assert (err.code, err.line, err.column) == ("wrong_type", 10, 13)
    assert err.key == "clients[0].sites[0].devices[0].port"
    assert "expected a whole number, found 'ssh'" in err.message


def test_wrong_enum_value_lists_the_choices():
    err = only_error(lambda: load("wrong_enum_platform.yaml"))
    assert (err.code, err.line, err.column) == ("wrong_value", 11, 13)
    assert err.key == "clients[0].sites[0].devices[1].platform"
    assert err.allowed == "linux, windows, fortigate"
    assert "did you mean 'linux'?" in err.message


def test_duplicate_device_names_within_a_client_point_at_the_second():
    err = only_error(lambda: load("duplicate_device_names.yaml"))
    assert (err.code, err.line, err.column) == ("duplicate_name", 12, 13)
    assert err.key == "clients[0].sites[1].devices[0].name"
    assert "first at line 7" in err.message


def test_same_client_in_two_files_is_a_duplicate(tmp_path):
    text = (ROOT / "inventory" / "example.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    err = only_error(lambda: load_inventory([tmp_path]))
    assert (err.code, err.file, err.line, err.key) == (
        "duplicate_name",
        str(tmp_path / "b.yaml"),
        6,
        "clients[0].name",
    )
    assert str(tmp_path / "a.yaml") in err.message


def test_literal_secret_is_refused_and_never_shown():
    err = only_error(lambda: load("literal_secret.yaml"))
    assert (err.code, err.line, err.column) == ("literal_secret", 11, 15)
    assert err.key == "clients[0].sites[0].devices[0].fortios.token"
    assert "Sup3rS3cretT0ken" not in str(err)
    assert 'use "env:ACME_FW_TOKEN", "file:/path/to/secret" or "keyring:service/user"' in str(err)


def test_secret_with_wrong_type_is_not_echoed(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text(
        "clients:\n- name: a\n  legal_name: A\n  sites:\n  - name: s\n    devices:\n"
        "    - {name: w, platform: windows, address: h, winrm: {user: u, password: 987654}}\n"
    )
    err = only_error(lambda: load_inventory([f]))
    assert err.code == "literal_secret"
    assert "987654" not in str(err)


def test_ports_default_by_platform(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text(
        "clients:\n- name: a\n  legal_name: A\n  sites:\n  - name: s\n    devices:\n"
        "    - {name: l, platform: linux, address: h1, ssh: {port: 2222}}\n"
        "    - {name: w, platform: windows, address: h2, winrm: {user: u, password: 'env:P'}}\n"
        "    - {name: f, platform: fortigate, address: h3, fortios: {token: 'env:T'}}\n"
    )
    ports = {r.name: r.device.port for r in load_inventory([f]).devices()}
    assert ports == {"l": 2222, "w": 5986, "f": 443}


def test_settings_must_fit_the_platform(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text(
        "clients:\n- name: a\n  legal_name: A\n  sites:\n  - name: s\n    devices:\n"
        "    - name: l\n      platform: linux\n      address: h1\n"
        "      winrm: {user: u, password: 'env:P'}\n"
    )
    err = only_error(lambda: load_inventory([f]))
    assert (err.code, err.line, err.key) == (
        "platform_mismatch",
        7,
        "clients[0].sites[0].devices[0]",
    )


@pytest.fixture
def inventory(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text(
        "clients:\n"
        "- name: acme\n  legal_name: ACME\n  sites:\n"
        "  - name: hq\n    devices:\n"
        "    - {name: srv1, platform: linux, address: h1, tags: [server, pd]}\n"
        "    - {name: srv2, platform: linux, address: h2, tags: [server]}\n"
        "  - name: branch\n    devices:\n"
        "    - {name: pc1, platform: linux, address: h3, tags: [pd]}\n"
        "- name: beta\n  legal_name: Beta\n  sites:\n"
        "  - name: hq\n    devices:\n"
        "    - {name: srv1, platform: linux, address: h4}\n"
    )
    return load_inventory([f])


def test_select_by_every_selector(inventory):
    names = lambda refs: [f"{r.client_name}/{r.name}" for r in refs]  # noqa: E731
    assert names(inventory.select(client="acme", site="hq")) == ["acme/srv1", "acme/srv2"]
    assert names(inventory.select(device="srv1")) == ["acme/srv1", "beta/srv1"]
    assert names(inventory.select(tags=["server", "pd"])) == ["acme/srv1"]
    assert names(inventory.select(client="beta", tags=["pd"])) == []


@pytest.mark.parametrize(
    ("selector", "hint"),
    [
        ({"client": "acmee"}, "did you mean 'acme'?"),
        ({"client": "beta", "site": "branch"}, ""),
        ({"device": "srv3"}, "did you mean"),
        ({"tags": ["servr"]}, "did you mean 'server'?"),
    ],
)
def test_select_unknown_names_are_errors(inventory, selector, hint):
    err = only_error(lambda: inventory.select(**selector))
    assert err.code == "unknown_reference"
    assert hint in err.message
    assert err.allowed
