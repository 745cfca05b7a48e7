"""Secrets masked out of whatever a device sends back."""

import json

import pytest

from baluarte.masking import Masker, mask_url_credentials, url_password


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("rest:https://bk:s3cret@nas:8000/srv", "rest:https://bk:***@nas:8000/srv"),
        # a password with reserved characters left unencoded: masked whole, not in part
        ("rest:https://bk:pa@ss/w:rd@nas:8000/srv", "rest:https://bk:***@nas:8000/srv"),
        (
            "s3:https://AKIA:wJalr/K7MDENG@s3.example/bucket",
            "s3:https://AKIA:***@s3.example/bucket",
        ),
        # inside a tool's error message, quoted
        ('Get "https://u:tok3n@h/config": dial tcp', 'Get "https://u:***@h/config": dial tcp'),
        ("two: http://a:1@x and ftp://b:2@y", "two: http://a:***@x and ftp://b:***@y"),
        # no password: nothing to mask
        ("sftp:bk@nas:/srv/restic", "sftp:bk@nas:/srv/restic"),
        ("ssh://borg@nas:22/./repo", "ssh://borg@nas:22/./repo"),
        ("/srv/backup", "/srv/backup"),
    ],
)
def test_url_credentials_are_masked_in_any_text(text, masked):
    assert mask_url_credentials(text) == masked


def test_url_password_finds_the_password_a_url_embeds():
    assert url_password("rest:https://bk:s3cret@nas/") == "s3cret"
    assert url_password("rest:https://bk@nas/") is None
    assert url_password("/srv/backup") is None


def test_masker_masks_a_secret_as_written_json_escaped_and_url_encoded():
    secret = 'pa"ss\\w/rd ñ'
    mask = Masker([secret, None, ""])
    document = json.dumps({"out": f"echoed {secret}"})
    assert secret not in json.loads(mask(document))["out"]
    assert json.loads(mask(document))["out"] == "echoed ***"
    assert mask("u=pa%22ss%5Cw%2Frd%20%C3%B1") == "u=***"
    assert not Masker([None, ""]) and Masker(["x"])


def test_masker_masks_the_longest_secret_first():
    assert Masker(["abc", "abcdef"])("key abcdef") == "key ***"
