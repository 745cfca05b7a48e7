"""The bundled script's JSON framing, run by the local POSIX sh and awk."""

import json
import shutil
import subprocess

import pytest

from checks.linux.bundle import SCHEMA, Settings, _fragment, collection_script


def encode(fields_sh: str, awk: str = "awk") -> dict:
    script = (
        f"{_fragment('common')}\n{{\n{fields_sh}\n}} 2>/dev/null"
        " | tr -d '\\000-\\010\\013\\014\\016-\\035\\037'"
        f' | {awk} -v schema={SCHEMA} "$BL_ENCODE"\n'
    )
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


AWKS = [a for a in ("mawk", "gawk", "busybox awk") if shutil.which(a.split()[0])]


@pytest.mark.parametrize("awk", AWKS or ["awk"])
def test_awkward_output_survives_exactly(awk):
    tricky = 'quote " backslash \\\\ tab \t end\nsecond line ñ €\n\nafter blank'
    doc = encode(
        f"field one text printf '%s' '{tricky}'\n"
        "field one failing sh -c 'echo oops >&2; exit 7'\n"
        "field two empty true\n"
        "field two bell printf 'a\\007b\\033c'",
        awk,
    )
    assert doc["schema"] == SCHEMA
    assert doc["one"]["text"] == {"out": tricky, "rc": 0}
    assert doc["one"]["failing"] == {"out": "oops", "rc": 7}
    assert doc["two"]["empty"] == {"out": "", "rc": 0}
    assert doc["two"]["bell"]["out"] == "abc"  # control characters dropped, not JSON-breaking


def test_whole_script_is_one_json_document_here():
    script, stdin = collection_script()
    assert stdin == ()
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    doc = json.loads(out.stdout)
    assert set(doc) >= {"schema", "host", "patching"}
    assert doc["host"]["uid"]["out"].isdigit()


def test_settings_become_variables_and_secrets_come_from_stdin():
    script, stdin = collection_script(
        (), Settings(env={"REPO": "/srv/it's here"}, secrets={"PASS": "s3cr3t one"})
    )
    assert "s3cr3t" not in script
    assert stdin == ("s3cr3t one",)
    probe = script.replace(
        "field host uid id -u",
        'field host uid id -u\nfield host probe printf "%s|%s" "$BL_REPO" "$BL_PASS"',
    )
    out = subprocess.run(
        ["sh", "-c", probe], input="s3cr3t one\n", capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout)["host"]["probe"]["out"] == "/srv/it's here|s3cr3t one"


def test_secrets_must_be_one_line_and_names_shell_safe():
    with pytest.raises(ValueError):
        Settings(secrets={"PASS": "two\nlines"})
    with pytest.raises(ValueError):
        Settings(env={"bad-name": "x"})
