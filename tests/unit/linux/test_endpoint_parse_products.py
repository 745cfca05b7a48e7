"""parse() of the endpoint fragment for Defender, Sophos and CrowdStrike, on recorded output.

These products cannot be installed here: the samples are recorded/published outputs
(linux-checks.md §3.2–3.4); the rest of each document is a real lab host's.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

from checks.linux.endpoint import parse
from checks.linux.endpoint_crowdstrike import falconctl_value
from checks.linux.endpoint_sophos import parse_sophos_time
from tests.unit.linux.daemon_table import genuine

SAMPLES = Path(__file__).parents[2] / "samples" / "linux" / "endpoint"
NOW = 1795854497  # the lab host's clock in the recorded samples: 2026-11-28 08:28:17 UTC


def field(out: str, rc: int = 0) -> dict:
    return {"out": out, "rc": rc}


def host_doc(**fields) -> tuple[dict, dict]:
    """A lab host as shipped (ClamAV stopped) plus the given product fields."""
    doc = json.loads((SAMPLES / "lab_image_as_shipped.fail.json").read_text())
    raw = doc["endpoint"]
    raw.update(fields)
    return raw, {"clock": field(f"{NOW}\n+0000")}


def with_paths(raw: dict, *paths: str, procs: str = "", links: str = "") -> dict:
    """``procs``: the engines running, each its product's own program (daemon_table.GENUINE)."""
    raw["paths"] = field(raw["paths"]["out"] + "\n" + "\n".join(paths))
    raw["procs"] = genuine(*procs.split())
    raw["links"] = field(links + "\ndir /etc/systemd/system")
    return raw


# -- Defender -----------------------------------------------------------------------------------

MDE_LINK = "/etc/systemd/system/multi-user.target.wants/mdatp.service"


def defender(sample: str, rc: int = 0, procs: str = "wdavdaemon"):
    raw, host = host_doc(mdatp=field((SAMPLES / sample).read_text(), rc))
    with_paths(raw, "/usr/bin/mdatp", "/opt/microsoft/mdatp", procs=procs, links=MDE_LINK)
    return parse(raw, host).product("defender")


def test_defender_healthy_sample():
    mde = defender("mdatp_health_healthy.pass.json")
    assert mde.installed and mde.version == "101.24092.0004"
    assert mde.running is True and mde.enabled is True
    assert mde.realtime is True and mde.realtime_detail == "real-time protection on (fanotify)"
    assert mde.signatures_built == datetime.fromtimestamp(1795800000, UTC)
    assert mde.signature_age_days == 0.63
    assert "1.421.100.0" in mde.signatures_detail and "upToDate" in mde.signatures_detail


def test_defender_unhealthy_sample_names_the_issues():
    mde = defender("mdatp_health_rtp_off_stale.fail.json")
    assert mde.running is False
    assert "no active event provider; definitions out of date" in mde.running_detail
    assert mde.realtime is False
    assert mde.signature_age_days == 14.52 and "outOfDate" in mde.signatures_detail


def test_defender_passive_mode_is_not_real_time_protection():
    doc = json.loads((SAMPLES / "mdatp_health_healthy.pass.json").read_text())
    doc["passiveModeEnabled"]["value"] = True
    (raw, host) = host_doc(mdatp=field(json.dumps(doc)))
    with_paths(raw, "/usr/bin/mdatp", procs="wdavdaemon", links=MDE_LINK)
    mde = parse(raw, host).product("defender")
    assert mde.realtime is False and "passive mode" in mde.realtime_detail


def test_defender_old_plain_bool_and_minutes_ago_are_understood():
    doc = json.loads((SAMPLES / "mdatp_health_healthy.pass.json").read_text())
    doc["realTimeProtectionEnabled"] = True
    del doc["definitionsUpdated"]
    (raw, host) = host_doc(mdatp=field(json.dumps(doc)))
    with_paths(raw, "/usr/bin/mdatp", procs="wdavdaemon", links=MDE_LINK)
    mde = parse(raw, host).product("defender")
    assert mde.realtime is True and mde.signature_age_days == 0.03  # 42 minutes


def test_defender_truncated_json_leaves_every_state_unknown():
    mde = defender("mdatp_health_truncated.error.txt")
    assert mde.installed
    assert (mde.running, mde.realtime, mde.signature_age_days) == (None, None, None)
    assert mde.problems[0].startswith("mdatp health gave no health report (exit 0)")


def test_defender_daemon_down_is_not_running_and_the_rest_unknown():
    mde = defender("mdatp_health_daemon_down.error.txt", rc=1, procs="")
    assert mde.running is False and "no wdavdaemon process running" in mde.running_detail
    assert mde.realtime is None and "Could not connect to daemon" in mde.realtime_detail


# -- Sophos -------------------------------------------------------------------------------------


def sophos(shs: str, alc: str, procs: str = "soapd\nsophos_watchdog"):
    files = {
        "base/VERSION.ini": (SAMPLES / "sophos_VERSION.ini").read_text(),
        "base/mcs/status/SHS_status.xml": (SAMPLES / shs).read_text()
        if shs
        else "cat: No such file",
        "base/mcs/status/ALC_status.xml": (SAMPLES / alc).read_text(),
    }
    text = "".join(f"=== {name}\n{body}\n" for name, body in files.items())
    raw, host = host_doc(sophos=field(text))
    with_paths(
        raw, "/opt/sophos-spl", procs=procs,
        links="/etc/systemd/system/multi-user.target.wants/sophos-spl.service",
    )  # fmt: skip
    return parse(raw, host).product("sophos")


def test_sophos_healthy_sample():
    spl = sophos("sophos_SHS_status_good.pass.xml", "sophos_ALC_status_good.pass.xml")
    assert spl.installed and spl.version == "1.2.3.456"
    assert spl.running is True and spl.enabled is True and spl.realtime is True
    assert spl.signatures_built == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert spl.signature_age_days == 1.02


def test_sophos_bad_health_and_failing_updates():
    spl = sophos("sophos_SHS_status_av_down.fail.xml", "sophos_ALC_status_failing.fail.xml")
    assert spl.running is False and "Sophos Linux AntiVirus=1" in spl.running_detail
    assert spl.realtime is False
    assert "failing since 20261111 080000" in spl.signatures_detail
    assert spl.signature_age_days == 18.02


def test_sophos_without_on_access_process_is_not_real_time():
    spl = sophos(
        "sophos_SHS_status_good.pass.xml", "sophos_ALC_status_good.pass.xml", "sophos_watchdog"
    )
    assert spl.running is True and spl.realtime is False


def test_sophos_missing_health_file_is_unknown():
    spl = sophos("", "sophos_ALC_status_good.pass.xml")
    assert spl.running is None and "SHS_status.xml missing or not XML" in spl.problems


def test_sophos_times():
    assert parse_sophos_time("20261127 080000") == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert parse_sophos_time("2026-11-27T08:00:00Z") == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert parse_sophos_time("last tuesday") is None


# -- CrowdStrike --------------------------------------------------------------------------------


def falcon(sample: str, procs: str = "falcon-sensor"):
    answers = dict(line.split(" ", 1) for line in (SAMPLES / sample).read_text().splitlines())
    fields = {
        f"falcon_{key}": field(
            answers[f"--{flag}"], 0 if "Error" not in answers[f"--{flag}"] else 255
        )
        for key, flag in (("rfm", "rfm-state"), ("aid", "aid"), ("version", "version"))
    }
    raw, host = host_doc(**fields)
    with_paths(
        raw, "/opt/CrowdStrike/falconctl", procs=procs,
        links="/etc/systemd/system/multi-user.target.wants/falcon-sensor.service",
    )  # fmt: skip
    return parse(raw, host).product("crowdstrike")


def test_falcon_healthy_sample():
    cs = falcon("falconctl_healthy.pass.txt")
    assert cs.installed and cs.version == "7.18.17106.0"
    assert cs.running is True and cs.enabled is True and cs.realtime is True
    assert cs.has_signatures is False


def test_falcon_reduced_functionality_mode_is_not_real_time():
    cs = falcon("falconctl_rfm.fail.txt")
    assert cs.realtime is False and "rfm-state=true" in cs.realtime_detail


def test_falcon_unanswered_flags_are_unknown():
    cs = falcon("falconctl_garbled.error.txt")
    assert cs.realtime is None
    assert cs.problems[0].startswith("falconctl -g --rfm-state: no answer (Error: failed")


def test_falcon_sensor_not_running():
    cs = falcon("falconctl_healthy.pass.txt", procs="")
    assert cs.running is False and cs.realtime is False


def test_falconctl_values():
    assert falconctl_value('aid="44e3b7d20b434a2bb2815d9808fa3a8b".', "aid") == (
        "44e3b7d20b434a2bb2815d9808fa3a8b"
    )
    assert falconctl_value("aid is not set.", "aid") == ""
    assert falconctl_value("rfm-state=false.", "rfm-state") == "false"
    assert falconctl_value("version = 7.18.17106.0", "version") == "7.18.17106.0"
    assert falconctl_value("Error: cannot connect", "aid") is None


def test_falcon_without_agent_id_is_not_protecting():
    raw, host = host_doc(
        falcon_rfm=field("rfm-state=false."),
        falcon_aid=field("aid is not set."),
        falcon_version=field("version = 7.18.17106.0"),
    )
    with_paths(raw, "/opt/CrowdStrike/falconctl", procs="falcon-sensor")
    cs = parse(raw, host).product("crowdstrike")
    assert cs.realtime is False and "never registered" in cs.realtime_detail
