import pytest
from pydantic import BaseModel, ValidationError

from baluarte.errors import InputError
from baluarte.secrets import KeyFileRef, SecretRef, resolve


class Creds(BaseModel):
    password: SecretRef
    key: KeyFileRef | None = None


def test_references_parse_and_serialise_as_written():
    c = Creds(password="keyring:baluarte/acme", key="file:~/.ssh/id_ed25519")
    assert (c.password.scheme, c.password.target) == ("keyring", "baluarte/acme")
    assert c.key is not None and c.key.path.is_absolute()
    assert c.model_dump() == {"password": "keyring:baluarte/acme", "key": "file:~/.ssh/id_ed25519"}


@pytest.mark.parametrize("literal", ["hunter2", "p@ss:word", 123456])
def test_literal_secret_is_refused_without_echoing_it(literal):
    with pytest.raises(ValidationError) as caught:
        Creds(password=literal)
    (err,) = caught.value.errors()
    assert err["type"] == "literal_secret"
    assert str(literal) not in err["msg"]
    assert '"env:ACME_FW_TOKEN"' in err["msg"]


def test_key_must_be_a_file_reference():
    with pytest.raises(ValidationError) as caught:
        Creds(password="env:X", key="env:SSH_KEY")
    assert caught.value.errors()[0]["type"] == "wrong_value"


def test_resolve_reads_env_and_file(monkeypatch, tmp_path):
    monkeypatch.setenv("BALUARTE_TEST_TOKEN", "tok-123")
    assert resolve(SecretRef.parse("env:BALUARTE_TEST_TOKEN")) == "tok-123"
    f = tmp_path / "secret"
    f.write_text("s3cret\n")
    f.chmod(0o600)
    assert resolve(SecretRef.parse(f"file:{f}")) == "s3cret"


def test_unresolvable_reference_names_the_reference(monkeypatch, tmp_path):
    monkeypatch.delenv("BALUARTE_NOPE", raising=False)
    with pytest.raises(InputError) as caught:
        resolve(SecretRef.parse("env:BALUARTE_NOPE"))
    assert caught.value.code == "secret_unavailable"
    assert "env:BALUARTE_NOPE" in str(caught.value)
    with pytest.raises(InputError, match="no such file"):
        resolve(SecretRef.parse(f"file:{tmp_path / 'missing'}"))


# -- a file: secret must be a plain secret file (issue 12, class 5) ---------------------------

SHADOW_LIKE = "root:$y$j9T$Zq8vPlainShadowHash0:20000:0:99999:7:::\ndaemon:*:20000:0:99999:7:::\n"


def secret_file(tmp_path, text, mode=0o600, name="secret"):
    f = tmp_path / name
    f.write_text(text)
    f.chmod(mode)
    return f


def inventory_with_token(tmp_path, reference):
    f = tmp_path / "inv.yaml"
    f.write_text(
        "clients:\n- name: acme\n  legal_name: ACME\n  sites:\n  - name: hq\n    devices:\n"
        "    - name: fw\n      platform: fortigate\n      address: 10.0.0.1\n"
        f'      fortios: {{token: "{reference}"}}\n'
    )
    return f


@pytest.mark.parametrize(
    ("text", "mode", "why"),
    [
        (SHADOW_LIKE, 0o600, "it holds 2 lines"),
        ("tok-one\r\ntok-two\n", 0o600, "it holds 2 lines"),
        ("tok\x00en\n", 0o600, "NUL byte"),
        ("Zq8v-world-readable\n", 0o644, "every user of this machine can read it (mode 0644)"),
        ("Zq8v-too-big" * 1000, 0o600, "more than the 8192 a secret file may hold"),
    ],
    ids=["shadow", "crlf-lines", "nul", "world-readable", "too-big"],
)
def test_a_file_secret_that_is_not_plain_is_refused_at_validation_with_its_place(
    tmp_path, text, mode, why
):
    from baluarte.inventory import load_inventory

    from ._helpers import only_error

    f = secret_file(tmp_path, text, mode)
    inv = inventory_with_token(tmp_path, f"file:{f}")
    err = only_error(lambda: load_inventory([inv]))
    assert (err.code, err.file, err.line, err.column) == ("secret_not_plain", str(inv), 10, 17)
    assert err.key == "clients[0].sites[0].devices[0].fortios.token"
    assert why in err.message and f"file:{f}" in err.message
    for piece in ("Zq8v", "PlainShadowHash", "tok-one", "tok-two", "daemon"):
        assert piece not in str(err)  # what the file holds is never quoted
    # and the same file is refused when read, wherever the reference did not go through
    # validation (or the file changed since)
    with pytest.raises(InputError) as caught:
        resolve(SecretRef.parse(f"file:{f}"))
    assert caught.value.code == "secret_not_plain" and why in str(caught.value)


def test_a_file_secret_that_is_not_a_regular_file_is_refused_without_reading_it(tmp_path):
    from baluarte.inventory import load_inventory

    from ._helpers import only_error

    for target in ("/dev/zero", str(tmp_path)):
        inv = inventory_with_token(tmp_path, f"file:{target}")
        err = only_error(lambda: load_inventory([inv]))  # noqa: B023 - called at once
        assert err.code == "secret_not_plain" and "not a regular file" in err.message


def test_a_private_one_line_secret_file_and_a_missing_one_pass_validation(tmp_path):
    from baluarte.inventory import load_inventory

    good = secret_file(tmp_path, "Zq8v-token\n", 0o640)  # group-readable is allowed
    assert load_inventory([inventory_with_token(tmp_path, f"file:{good}")]).devices()
    # a file that is not there may exist only where the check runs: resolve reports it
    assert load_inventory([inventory_with_token(tmp_path, f"file:{tmp_path / 'later'}")])


def test_a_key_file_is_not_held_to_the_plain_secret_rules(tmp_path):
    key = secret_file(tmp_path, "-----BEGIN KEY-----\nabc\n-----END KEY-----\n", 0o644, "id")
    assert Creds(password="env:X", key=f"file:{key}").key is not None


def test_resolve_registers_the_value_for_masking_everywhere(monkeypatch):
    from baluarte.errors import DeviceError
    from baluarte.masking import forget_secrets, mask_secrets

    forget_secrets()
    monkeypatch.setenv("BALUARTE_TEST_REG", "Zq8v-registered-value")
    assert mask_secrets("x Zq8v-registered-value y") == "x Zq8v-registered-value y"
    assert resolve(SecretRef.parse("env:BALUARTE_TEST_REG")) == "Zq8v-registered-value"
    assert mask_secrets("x Zq8v-registered-value y") == "x *** y"
    assert str(DeviceError("refused Zq8v-registered-value")) == "refused ***"
    forget_secrets()
