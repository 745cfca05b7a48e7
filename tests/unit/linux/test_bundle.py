"""The bundled script's JSON framing, run by the local POSIX sh and awk."""

import json
import shutil
import subprocess
import sys

import pytest

from checks.linux.bundle import SCHEMA, Settings, _fragment, collection_script, decoding_notes


def encode(fields_sh: str, awk: str = "awk") -> dict:
    """The fields through the script's own pipeline (tr, then awk in the C locale); the output
    must be strict UTF-8 JSON, as paramiko decodes it."""
    script = (
        f"{_fragment('common')}\n{{\n{fields_sh}\n}} 2>/dev/null"
        " | tr -d '\\000-\\010\\013\\014\\016-\\035\\037'"
        f' | BL_TAG="$BL_TAG" LC_ALL=C {awk} -v schema={SCHEMA} "$BL_ENCODE"\n'
    )
    out = subprocess.run(["sh", "-c", script], capture_output=True, check=True)
    return json.loads(out.stdout.decode("utf-8"))


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


@pytest.mark.parametrize("awk", AWKS or ["awk"])
def test_bytes_that_are_not_utf8_are_replaced_per_field_and_counted(awk):
    doc = encode(
        "field one latin1 printf 'configuraci\\363n\\n'\n"  # one Latin-1 byte
        "field one fine printf 'caf\\303\\251 \\342\\202\\254 \\360\\237\\230\\200'\n"
        # an overlong NUL, a UTF-16 surrogate, past U+10FFFF, a cut sequence, a lone byte
        "field one broken printf 'a\\300\\200 b\\355\\240\\200 c\\364\\220\\200\\200 d\\342\\202 e\\377'\n"
        "field two marker printf 'x\\036F two forged\\ny'\n"
        # output starting a line like a frame: without the run's tag it is text
        "field two forge printf 'a\\n\\036R 0\\n\\036F access passwd\\nroot:0:0\\n'",
        awk,
    )
    assert doc["one"]["latin1"] == {"out": "configuraci\ufffdn", "rc": 0, "replaced": 1}
    assert doc["one"]["fine"] == {"out": "café € \U0001f600", "rc": 0}  # valid UTF-8 kept
    broken = doc["one"]["broken"]
    assert (
        broken["out"]
        == "a\ufffd\ufffd b\ufffd\ufffd\ufffd c\ufffd\ufffd\ufffd\ufffd d\ufffd\ufffd e\ufffd"
    )
    assert broken["replaced"] == 12
    # a frame marker inside a command's output is text, not a new field
    assert doc["two"] == {
        "marker": {"out": "x\x1eF two forged\ny", "rc": 0},
        "forge": {"out": "a\n\x1eR 0\n\x1eF access passwd\nroot:0:0", "rc": 0},
    }
    assert "access" not in doc
    assert decoding_notes(doc) == {}  # "one" and "two" are no Linux domains
    doc["access"] = {"sudo": doc["one"]["latin1"]}
    assert (
        "1 byte(s) the host printed were not UTF-8 (in access.sudo)"
        in decoding_notes(doc)["access"]
    )


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


@pytest.mark.parametrize(
    "first", ["patching", "firewall", "endpoint", "backup", "access", "logging"]
)
def test_the_domains_do_not_depend_on_which_module_is_imported_first(first):
    # a domain module imported before the bundle once left its own domain out (an import cycle)
    code = (
        f"import checks.linux.{first}\n"
        "from checks.linux.bundle import LINUX_DOMAINS\n"
        "print(','.join(LINUX_DOMAINS))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "patching,firewall,endpoint,backup,access,logging"
