"""The method section says what the period's runs did, over the transports actually used."""

from __future__ import annotations

from dataclasses import replace

from baluarte.findings import Status
from reports.evidence import render_html
from reports.evidence.i18n import Formats
from reports.evidence.view_method import reads, writes

from ._sample import evidence_data
from .test_html import _section


def _local(data, *devices):
    """The sample with ``devices`` checked on the machine Baluarte runs on (@local)."""
    scope = tuple({**d, "local": d["device"] in devices} for d in data.devices_in_scope)
    return replace(data, devices_in_scope=scope)


def test_a_linux_device_checked_locally_is_not_said_to_be_read_over_ssh():
    got = {
        (r["platform"], r["transport"]): r["devices"]
        for r in reads(_local(evidence_data(), "srv-files"))
    }
    assert got[("linux", "local")] == ["srv-files"]
    assert "srv-files" not in got.get(("linux", "ssh"), [])
    assert got[("fortigate", "fortios")] == ["fw-hq"]
    assert ("windows", "winrm") in got


def test_a_linux_device_no_longer_in_the_inventory_has_no_transport_guessed():
    data = evidence_data()
    gone = replace(
        data, devices_in_scope=tuple(d for d in data.devices_in_scope if d["device"] != "srv-files")
    )
    got = {(r["platform"], r["transport"]): r["devices"] for r in reads(gone)}
    assert got[("linux", "unknown")] == ["srv-files"]


def test_the_write_runs_are_counted_with_their_changes():
    got = writes(evidence_data(), Formats("es"))
    assert got["checks"] == 2
    [apply] = got["applies"]
    assert (apply["id"], apply["devices"], apply["changes"], apply["applied"]) == (
        41,
        ["srv-files"],
        2,
        1,
    )


def test_the_spanish_method_names_the_write_run_and_the_local_read():
    section = _section(render_html(_local(evidence_data("es"), "srv-files")), "method")
    assert "2 ejecuciones del periodo fueron comprobaciones de solo lectura." in section
    assert "1 ejecución escribió en los dispositivos" in section
    assert "en local, en el propio equipo donde se ejecuta Baluarte" in section
    assert "no se cambia nada" not in section


def test_a_period_of_checks_only_says_nothing_was_changed():
    data = evidence_data("en")
    checks = tuple(r for r in data.runs if r.info.kind == "check")
    section = _section(render_html(replace(data, runs=checks)), "method")
    assert (
        "The period had 2 runs, all read-only checks: nothing was changed on any device." in section
    )


def test_a_device_no_run_could_read_is_not_said_to_be_read():
    data = evidence_data()
    unread = tuple(
        run.model_copy(
            update={
                "findings": tuple(
                    f if f.device != "fw-hq" else f.model_copy(update={"status": Status.ERROR})
                    for f in run.findings
                )
            }
        )
        for run in data.runs
    )
    got = [r["devices"] for r in reads(replace(data, runs=unread))]
    assert not any("fw-hq" in devices for devices in got)
