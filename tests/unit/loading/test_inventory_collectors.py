"""Site collectors in the inventory: declared once, named by a client (default) or a site (wins)."""

import subprocess

from baluarte.inventory import load_inventory
from tests.integration.cli import BIN

from ._helpers import input_errors, only_error

DEVICE = "{name: %s, platform: linux, address: 10.0.0.%d}"


def write(tmp_path, text, name="inv.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def two_sites(
    client_collector="", site_collector="", collectors="  - name: madrid\n  - name: sur\n"
):
    return (
        f"collectors:\n{collectors}"
        "clients:\n"
        "  - name: acme\n"
        "    legal_name: ACME\n"
        f"{client_collector}"
        "    sites:\n"
        "      - name: hq\n"
        f"        devices: [{DEVICE % ('d1', 1)}]\n"
        "      - name: south\n"
        f"{site_collector}"
        f"        devices: [{DEVICE % ('d2', 2)}]\n"
    )


def collectors_of(path):
    return {r.name: r.collector for r in load_inventory([path]).devices()}


def test_site_collector_overrides_the_client_default(tmp_path):
    path = write(
        tmp_path,
        two_sites("    collector: madrid\n", "        collector: sur\n"),
    )
    assert collectors_of(path) == {"d1": "madrid", "d2": "sur"}
    inv = load_inventory([path])
    assert [c.name for c in inv.collectors] == ["madrid", "sur"]


def test_client_default_applies_to_sites_without_their_own(tmp_path):
    path = write(tmp_path, two_sites("    collector: madrid\n"))
    assert collectors_of(path) == {"d1": "madrid", "d2": "madrid"}


def test_a_device_without_any_collector_is_collected_directly(tmp_path):
    path = write(tmp_path, two_sites(site_collector="        collector: sur\n"))
    assert collectors_of(path) == {"d1": None, "d2": "sur"}
    plain = write(
        tmp_path,
        "clients:\n- name: a\n  legal_name: A\n  sites:\n  - name: s\n"
        f"    devices: [{DEVICE % ('d', 1)}]\n",
        "plain.yaml",
    )
    inv = load_inventory([plain])
    assert inv.collectors == ()
    assert [r.collector for r in inv.devices()] == [None]


def test_unknown_collector_names_file_line_column_and_the_declared_names(tmp_path):
    path = write(tmp_path, two_sites(site_collector="        collector: madird\n"))
    err = only_error(lambda: load_inventory([path]))
    assert (err.code, err.file, err.line, err.column) == ("unknown_reference", str(path), 11, 9)
    assert err.key == "clients[0].sites[1].collector"
    assert err.allowed == "madrid, sur"
    assert str(err).startswith(f"{path}:11:9: clients[0].sites[1].collector: no collector named")
    assert "did you mean 'madrid'?" in err.message


def test_unknown_client_collector_with_none_declared_says_how_to_declare(tmp_path):
    path = write(
        tmp_path,
        "clients:\n- name: a\n  legal_name: A\n  collector: madrid\n  sites:\n  - name: s\n",
    )
    err = only_error(lambda: load_inventory([path]))
    assert (err.code, err.line, err.column, err.key) == (
        "unknown_reference",
        4,
        3,
        "clients[0].collector",
    )
    assert "top-level 'collectors:'" in (err.allowed or "")


def test_collectors_declared_in_another_file_are_known(tmp_path):
    write(
        tmp_path,
        "collectors:\n- name: madrid\nclients:\n- {name: b, legal_name: B, sites: [{name: s}]}\n",
        "a.yaml",
    )
    write(
        tmp_path,
        "clients:\n- name: a\n  legal_name: A\n  collector: madrid\n  sites:\n  - name: s\n"
        f"    devices: [{DEVICE % ('d', 1)}]\n",
        "b.yaml",
    )
    inv = load_inventory([tmp_path])
    assert [r.collector for r in inv.devices()] == ["madrid"]


def test_a_file_may_declare_collectors_alone_but_not_nothing(tmp_path):
    write(tmp_path, "collectors:\n- name: madrid\n", "collectors.yaml")
    write(
        tmp_path,
        f"clients:\n- name: a\n  legal_name: A\n  collector: madrid\n  sites:\n  - name: s\n"
        f"    devices: [{DEVICE % ('d', 1)}]\n",
        "b.yaml",
    )
    inv = load_inventory([tmp_path])
    assert [c.name for c in inv.collectors] == ["madrid"]
    assert [r.collector for r in inv.devices()] == ["madrid"]
    for empty in ("clients: []\n", "collectors: []\n"):
        path = write(tmp_path, empty, "empty.yaml")
        err = only_error(lambda path=path: load_inventory([path]))
        assert err.code == "missing_key" and "at least one entry is needed in clients" in str(err)


def test_duplicate_collector_names_point_at_the_second_even_across_files(tmp_path):
    path = write(tmp_path, two_sites(collectors="  - name: madrid\n  - name: madrid\n"))
    err = only_error(lambda: load_inventory([path]))
    assert (err.code, err.line, err.column, err.key) == (
        "duplicate_name",
        3,
        5,
        "collectors[1].name",
    )
    assert "collector name 'madrid' is already used (first at line 2)" in err.message
    other = write(
        tmp_path,
        "collectors: [{name: madrid}]\nclients: [{name: z, legal_name: Z, sites: [{name: s}]}]\n",
        "other.yaml",
    )
    errors = input_errors(lambda: load_inventory([tmp_path]))
    assert any(e.file == str(other) and f"{tmp_path / 'inv.yaml'}:2" in e.message for e in errors)


def test_bad_collector_names_are_refused_where_written(tmp_path):
    for bad, line in (("Madrid", 2), ("-x", 2), ("a" * 64, 2), ("a.b", 2)):
        path = write(tmp_path, two_sites(collectors=f"  - name: '{bad}'\n"))
        errors = input_errors(lambda p=path: load_inventory([p]))
        first = errors[0]
        assert (first.code, first.line, first.key) == ("wrong_value", line, "collectors[0].name")
        assert "not a valid collector name" in first.message
    path = write(tmp_path, two_sites("    collector: 'A B'\n"))
    err = input_errors(lambda: load_inventory([path]))[0]
    assert (err.code, err.key) == ("wrong_value", "clients[0].collector")


def test_unknown_keys_of_a_collector_list_the_allowed(tmp_path):
    path = write(tmp_path, two_sites(collectors="  - name: madrid\n    queue: x\n"))
    err = only_error(lambda: load_inventory([path]))
    assert (err.code, err.key) == ("unknown_key", "collectors[0].queue")
    assert "description" in (err.allowed or "") and "name" in (err.allowed or "")


def test_the_command_exits_2_with_the_place_and_no_traceback(tmp_path):
    path = write(tmp_path, two_sites(site_collector="        collector: nowhere\n"))
    result = subprocess.run(
        [str(BIN), "validate", "--inventory", str(path), "--policies", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert (
        f"{path}:11:9: clients[0].sites[1].collector: no collector named 'nowhere'" in result.stderr
    )
    assert "(allowed: madrid, sur)" in result.stderr
    assert "Traceback" not in result.stderr
