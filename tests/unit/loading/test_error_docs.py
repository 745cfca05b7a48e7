"""Every input error code used in the code base has a heading in docs/errors.md."""

import re

from ._helpers import ROOT

CODE_USES = (
    re.compile(r'\bcode="([a-z0-9_]+)"'),
    re.compile(r'PydanticCustomError\(\s*"([a-z0-9_]+)"'),
)


def codes_in_code() -> set[str]:
    found: set[str] = set()
    for package in ("baluarte", "checks", "deploys", "reports"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for pattern in CODE_USES:
                found.update(pattern.findall(text))
    return found


def documented() -> set[str]:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    return set(re.findall(r"^## ([a-z0-9_]+)\s*$", text, flags=re.M))


def test_every_code_used_is_documented():
    used = codes_in_code()
    assert {"yaml_syntax", "literal_secret", "duplicate_name"} <= used  # the scan works
    assert used - documented() == set()


def test_every_code_listed_in_the_error_tree_is_documented():
    from baluarte.errors import InputError

    listed = re.search(r"``code`` is stable.*?:(.*?)\.\n", InputError.__doc__ or "", re.S)
    assert listed is not None
    codes = {c.strip() for c in listed.group(1).replace("\n", " ").split(",")}
    assert codes - documented() == set()
