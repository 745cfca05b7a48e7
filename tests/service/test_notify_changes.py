"""What a client is told after a run: new drift, devices that became unreachable, waivers that
expire soon — worked out from postures alone (no I/O)."""

from __future__ import annotations

from datetime import timedelta

from baluarte.posture import posture_at
from baluarte.service.notify.changes import client_changes
from baluarte.waivers import Waiver, WaiverSet
from tests.service._notify_sample import (
    HOSTILE,
    NOW,
    SCOPE,
    T0,
    T1,
    E,
    F,
    P,
    finding,
    first_run,
    run,
    sample_changes,
    second_run,
    waivers,
)


def test_new_drift_is_a_pass_before_that_fails_now_per_device():
    changes = sample_changes()
    drift = [(d.site, d.device, d.control) for d in changes.new_drift]
    # not firewall.enabled on srv (failed before too), not new-srv (nothing passed before),
    # not pc (an error is no verdict: it is told as unreachable)
    assert drift == [
        ("hq", HOSTILE, "firewall.no_any_any_accept"),
        ("hq", "srv", "access.ssh_root_login"),
        ("hq", "srv", "patching.security_updates_pending"),
    ]
    patch = changes.new_drift[2]
    assert (patch.severity, patch.observed, patch.expected) == (
        "critical",
        "3 pending: <b>openssl</b> & \x07bash",
        "0 pending",
    )
    assert (patch.passed_at, patch.observed_at, patch.run_id) == (T0, T1, 2)
    assert changes.run_id == 2 and changes.at == NOW and not changes.empty


def test_a_device_whose_last_attempt_failed_is_told_unreachable_once():
    changes = sample_changes()
    assert [(u.site, u.device, u.state) for u in changes.unreachable] == [
        ("branch", "pc", "not_verified")
    ]
    pc = changes.unreachable[0]
    assert (pc.failed_at, pc.failed_run, pc.last_read) == (T1, 2, T0)
    assert pc.errors == ("device unreachable: connection refused",)
    # a third run that cannot read it either: unreachable before already, nothing new to tell
    third = run(3, T1 + timedelta(days=1), [finding("pc", "firewall.enabled", E, site="branch")])
    runs = [first_run(), second_run(), third]
    later = client_changes(
        "acme", posture_at(runs[:2], None, SCOPE), posture_at(runs, None, SCOPE), WaiverSet(),
        now=NOW + timedelta(days=1),
    )  # fmt: skip
    assert later.unreachable == () and later.empty


def test_a_device_read_again_then_lost_is_told_again():
    back = run(3, T1 + timedelta(days=1), [finding("pc", "firewall.enabled", P, site="branch")])
    lost = run(4, T1 + timedelta(days=2), [finding("pc", "firewall.enabled", E, site="branch")])
    runs = [first_run(), second_run(), back, lost]
    changes = client_changes(
        "acme", posture_at(runs[:3], None, SCOPE), posture_at(runs, None, SCOPE), WaiverSet(),
        now=NOW,
    )  # fmt: skip
    assert [u.device for u in changes.unreachable] == ["pc"]


def test_a_device_partly_unreadable_after_a_scoped_run_counts_as_unreachable():
    # a run of one policy could not read srv: its other controls are still current (partial)
    scoped = run(3, T1 + timedelta(hours=1), [finding("srv", "access.ssh_root_login", E)])
    runs = [first_run(), second_run(), scoped]
    changes = client_changes(
        "acme", posture_at(runs[:2], None, SCOPE), posture_at(runs, None, SCOPE), WaiverSet(),
        now=NOW,
    )  # fmt: skip
    assert [(u.device, u.state) for u in changes.unreachable] == [("srv", "partial")]
    assert changes.new_drift == ()  # an error is not drift


def test_no_posture_before_tells_no_drift_and_no_unreachable_device():
    after = posture_at([first_run()], None, SCOPE)
    changes = client_changes("acme", None, after, WaiverSet(), now=NOW)
    assert changes.empty


def test_a_posture_that_did_not_move_is_empty():
    runs = [first_run()]
    same = posture_at(runs, None, SCOPE)
    assert client_changes("acme", same, same, WaiverSet(), now=NOW).empty


def test_waivers_of_the_client_expiring_within_the_window_not_expired():
    changes = sample_changes()
    today = NOW.date()
    got = [(x.control, x.expires - today, x.days_left) for x in changes.expiring_waivers]
    assert got == [
        ("firewall.enabled", timedelta(0), 0),  # selects acme's site branch; expires today
        ("patching.reboot_required", timedelta(days=3), 3),
        ("backup.encrypted", timedelta(days=14), 14),
    ]
    reboot = changes.expiring_waivers[1]
    assert (reboot.reason, reboot.approved_by, reboot.ticket) == (
        "change freeze <b>Q4</b>",
        "María López",
        "CHG-12",
    )
    narrow = client_changes(
        "acme", None, posture_at([first_run()], None, SCOPE), waivers(today), now=NOW, warn_days=2
    )
    assert [x.days_left for x in narrow.expiring_waivers] == [0]
    assert not narrow.empty  # a waiver alone is worth a message


def test_a_waiver_expires_at_the_end_of_its_day_in_the_clients_zone():
    # 23:30 UTC on the 26th is already the 27th in Madrid: a waiver expiring on the 26th is over
    late = T0.replace(hour=23, minute=30)
    ws = WaiverSet(
        waivers=(
            Waiver(
                control="backup.encrypted", client="acme", reason="r", approved_by="a",
                expires=late.date(),
            ),
        )
    )  # fmt: skip
    after = posture_at([first_run()], None, SCOPE)
    assert client_changes("acme", None, after, ws, now=late).empty
    assert not client_changes("acme", None, after, ws, now=late, timezone="UTC").empty


def test_a_waiver_already_told_is_not_repeated_every_night():
    after = posture_at([first_run()], None, SCOPE)
    today = NOW.date()
    ws = waivers(today)
    # told yesterday: only what entered the window since (14 days from today, not from
    # yesterday) is told again
    since = NOW - timedelta(days=1)
    again = client_changes("acme", None, after, ws, now=NOW, since=since)
    assert [x.days_left for x in again.expiring_waivers] == [14]
    # told earlier today: nothing new
    assert client_changes("acme", None, after, ws, now=NOW, since=NOW - timedelta(hours=1)).empty


def test_waivers_selecting_by_tags_are_the_clients_when_the_inventory_says_so():
    from baluarte.inventory import Inventory, InventoryFile

    parsed = InventoryFile.model_validate(
        {
            "clients": [
                {
                    "name": "acme", "legal_name": "ACME S.L.",
                    "sites": [
                        {
                            "name": "hq",
                            "devices": [
                                {"name": "srv", "platform": "linux", "address": "10.0.0.5",
                                 "tags": ["server"]},
                            ],
                        }
                    ],
                },
                {
                    "name": "other", "legal_name": "Other S.L.",
                    "sites": [
                        {
                            "name": "main",
                            "devices": [
                                {"name": "nas", "platform": "linux", "address": "10.0.1.5",
                                 "tags": ["storage"]},
                            ],
                        }
                    ],
                },
            ]
        }
    )  # fmt: skip
    inv = Inventory(clients=parsed.clients)
    base = {"control": "backup.encrypted", "reason": "r", "approved_by": "a"}
    soon = NOW.date() + timedelta(days=5)
    ws = WaiverSet(
        waivers=(
            Waiver.model_validate(base | {"tags": ["server"], "expires": soon}),
            Waiver.model_validate(base | {"tags": ["storage"], "expires": soon, "ticket": "T2"}),
        )
    )
    after = posture_at([first_run()], None, SCOPE)
    with_inventory = client_changes("acme", None, after, ws, now=NOW, devices=inv.devices())
    assert [x.tags for x in with_inventory.expiring_waivers] == [("server",)]
    # without the inventory, a waiver selecting by tags alone is not known to be acme's
    assert client_changes("acme", None, after, ws, now=NOW).empty


def test_another_clients_findings_are_not_this_clients_changes():
    theirs = [
        run(1, T0, [finding("nas", "backup.encrypted", P, client="other", site="main")]),
        run(2, T1, [finding("nas", "backup.encrypted", F, client="other", site="main")]),
    ]
    before, after = posture_at(theirs[:1]), posture_at(theirs)
    assert client_changes("acme", before, after, WaiverSet(), now=NOW).empty
    assert len(client_changes("other", before, after, WaiverSet(), now=NOW).new_drift) == 1
