from datetime import date

import pytest

from baluarte.inventory import load_inventory
from baluarte.waivers import load_waivers

from ._helpers import BAD, ROOT, only_error


def test_shipped_waivers_load_and_cover_the_demo_device():
    ws = load_waivers(ROOT / "policies" / "waivers.yaml")
    (ref,) = load_inventory([ROOT / "inventory"]).devices()
    (waiver,) = ws.waivers
    assert waiver.expires.year == 2027
    assert ws.match(waiver.control, ref, on=date(2026, 12, 1)) is waiver
    assert ws.files[0][0].name == "waivers.yaml"


def test_none_means_no_waivers_but_a_named_file_must_exist(tmp_path):
    assert load_waivers(None).waivers == ()
    assert only_error(lambda: load_waivers(tmp_path / "waivers.yaml")).code == "missing_file"


def test_waiver_without_expiry():
    err = only_error(lambda: load_waivers(BAD / "waiver_without_expiry.yaml"))
    assert (err.code, err.line, err.column, err.key) == ("missing_key", 2, 5, "waivers[0].expires")
    assert "YYYY-MM-DD" in err.message


def test_waiver_for_unknown_control():
    err = only_error(lambda: load_waivers(BAD / "waiver_unknown_control.yaml"))
    assert (err.code, err.line, err.column, err.key) == (
        "unknown_control",
        2,
        5,
        "waivers[0].control",
    )
    assert "did you mean 'patching.reboot_required'?" in err.message


@pytest.fixture
def refs(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text(
        "clients:\n- name: acme\n  legal_name: ACME\n  sites:\n  - name: hq\n    devices:\n"
        "    - {name: srv1, platform: linux, address: h1, tags: [server, pd]}\n"
        "    - {name: srv2, platform: linux, address: h2, tags: [server]}\n"
    )
    return {r.name: r for r in load_inventory([f]).devices()}


def write_waivers(tmp_path, body):
    f = tmp_path / "waivers.yaml"
    f.write_text("waivers:\n" + body)
    return load_waivers(f)


COMMON = "    reason: r\n    approved_by: a\n"


def test_match_by_control_and_selectors(tmp_path, refs):
    ws = write_waivers(
        tmp_path,
        (
            "  - control: firewall.enabled\n    client: acme\n    tags: [pd]\n"
            + COMMON
            + "    expires: 2027-01-31\n"
        ),
    )
    on = date(2027, 1, 1)
    assert ws.match("firewall.enabled", refs["srv1"], on=on) is not None
    assert ws.match("firewall.enabled", refs["srv2"], on=on) is None  # lacks tag pd
    assert ws.match("endpoint.running", refs["srv1"], on=on) is None


def test_expiry_day_still_applies_and_the_next_does_not(tmp_path, refs):
    ws = write_waivers(
        tmp_path,
        (
            "  - control: firewall.enabled\n    devices: [srv1]\n"
            + COMMON
            + "    ticket: T-1\n    expires: 2027-01-31\n"
        ),
    )
    w = ws.match("firewall.enabled", refs["srv1"], on=date(2027, 2, 1))
    assert w is not None  # an expired match is returned so the finding can say so
    assert not w.expired(date(2027, 1, 31)) and w.expired(date(2027, 2, 1))
    ref = w.to_ref(date(2027, 2, 1))
    assert (ref.expired, ref.ticket, ref.expires) == (True, "T-1", date(2027, 1, 31))


def test_an_unexpired_waiver_is_preferred(tmp_path, refs):
    ws = write_waivers(
        tmp_path,
        (
            "  - control: firewall.enabled\n    devices: [srv1]\n"
            + COMMON
            + "    expires: 2026-01-31\n"
            "  - control: firewall.enabled\n    client: acme\n"
            + COMMON
            + "    expires: 2027-06-30\n"
            "  - control: firewall.enabled\n    site: hq\n" + COMMON + "    expires: 2025-06-30\n"
        ),
    )
    w = ws.match("firewall.enabled", refs["srv1"], on=date(2026, 6, 1))
    assert w is not None and w.expires == date(2027, 6, 30)
    late = ws.match("firewall.enabled", refs["srv1"], on=date(2028, 1, 1))
    assert late is not None and late.expires == date(2027, 6, 30)  # latest of the expired


def test_waiver_must_select_devices(tmp_path):
    f = tmp_path / "waivers.yaml"
    f.write_text("waivers:\n  - control: firewall.enabled\n" + COMMON + "    expires: 2027-01-31\n")
    err = only_error(lambda: load_waivers(f))
    assert (err.code, err.line, err.key) == ("missing_key", 2, "waivers[0]")
