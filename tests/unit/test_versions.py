"""Version ordering: Debian's and rpm's rules, including the cases plain sorting gets wrong."""

import pytest

from checks.versions import compare, newest, rpmvercmp, split_evr

# (a, b, expected sign) — each pair taken from rpm's own test suite (tests/rpmvercmp.at) or
# from how RHEL versions its packages.
RPMVERCMP = [
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0.1", "2.0.1", 0),
    ("2.0", "2.0.1", -1),
    ("2.0.1a", "2.0.1", 1),  # letters after the end are newer than nothing…
    ("5.5p1", "5.5p2", -1),
    ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1),
    ("xyz10", "xyz10.1", -1),
    ("xyz.4", "8", -1),  # …but older than a number
    ("xyz.4", "2", -1),
    ("5.5p2", "5.6p1", -1),
    ("5.6p1", "6.5p1", -1),
    ("6.0.rc1", "6.0", 1),  # without a tilde, rc1 is one more segment: newer
    ("10b2", "10a1", 1),
    ("10a2", "10b2", -1),
    ("1.0aa", "1.0a", 1),
    ("10.0001", "10.1", 0),  # leading zeros are dropped
    ("10.0001", "10.0039", -1),
    ("4.999.9", "5.0", -1),
    ("20101121", "20101122", -1),
    ("2_0", "2_0", 0),
    ("2.0", "2_0", 0),  # only the separators differ
    ("a", "a", 0),
    ("a+", "a+", 0),
    ("a+", "a_", 0),
    ("+a", "_a", 0),
    ("+", "_", 0),
    ("_", "+", 0),
    ("1.0~rc1", "1.0", -1),  # tilde: before everything, even the end
    ("1.0~rc1", "1.0~rc1", 0),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0", "1.0^", -1),  # caret: after the end…
    ("1.0^", "1.0^", 0),
    ("1.0", "1.0^git1", -1),
    ("1.0^git1", "1.0^git2", -1),
    ("1.0^git1", "1.01", -1),  # …but before any further segment
    ("1.0^20160101", "1.0.1", -1),
    ("1.0^20160101^git1", "1.0^20160101", 1),
    ("1.0~rc1", "1.0^git1", -1),
    ("1.0^git1~pre", "1.0^git1", -1),
    ("1.0^git1", "1.0^git1~pre", 1),
    ("427.13.1.el9_4", "427.13.1.el9_3", 1),
    ("427.13.1.el9_4", "70.13.1.el9_4", 1),  # numerically, not as text
]


@pytest.mark.parametrize(("a", "b", "sign"), RPMVERCMP)
def test_rpmvercmp_matches_rpm(a, b, sign):
    assert rpmvercmp(a, b) == sign
    assert rpmvercmp(b, a) == -sign


@pytest.mark.parametrize(
    ("evr", "parts"),
    [
        ("1.0-1", (None, "1.0", "1")),
        ("2:1.0-1.el9", ("2", "1.0", "1.el9")),
        ("1.0", (None, "1.0", None)),
        (":1.0-1", ("0", "1.0", "1")),
        ("1.0-1-2", (None, "1.0-1", "2")),  # the release starts after the last dash
    ],
)
def test_split_evr_like_rpm(evr, parts):
    assert split_evr(evr) == parts


@pytest.mark.parametrize(
    ("a", "b", "sign"),
    [
        ("1:1.0-1", "2.0-1", 1),  # an epoch outweighs any version
        ("0:2.0-1", "2.0-1", 0),  # no epoch is epoch 0
        ("1:1.0-1", "1:1.0-2", -1),
        ("3.0.7-27.el9", "3.0.7-25.el9", 1),
        ("3.0.7-27.el9", "3.0.7", 0),  # a minimum without release is met by any release
        ("3.0.7", "3.0.7-27.el9", 0),
        ("3.0.7-27.el9", "3.0.8", -1),
        ("1.0~rc1-1", "1.0-1", -1),
        ("1.0^git1-1", "1.0-9", 1),  # the version decides before the release
        ("2.9-1", "2.10-1", -1),  # plain text order would say the opposite
    ],
)
def test_rpm_scheme_compares_epoch_version_release(a, b, sign):
    assert compare(a, b, scheme="rpm") == sign
    assert compare(b, a, scheme="rpm") == -sign


def test_deb_scheme_is_unchanged_and_differs_from_rpm_where_the_rules_differ():
    assert compare("1.0~rc1", "1.0") == -1
    assert compare("1:1.0", "2.0") == 1
    # Debian: letters sort before the end of a version ("1.0a" > "1.0" too) but "1.0+b" >
    # "1.0.1"? no: '+' sorts below '.' in Debian, while rpm ignores separators entirely.
    assert compare("1.0+1", "1.0.1", scheme="deb") == -1
    assert compare("1.0+1", "1.0.1", scheme="rpm") == 0


def test_newest_uses_the_scheme():
    kernels = ["5.14.0-70.13.1.el9_0", "5.14.0-427.13.1.el9_4", "5.14.0-362.8.1.el9_3"]
    assert newest(kernels, scheme="rpm") == "5.14.0-427.13.1.el9_4"
    assert newest([], scheme="rpm") is None
