"""Compiled templates kept between runs: used when sound, never at the report's expense."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import BytecodeCache, DictLoader, Environment

from reports.template_cache import template_cache

SOURCE = "{% for x in items %}<li>{{ x }}</li>{% endfor %}"


def _env(source: str, cache: BytecodeCache | None) -> Environment:
    # as the reports' environments: escaped, so that the cached code is seen to escape too
    return Environment(loader=DictLoader({"t.j2": source}), autoescape=True, bytecode_cache=cache)


def _render(cache_home: Path, monkeypatch: pytest.MonkeyPatch, source: str = SOURCE) -> str:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    env = _env(source, template_cache())
    return env.get_template("t.j2").render(items=["a", "<b>"])


def _cached(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "baluarte" / "templates").glob("*.cache"))


def test_a_compiled_template_is_kept_where_only_this_user_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _render(tmp_path, monkeypatch) == "<li>a</li><li>&lt;b&gt;</li>"
    kept = _cached(tmp_path)
    assert len(kept) == 1
    assert (kept[0].parent.stat().st_mode & 0o777) == 0o700
    # a changed source is compiled anew, not taken from the cache
    assert _render(tmp_path, monkeypatch, "<p>{{ items | length }}</p>") == "<p>2</p>"
    assert len(_cached(tmp_path)) == 1  # the same template's key: replaced, not added


def test_the_cache_is_read_when_the_source_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _render(tmp_path, monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = template_cache()
    assert cache is not None
    env = _env(SOURCE, cache)
    loads: list[str] = []
    original = cache.load_bytecode

    def counted(bucket):  # type: ignore[no-untyped-def]
        original(bucket)
        loads.append("hit" if bucket.code is not None else "miss")

    monkeypatch.setattr(cache, "load_bytecode", counted)
    assert env.get_template("t.j2").render(items=["x"]) == "<li>x</li>"
    assert loads == ["hit"]


@pytest.mark.parametrize("damage", [b"", b"garbage", b"j2" + bytes(range(256))])
def test_a_damaged_cache_file_costs_a_compile_not_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes
) -> None:
    _render(tmp_path, monkeypatch)
    (kept,) = _cached(tmp_path)
    kept.write_bytes(damage)
    assert _render(tmp_path, monkeypatch) == "<li>a</li><li>&lt;b&gt;</li>"


def test_a_folder_others_can_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "baluarte" / "templates"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert template_cache() is None
    assert _render(tmp_path, monkeypatch) == "<li>a</li><li>&lt;b&gt;</li>"
    assert _cached(tmp_path) == []


def test_no_folder_to_keep_it_in_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert template_cache() is None
    assert _render(blocker, monkeypatch) == "<li>a</li><li>&lt;b&gt;</li>"


def test_a_cache_that_cannot_be_written_costs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = template_cache()
    (tmp_path / "baluarte" / "templates").rmdir()  # gone when the compiled code is written
    env = _env(SOURCE, cache)
    assert env.get_template("t.j2").render(items=["a"]) == "<li>a</li>"
    assert _cached(tmp_path) == []
