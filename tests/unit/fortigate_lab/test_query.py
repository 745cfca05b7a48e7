"""cmdb GET filters, field selection and paging (reference §1.6)."""

import pytest

from baluarte.lab.fortigate.query import QueryError, matches, page, parse_filters, pick_fields

ROWS = [
    {"policyid": 1, "name": "LAN-out", "srcaddr": [{"name": "lan", "q_origin_key": "lan"}]},
    {"policyid": 2, "name": "dmz, web", "srcaddr": [{"name": "dmz", "q_origin_key": "dmz"}]},
    {"policyid": 10, "name": "legacy", "srcaddr": [], "status": "disable"},
]


def select(*filters: str) -> list[int]:
    parsed = parse_filters(list(filters))
    return [row["policyid"] for row in ROWS if matches(row, parsed)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name==lan-out", [1]),  # case-insensitive
        ("name!=legacy", [1, 2]),
        ("name=@out", [1]),
        ("name!@e", [1]),
        ("policyid>2", [10]),  # numeric, not "10" < "2"
        ("policyid<=2", [1, 2]),
        ("policyid>=10", [10]),
        ("policyid<2", [1]),
        ("srcaddr==dmz", [2]),  # any member of a member list
        ("status==disable", [10]),  # a missing field never equals…
        ("status!=disable", [1, 2]),  # …and always differs
        (r"name==dmz\, web", [2]),  # an escaped comma is part of the pattern
        ("name==legacy,policyid==1", [1, 10]),  # comma: OR
    ],
)
def test_one_filter(expression, expected):
    assert select(expression) == expected


def test_repeated_filters_are_and_ed():
    assert select("policyid<=10", "name=@a") == [1, 10]
    assert select("policyid<=10", "name=@a", "srcaddr==lan") == [1]


def test_a_filter_without_operator_is_refused():
    with pytest.raises(QueryError):
        parse_filters(["name"])


def test_format_keeps_the_named_fields_and_q_origin_key():
    row = {"name": "a", "q_origin_key": "a", "subnet": "x", "comment": "y"}
    assert pick_fields(row, "name|comment") == {"name": "a", "q_origin_key": "a", "comment": "y"}
    assert pick_fields(row, None) == row


def test_paging():
    assert page([1, 2, 3, 4], "1", "2") == [2, 3]
    assert page([1, 2, 3, 4], None, None) == [1, 2, 3, 4]
    assert page([1, 2, 3, 4], "3", None) == [4]
    with pytest.raises(QueryError):
        page([1], "-1", None)
    with pytest.raises(QueryError):
        page([1], None, "many")
