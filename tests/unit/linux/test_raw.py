"""Reading fields and the device clock from the collection document."""

from datetime import UTC, datetime, timedelta, timezone

from checks.linux.raw import epoch, field, host_clock, out, utc_offset


def test_field_and_out_tell_a_missing_field_from_an_empty_one():
    raw = {"ok": {"out": "x", "rc": 0}, "empty": {"out": "", "rc": 3}, "bad": {"rc": "?"}}
    assert field(raw, "ok") == ("x", 0)
    assert field(raw, "empty") == ("", 3)
    assert field(raw, "missing") is None and field(raw, "bad") is None
    assert out(raw, "missing") == ("", -1)


def test_clock_and_offsets():
    assert utc_offset("+0130") == timezone(timedelta(hours=1, minutes=30))
    assert utc_offset("-0500") == timezone(-timedelta(hours=5))
    assert utc_offset("garbage") is UTC
    assert epoch(" 1795851489\n") == datetime.fromtimestamp(1795851489, UTC)
    assert epoch("0") is None and epoch("-5") is None and epoch("") is None
    tz, now = host_clock({"clock": {"out": "1795851489\n+0100", "rc": 0}})
    assert tz == timezone(timedelta(hours=1)) and now == datetime.fromtimestamp(1795851489, UTC)
    assert host_clock({}) == (UTC, None)
