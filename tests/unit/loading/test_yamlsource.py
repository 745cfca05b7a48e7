import datetime
import os

from baluarte.yamlsource import load_yaml

from ._helpers import BAD, only_error


def test_locate_gives_the_key_position_and_falls_back_to_the_parent(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("a:\n  b:\n    - x: 1\n      y: 2\n")
    doc = load_yaml(f)
    assert doc.locate(("a", "b", 0, "y")) == (4, 7)
    assert doc.locate(("a", "b", 0)) == (3, 7)
    assert doc.locate(("a", "b", 0, "missing")) == (3, 7)
    assert doc.locate(("a", "nope", 3)) == (1, 1)
    assert doc.locate(()) == (1, 1)


def test_data_is_plain_and_dates_stay_dates(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_bytes(b"\xef\xbb\xbfexpires: 2027-01-31\nversion: '2026.11'\n")
    doc = load_yaml(f)
    assert doc.data == {"expires": datetime.date(2027, 1, 31), "version": "2026.11"}
    assert len(doc.sha256) == 64


def test_syntax_error_names_file_line_and_column():
    err = only_error(lambda: load_yaml(BAD / "yaml_syntax.yaml"))
    assert err.code == "yaml_syntax"
    assert (err.file, err.line, err.column) == (str(BAD / "yaml_syntax.yaml"), 10, 1)
    assert "the end of the file" in err.message and "line 9" in err.message


def test_unquoted_colon_says_to_quote(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("reason: see: ticket\n")
    err = only_error(lambda: load_yaml(f))
    assert (err.code, err.line, err.column) == ("yaml_syntax", 1, 12)
    assert "quoted" in err.message


def test_tab_indentation_is_refused_with_its_position():
    err = only_error(lambda: load_yaml(BAD / "tab_indentation.yaml"))
    assert err.code == "tab"
    assert (err.line, err.column) == (6, 1)
    assert "tabs are not allowed for indentation; use spaces" in str(err)


def test_duplicate_keys_are_refused_naming_both_lines():
    err = only_error(lambda: load_yaml(BAD / "duplicate_keys.yaml"))
    assert err.code == "duplicate_key"
    assert (err.line, err.column) == (10, 13)
    assert err.key == "clients[0].sites[0].devices[0].platform"
    assert "line 8" in err.message


def test_empty_file_is_an_error():
    err = only_error(lambda: load_yaml(BAD / "empty.yaml"))
    assert (err.code, err.file, err.line, err.column) == (
        "empty_file",
        str(BAD / "empty.yaml"),
        1,
        1,
    )


def test_non_utf8_points_at_the_first_bad_byte():
    err = only_error(lambda: load_yaml(BAD / "not_utf8.yaml"))
    assert err.code == "not_utf8"
    assert (err.line, err.column) == (3, 23)
    assert "0xed" in err.message


def test_missing_file(tmp_path):
    err = only_error(lambda: load_yaml(tmp_path / "nope.yaml"))
    assert (err.code, err.file, err.line) == ("missing_file", str(tmp_path / "nope.yaml"), None)


def test_dangling_symlink_is_a_missing_file(tmp_path):
    link = tmp_path / "link.yaml"
    os.symlink(tmp_path / "gone.yaml", link)
    err = only_error(lambda: load_yaml(link))
    assert err.code == "missing_file"
    assert "points nowhere" in err.message


def test_directory_given_as_file_is_unreadable(tmp_path):
    err = only_error(lambda: load_yaml(tmp_path))
    assert (err.code, err.file) == ("unreadable_file", str(tmp_path))
    assert "directory" in err.message
