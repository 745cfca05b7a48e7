import pytest

from baluarte.inventory import load_inventory
from baluarte.policy import load_policies

from ._helpers import BAD, ROOT, input_errors, only_error


def write(directory, name, text):
    (directory / name).write_text(text)


@pytest.fixture
def fleet(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text(
        "clients:\n"
        "- name: acme\n  legal_name: ACME\n  sites:\n  - name: hq\n    devices:\n"
        "    - {name: srv1, platform: linux, address: h1, tags: [server, pd]}\n"
        "    - {name: pc1, platform: windows, address: h2, tags: [pd],"
        " winrm: {user: u, password: 'env:P'}}\n"
        "- name: beta\n  legal_name: Beta\n  sites:\n  - name: hq\n    devices:\n"
        "    - {name: srv1, platform: linux, address: h3, tags: [server]}\n"
    )
    return {f"{r.client_name}/{r.name}": r for r in load_inventory([f]).devices()}


@pytest.mark.parametrize("platform", ["linux", "windows", "fortigate"])
def test_shipped_baseline_loads_and_sets_every_control_of_its_platform(platform):
    from baluarte.controls import catalogue

    policies = load_policies(ROOT / "policies")
    assert sorted(p.id for p in policies.policies) == [
        "fortigate-baseline",
        "linux-baseline",
        "windows-baseline",
    ]
    pol = policies.effective(f"{platform}-baseline")
    assert pol.version == "2026.11" and pol.applies_to.platform == (platform,)
    configured = {f"{d}.{name}" for d, s in pol.sections().items() for name in s.controls()}
    wanted = {cid for cid, c in catalogue().items() if platform in c.platforms}
    assert configured == wanted


def test_extends_merges_control_by_control(tmp_path):
    write(
        tmp_path,
        "base.yaml",
        (
            "id: base\nversion: '1'\ntitle: Base\nabstract: true\napplies_to: {platform: linux}\n"
            "description: shared\n"
            "firewall:\n  enabled: {required: true}\n  default_inbound_deny: {required: true}\n"
            "backup:\n  configured: {tool: restic, paths: [/etc]}\n"
        ),
    )
    write(
        tmp_path,
        "child.yaml",
        (
            "id: child\nversion: '2'\ntitle: Child\nextends: base\n"
            "firewall:\n  enabled: {required: false}\n"
            "endpoint:\n  installed: {product: clamav}\n"
        ),
    )
    write(
        tmp_path,
        "grandchild.yaml",
        (
            "id: grandchild\nversion: '3'\ntitle: Grandchild\nextends: child\n"
            "applies_to: {platform: [linux, windows], tags: [pd]}\n"
            "backup:\n  encrypted: {}\n"
        ),
    )
    ps = load_policies(tmp_path)
    child = ps.effective("child")
    assert child.firewall.enabled.required is False  # the child's own
    assert child.firewall.default_inbound_deny.required is True  # inherited
    assert child.endpoint.installed.product == "clamav"
    assert child.backup.controls().keys() == {"configured"}
    assert child.applies_to.platform == ("linux",) and child.description == "shared"
    grand = ps.effective("grandchild")
    assert set(grand.backup.controls()) == {"configured", "encrypted"}
    assert grand.firewall.enabled.required is False
    assert grand.applies_to.tags == ("pd",)
    assert ps.get("grandchild").firewall is None  # as written, before extends


def test_for_device_matches_applies_to_and_skips_abstract(tmp_path, fleet):
    tmp_path = tmp_path / "policies"
    tmp_path.mkdir()
    write(tmp_path, "base.yaml", "id: base\nversion: '1'\ntitle: B\nabstract: true\n")
    write(
        tmp_path, "linux.yaml", "id: linux\nversion: '1'\ntitle: L\napplies_to: {platform: linux}\n"
    )
    write(
        tmp_path,
        "pd.yaml",
        (
            "id: pd\nversion: '1'\ntitle: P\nextends: base\n"
            "applies_to: {clients: [acme], tags: [pd]}\n"
        ),
    )
    ps = load_policies(tmp_path)
    ids = lambda ref, **kw: [p.id for p in ps.for_device(ref, **kw)]  # noqa: E731
    assert ids(fleet["acme/srv1"]) == ["linux", "pd"]
    assert ids(fleet["acme/pc1"]) == ["pd"]
    assert ids(fleet["beta/srv1"]) == ["linux"]
    assert ids(fleet["beta/srv1"], only="pd") == []
    assert ids(fleet["acme/srv1"], only="linux") == ["linux"]
    err = only_error(lambda: ps.for_device(fleet["acme/srv1"], only="linx"))
    assert err.code == "unknown_reference" and "did you mean 'linux'?" in err.message


def test_unknown_extends_suggests_an_id():
    err = only_error(lambda: load_policies(BAD / "unknown_extends"))
    assert (err.code, err.file, err.line, err.column, err.key) == (
        "unknown_extends",
        str(BAD / "unknown_extends" / "child.yaml"),
        4,
        1,
        "extends",
    )
    assert "did you mean 'linux-base'?" in err.message


def test_extends_cycle_is_named():
    err = only_error(lambda: load_policies(BAD / "extends_cycle"))
    assert (err.code, err.line, err.column, err.key) == ("extends_cycle", 4, 1, "extends")
    assert "policy-a -> policy-b -> policy-a" in err.message


def test_self_extension_is_a_cycle(tmp_path):
    write(tmp_path, "p.yaml", "id: p\nversion: '1'\ntitle: P\nextends: p\n")
    assert only_error(lambda: load_policies(tmp_path)).code == "extends_cycle"


def test_duplicate_policy_ids(tmp_path):
    write(tmp_path, "a.yaml", "id: same\nversion: '1'\ntitle: A\n")
    write(tmp_path, "b.yaml", "id: same\nversion: '1'\ntitle: B\n")
    err = only_error(lambda: load_policies(tmp_path))
    assert (err.code, err.file, err.line, err.column) == (
        "duplicate_name",
        str(tmp_path / "b.yaml"),
        1,
        1,
    )
    assert f"{tmp_path / 'a.yaml'}:1" in err.message


def test_unknown_control_key_in_a_section():
    err = only_error(lambda: load_policies(BAD / "policy_unknown_control_key.yaml"))
    assert (err.code, err.line, err.column) == ("unknown_key", 7, 3)
    assert err.key == "firewall.default_inbound_dney"
    assert "did you mean 'default_inbound_deny'?" in err.message


def test_unquoted_version_is_refused():
    err = only_error(lambda: load_policies(BAD / "policy_unquoted_version.yaml"))
    assert (err.code, err.line, err.column, err.key) == ("wrong_type", 2, 1, "version")
    assert "quote it" in err.message


def test_parameter_out_of_range_and_missing_parameter(tmp_path):
    write(
        tmp_path,
        "p.yaml",
        (
            "id: p\nversion: '1'\ntitle: P\n"
            "patching:\n  days_since_last_update: {max: -1}\n"
            "access:\n  admin_accounts: {}\n"
        ),
    )
    errors = input_errors(lambda: load_policies(tmp_path))
    by_key = {e.key: e for e in errors}
    rng = by_key["patching.days_since_last_update.max"]
    assert (rng.code, rng.line, rng.column) == ("wrong_value", 5, 28)
    missing = by_key["access.admin_accounts.allowed"]
    assert (missing.code, missing.line) == ("missing_key", 7)


def test_waivers_file_is_not_read_as_a_policy(tmp_path):
    write(tmp_path, "p.yaml", "id: p\nversion: '1'\ntitle: P\n")
    write(tmp_path, "waivers.yaml", "waivers: []\n")
    assert [p.id for p in load_policies(tmp_path).policies] == ["p"]
