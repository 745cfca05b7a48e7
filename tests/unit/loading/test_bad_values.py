"""Values that used to escape as tracebacks or be silently misread: each is an InputError at its
file:line:column (issue 12, class 7)."""

from __future__ import annotations

import os
import resource
import textwrap
import time
from pathlib import Path

import pytest

from baluarte.engine import load_inputs
from baluarte.inventory import MAX_INVENTORY_BYTES, load_inventory
from baluarte.policy import load_policies
from baluarte.waivers import load_waivers
from baluarte.yamlsource import MAX_YAML_BYTES, load_yaml

from ._helpers import input_errors, only_error

INVENTORY = textwrap.dedent("""\
    clients:
      - name: acme
        legal_name: ACME
        sites:
          - name: madrid-hq
            devices:
              - {name: srv-files, platform: linux, address: h1, tags: [server]}
              - {name: srv-mail, platform: linux, address: h2}
          - name: valencia
            devices:
              - {name: pc-recepcion, platform: linux, address: h3}
      - name: beta
        legal_name: Beta
        sites:
          - name: hq
            devices:
              - {name: fw, platform: linux, address: h4}
    """)
POLICY = 'id: p\nversion: "1"\ntitle: t\n'
WAIVER = "  - control: patching.reboot_required\n    reason: r\n    approved_by: a\n"


def inputs(tmp_path, waivers: str) -> list:
    (tmp_path / "inv.yaml").write_text(INVENTORY)
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "w.yaml").write_text("waivers:\n" + waivers)
    return input_errors(
        lambda: load_inputs([tmp_path / "inv.yaml"], tmp_path / "p.yaml", tmp_path / "w.yaml")
    )


# -- impossible calendar dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2026-02-30", "day is out of range for month"),
        ("0000-01-01", "year 0 is out of range"),
        ("2026-13-01", "month must be in 1..12"),
        ("2026-02-29 10:00:00", "day is out of range for month"),
        ("2026-01-01T25:00:00Z", "hour must be in 0..23"),
    ],
)
def test_an_impossible_date_in_a_waiver_is_an_error_at_its_position(tmp_path, value, why):
    f = tmp_path / "w.yaml"
    f.write_text(f"waivers:\n{WAIVER}    client: acme\n    expires: {value}\n")
    err = only_error(lambda: load_waivers(f))
    assert (err.code, err.file, err.line, err.column) == ("impossible_date", str(f), 6, 14)
    assert err.key == "waivers[0].expires"
    assert f"'{value}' is not a date the calendar has ({why})" in err.message
    assert "YYYY-MM-DD" in (err.allowed or "")


def test_an_impossible_date_anywhere_is_found_where_it_is(tmp_path):
    # not a date field at all: a device tag, a policy description, a key, a list item
    f = tmp_path / "inv.yaml"
    f.write_text(INVENTORY.replace("tags: [server]", "tags: [server, 2026-02-30]"))
    err = only_error(lambda: load_inventory([f]))
    assert (err.code, err.line, err.column) == ("impossible_date", 7, 76)
    assert err.key == "clients[0].sites[0].devices[0].tags[1]"
    p = tmp_path / "p.yaml"
    p.write_text(POLICY + "description: 0000-01-01\n")
    err = only_error(lambda: load_policies(p))
    assert (err.code, err.line, err.column, err.key) == ("impossible_date", 4, 14, "description")
    k = tmp_path / "k.yaml"
    k.write_text("2026-02-31: x\n")
    assert only_error(lambda: load_yaml(k)).code == "impossible_date"


def test_a_quoted_impossible_date_is_text_and_a_real_date_still_loads(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("a: '2026-02-30'\nb: 2028-02-29\n")
    doc = load_yaml(f)
    assert doc.data["a"] == "2026-02-30" and doc.data["b"].day == 29


# -- booleans where numbers are expected -----------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "kind"),
    [
        ("access:\n  admin_session_timeout: {max_minutes: true}\n", "max_minutes", "whole number"),
        ("patching:\n  security_updates_pending: {max: false}\n", "max", "whole number"),
        ("logging:\n  time_sync: {max_offset_seconds: true}\n", "max_offset_seconds", "number"),
        ("backup:\n  last_success_age: {max_hours: true}\n", "max_hours", "whole number"),
        ("firewall:\n  allowed_inbound: {services: [{port: true}]}\n", "port", "whole number"),
    ],
)
def test_a_boolean_where_a_policy_wants_a_number_is_refused(tmp_path, section, key, kind):
    f = tmp_path / "p.yaml"
    f.write_text(POLICY + section)
    err = only_error(lambda: load_policies(f))
    assert err.code == "wrong_type" and err.key is not None and err.key.endswith(key)
    assert err.line is not None and err.line > 3
    assert f"expected a {kind}, found " in err.message


def test_numbers_and_real_booleans_still_load(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(
        POLICY + "access:\n  admin_session_timeout: {max_minutes: 5, enabled: false}\n"
        "logging:\n  time_sync: {max_offset_seconds: 1, required: true}\n"
    )
    pol = load_policies(f).effective("p")
    assert pol.access is not None and pol.access.admin_session_timeout is not None
    assert pol.access.admin_session_timeout.max_minutes == 5
    assert pol.logging is not None and pol.logging.time_sync is not None
    assert pol.logging.time_sync.max_offset_seconds == 1.0


def test_a_boolean_port_in_the_inventory_is_refused(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text(INVENTORY.replace("address: h2}", "address: h2, port: true}"))
    err = only_error(lambda: load_inventory([f]))
    assert (err.code, err.line, err.key) == ("wrong_type", 8, "clients[0].sites[0].devices[1].port")
    assert "expected a whole number, found true" in err.message


# -- waivers naming what the inventory does not have -----------------------------------------


def test_a_waiver_for_an_unknown_client_says_which_exist(tmp_path):
    (err,) = inputs(tmp_path, WAIVER + "    client: acmee\n    expires: 2027-01-01\n")
    assert (err.code, err.file, err.line, err.column) == (
        "unknown_reference",
        str(tmp_path / "w.yaml"),
        5,
        5,
    )
    assert err.key == "waivers[0].client"
    assert "no client named 'acmee'" in err.message and "did you mean 'acme'?" in err.message
    assert err.allowed == "acme, beta"


def test_a_waiver_site_is_looked_for_in_its_client(tmp_path):
    # 'hq' exists, but in beta: in acme it names nothing
    (err,) = inputs(tmp_path, WAIVER + "    client: acme\n    site: hq\n    expires: 2027-01-01\n")
    assert (err.key, err.line) == ("waivers[0].site", 6)
    assert "no site named 'hq' in the inventory of client 'acme'" in err.message
    assert err.allowed == "madrid-hq, valencia"


def test_each_unknown_device_of_a_waiver_is_named_with_the_closest(tmp_path):
    body = WAIVER + (
        "    client: acme\n    site: madrid-hq\n    devices: [srv-files, srv-flies, pc-recepcion]\n"
        "    expires: 2027-01-01\n"
    )
    errors = inputs(tmp_path, body)
    assert [(e.key, e.line, e.column) for e in errors] == [
        ("waivers[0].devices[1]", 7, 26),
        ("waivers[0].devices[2]", 7, 37),
    ]
    assert "did you mean 'srv-files'?" in errors[0].message
    assert "of site 'madrid-hq' of client 'acme'" in errors[1].message
    assert "the waiver would cover nothing" in errors[1].message


def test_waivers_that_name_real_devices_or_only_tags_load(tmp_path):
    (tmp_path / "inv.yaml").write_text(INVENTORY)
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "w.yaml").write_text(
        "waivers:\n" + WAIVER + "    devices: [fw, srv-mail]\n    expires: 2027-01-01\n"
        + WAIVER + "    tags: [not-yet-used]\n    expires: 2027-01-01\n"
        + WAIVER + "    site: hq\n    expires: 2027-01-01\n"
    )  # fmt: skip
    loaded = load_inputs([tmp_path / "inv.yaml"], tmp_path / "p.yaml", tmp_path / "w.yaml")
    assert len(loaded.waivers.waivers) == 3


# -- size bounds -----------------------------------------------------------------------------


def test_a_yaml_file_over_the_bound_is_refused_unread_and_fast(tmp_path):
    f = tmp_path / "big.yaml"
    with f.open("wb") as out:  # 50 MB, sparse: nothing is written but its size
        out.truncate(50 * 1024 * 1024)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    err = only_error(lambda: load_inventory([f]))
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20 * 1024  # KiB
    assert (err.code, err.file) == ("file_too_large", str(f))
    assert f"({50 * 1024 * 1024:,} bytes)" in err.message and "split it" in err.message


def test_a_file_without_a_size_is_read_no_further_than_the_bound(tmp_path):
    # /dev/zero reports size 0 and never ends
    err = only_error(lambda: load_yaml(Path("/dev/zero")))
    assert err.code == "file_too_large"


def test_inventory_files_together_over_the_bound_are_refused(tmp_path):
    each = MAX_YAML_BYTES - 1
    for i in range(MAX_INVENTORY_BYTES // each + 1):
        with (tmp_path / f"part{i}.yaml").open("wb") as out:
            out.truncate(each)
    err = only_error(lambda: load_inventory([tmp_path]))
    assert (err.code, err.file) == ("file_too_large", str(tmp_path))
    assert "inventory files hold" in err.message


def test_a_file_at_the_bound_is_read(tmp_path):
    f = tmp_path / "x.yaml"
    text = "a: 1\n"
    f.write_text(text + "#" * (MAX_YAML_BYTES - len(text) - 1) + "\n")
    assert os.path.getsize(f) == MAX_YAML_BYTES
    assert load_yaml(f).data == {"a": 1}


def test_nesting_too_deep_for_the_parser_is_an_input_error(tmp_path):
    f = tmp_path / "deep.yaml"
    f.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    err = only_error(lambda: load_yaml(f))
    assert (err.code, err.line) == ("yaml_syntax", 1)
