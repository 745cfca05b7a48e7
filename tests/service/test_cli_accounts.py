"""``baluarte users`` and ``baluarte tokens``, run as the real command: passwords from the
terminal or stdin (never argv), a token printed once and stored only as its hash."""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from baluarte.service import accounts, audit
from baluarte.service.db import ServiceDb
from baluarte.service.tables import api_tokens, audit_log, users
from tests.service._fixtures import write_config

BIN = Path(sys.executable).parent / "baluarte"
PASSWORD = "  a long pass phrase, spaces kept  "


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, str(tmp_path / "b.db"))


def _store_bytes(folder: Path) -> bytes:
    """Every file of the SQLite store (with its journal, when one is left)."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob("b.db*")))


def test_a_password_from_stdin_makes_an_account_and_is_stored_only_hashed(
    config: Path,
) -> None:
    done = _run("users", "add", "ana", "--role", "technician", "--config", str(config),
                stdin=PASSWORD + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "added ana (technician; sees every client)"
    assert PASSWORD.strip() not in done.stdout + done.stderr
    assert PASSWORD.strip().encode() not in _store_bytes(config.parent)
    db = ServiceDb.open(str(config.parent / "b.db"))
    try:
        # the line as typed, inner and outer spaces kept: only the newline is not the password
        assert accounts.authenticate(db, "ana", PASSWORD, address=None).role == "technician"
        with db.read() as conn:
            stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
            detail = conn.execute(
                sa.select(audit_log.c.user_name).where(audit_log.c.action == "user_added")
            ).scalar_one()
        assert stored.startswith("$argon2id$")
        assert detail.startswith("cli:")  # who made it, from the command line
    finally:
        db.close()
    listed = _run("users", "list", "--config", str(config))
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].split() == [
        "ana",
        "technician",
        "(all)",
    ]


def test_there_is_no_option_that_takes_a_password(config: Path) -> None:
    done = _run("users", "add", "ana", "--role", "admin", "--config", str(config),
                "--password", PASSWORD)  # fmt: skip
    assert done.returncode == 2 and "No such option: --password" in done.stderr
    help_text = _run("users", "add", "--help").stdout
    assert "--password" not in help_text and "--role" in help_text


def _tty(args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the command on a terminal of its own, typing each answer after its prompt."""
    master, slave = os.openpty()

    def take_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [str(BIN), *args], stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True, preexec_fn=take_terminal,  # the pty becomes its terminal
    )  # fmt: skip
    os.close(slave)
    seen = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                # each answer after its own prompt (typed earlier, it would be echoed)
                asked = seen.count(b"Password")
                if pending and asked > len(answers) - len(pending) and seen.endswith(b": "):
                    os.write(master, pending.pop(0).encode() + b"\n")
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
    return code, seen.decode(errors="replace")


def test_at_a_terminal_the_password_is_asked_twice_and_not_echoed(config: Path) -> None:
    base = ["users", "add", "ana", "--role", "admin", "--config", str(config)]
    code, screen = _tty(base, [PASSWORD, PASSWORD + "typo"])
    assert code == 2 and "the two passwords differ" in screen, screen
    assert "Password again:" in screen and PASSWORD.strip() not in screen
    code, screen = _tty(base, [PASSWORD, PASSWORD])
    assert code == 0 and "added ana (admin" in screen, screen
    assert PASSWORD.strip() not in screen  # never echoed
    db = ServiceDb.open(str(config.parent / "b.db"))
    try:
        assert accounts.authenticate(db, "ana", PASSWORD, address=None).is_admin
    finally:
        db.close()


def test_a_token_is_printed_once_as_the_last_line_and_stored_only_hashed(config: Path) -> None:
    assert _run("users", "add", "noc", "--role", "technician", "--config", str(config),
                stdin=PASSWORD + "\n").returncode == 0  # fmt: skip
    made = _run("tokens", "create", "--user", "noc", "--config", str(config))
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[-1]
    assert made.stdout == token + "\n"  # alone: $(baluarte tokens create …) is the token
    assert token.startswith("blt_") and token not in made.stderr
    assert "shown this once" in made.stderr
    raw = _store_bytes(config.parent)
    assert token.encode() not in raw and token[4:].encode() not in raw
    db = ServiceDb.open(str(config.parent / "b.db"))
    try:
        user = accounts.user_for_token(db, token)
        assert user is not None and user.name == "noc"
    finally:
        db.close()

    listed = _run("tokens", "list", "--config", str(config), "--format", "json")
    assert listed.returncode == 0 and token not in listed.stdout
    [row] = json.loads(listed.stdout)
    assert row["prefix"] == token[:10] and row["user"] == "noc" and row["revoked"] is False
    assert row["last_used_at"] is not None
    text = _run("tokens", "list", "--config", str(config)).stdout
    assert text.splitlines()[0].split() == ["PREFIX", "USER", "CREATED", "LAST", "USED", "REVOKED"]
    assert text.splitlines()[1].startswith(token[:10]) and text.rstrip().endswith("no")

    # a whole token given as the prefix is refused without being repeated back
    whole = _run("tokens", "revoke", token, "--config", str(config))
    assert whole.returncode == 2 and token not in whole.stderr + whole.stdout
    missing = _run("tokens", "revoke", "blt_zzzzzz", "--config", str(config))
    assert missing.returncode == 2 and "no active token starts with 'blt_zzzzzz'" in missing.stderr
    revoked = _run("tokens", "revoke", token[:10], "--config", str(config))
    assert revoked.returncode == 0 and revoked.stdout.strip() == "revoked 1 token(s)"
    again = _run("tokens", "list", "--config", str(config), "--format", "json")
    assert json.loads(again.stdout)[0]["revoked"] is True
    db = ServiceDb.open(str(config.parent / "b.db"))
    try:
        assert accounts.user_for_token(db, token) is None
        actions = [e.action for e in audit.recent(db)]
        assert {"token_created", "token_revoked", "user_added"} <= set(actions)
    finally:
        db.close()


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["users", "add", "ana", "--role", "admin"], PASSWORD, "give the service's --config"),
        (["users", "add", "ana", "--role", "auditor", "@cfg"], PASSWORD,
         "an auditor needs --clients"),
        (["users", "add", "ana", "--role", "technician", "--clients", "acme", "@cfg"], PASSWORD,
         "--clients is for auditors"),
        (["users", "add", "ana", "--role", "auditor", "--clients", "acme,acmee", "@cfg"],
         PASSWORD, "no client named 'acmee' in the service's inventory; did you mean 'acme'?"),
        (["users", "add", "ana", "--role", "root", "@cfg"], PASSWORD, "unknown role 'root'"),
        (["users", "add", "Ana!", "--role", "admin", "@cfg"], PASSWORD, "an account name is"),
        (["users", "add", "ana", "--role", "admin", "@cfg"], "", "no password on standard input"),
        (["users", "add", "ana", "--role", "admin", "@cfg"], "tiny\n", "too short"),
        (["users", "remove", "nobody", "@cfg"], "", "no account named 'nobody'"),
        (["tokens", "create", "--user", "nobody", "@cfg"], "", "no account named 'nobody'"),
        (["tokens", "revoke", "blt_", "@cfg"], "", "no active token starts with 'blt_'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error_exit_2_without_a_traceback(
    config: Path, args: list[str], stdin: str, says: str
) -> None:
    argv = [a for arg in args for a in (["--config", str(config)] if arg == "@cfg" else [arg])]
    done = _run(*argv, stdin=stdin)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    if stdin:
        assert stdin.strip() not in done.stderr


def test_both_config_and_db_is_refused(config: Path) -> None:
    done = _run("users", "list", "--config", str(config), "--db", str(config.parent / "b.db"))
    assert done.returncode == 2 and "one of them" in done.stderr


def test_an_auditor_is_given_clients_of_the_inventory_and_can_be_removed(config: Path) -> None:
    added = _run("users", "add", "aud", "--role", "auditor", "--clients", "beta, acme,beta",
                 "--config", str(config), stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added aud (auditor; sees beta, acme)"
    listed = json.loads(_run("users", "list", "--config", str(config), "-f", "json").stdout)
    assert listed == [{"name": "aud", "role": "auditor", "clients": ["beta", "acme"]}]
    duplicate = _run("users", "add", "aud", "--role", "admin", "--config", str(config),
                     stdin=PASSWORD + "\n")  # fmt: skip
    assert duplicate.returncode == 2 and "exists already" in duplicate.stderr
    token = _run("tokens", "create", "--user", "aud", "--config", str(config)).stdout.strip()
    removed = _run("users", "remove", "aud", "--config", str(config))
    assert removed.returncode == 0 and "its API tokens are revoked" in removed.stdout
    assert _run("users", "list", "--config", str(config), "-f", "json").stdout.strip() == "[]"
    db = ServiceDb.open(str(config.parent / "b.db"))
    try:
        assert accounts.user_for_token(db, token) is None
    finally:
        db.close()


@pytest.mark.postgres
def test_on_postgresql_by_db_url_the_token_is_kept_only_hashed(pg_url: str) -> None:
    added = _run("users", "add", "noc", "--role", "technician", "--db", pg_url,
                 stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    made = _run("tokens", "create", "--user", "noc", "--db", pg_url)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            everything = " ".join(
                str(value)
                for table in (users, api_tokens, audit_log)
                for row in conn.execute(sa.select(table))
                for value in row
            )
    finally:
        engine.dispose()
    assert token[4:] not in everything and PASSWORD.strip() not in everything
    assert token[:10] in everything  # the prefix, that names it in listings
    db = ServiceDb.open(pg_url)
    try:
        user = accounts.user_for_token(db, token)
        assert user is not None and user.name == "noc"
    finally:
        db.close()
