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
    assert resolve(SecretRef.parse(f"file:{f}")) == "s3cret"


def test_unresolvable_reference_names_the_reference(monkeypatch, tmp_path):
    monkeypatch.delenv("BALUARTE_NOPE", raising=False)
    with pytest.raises(InputError) as caught:
        resolve(SecretRef.parse("env:BALUARTE_NOPE"))
    assert caught.value.code == "secret_unavailable"
    assert "env:BALUARTE_NOPE" in str(caught.value)
    with pytest.raises(InputError, match="no such file"):
        resolve(SecretRef.parse(f"file:{tmp_path / 'missing'}"))
