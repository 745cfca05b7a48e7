"""Local accounts: argon2 password hashes, login throttling, hashed revocable tokens, roles."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from baluarte.errors import InputError
from baluarte.service import accounts, audit
from baluarte.service.accounts import LoginRefused, Throttled
from baluarte.service.db import ServiceDb
from baluarte.service.tables import api_tokens, users

PASSWORD = "correct horse battery"


def _row(db: ServiceDb, name: str) -> sa.RowMapping:
    with db.read() as conn:
        return conn.execute(sa.select(users).where(users.c.name == name)).mappings().one()


def test_the_password_is_kept_as_an_argon2id_hash_only(service_db: ServiceDb) -> None:
    user = accounts.add_user(service_db, "ana", "technician", PASSWORD)
    assert (user.name, user.role, user.clients) == ("ana", "technician", None)
    stored = _row(service_db, "ana")["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    assert accounts.authenticate(service_db, "ana", PASSWORD, address="192.0.2.1") == user
    entries = [(e.action, e.user_name) for e in audit.recent(service_db)]
    assert ("login", "ana") in entries and ("user_added", None) in entries


def test_a_wrong_password_or_name_is_refused_alike(service_db: ServiceDb) -> None:
    accounts.add_user(service_db, "ana", "admin", PASSWORD)
    for name, password in (("ana", PASSWORD + "x"), ("nobody", PASSWORD), ("ana", "")):
        with pytest.raises(LoginRefused) as refused:
            accounts.authenticate(service_db, name, password, address="192.0.2.1")
        assert str(refused.value) == "wrong name or password"
        assert not isinstance(refused.value, Throttled)
    failed = [e.user_name for e in audit.recent(service_db) if e.action == "login_failed"]
    assert sorted(failed) == ["ana", "ana", "nobody"]


def test_five_refusals_of_an_account_throttle_it_even_with_the_right_password(
    service_db: ServiceDb,
) -> None:
    accounts.add_user(service_db, "ana", "technician", PASSWORD)
    accounts.add_user(service_db, "luis", "technician", PASSWORD)
    now = datetime.now(UTC)
    for i in range(accounts.MAX_FAILURES_PER_USER):
        with pytest.raises(LoginRefused) as refused:
            accounts.authenticate(service_db, "ana", "guess", address=f"192.0.2.{i}", now=now)
        assert not isinstance(refused.value, Throttled)
    # from yet another address: the account itself is throttled
    with pytest.raises(Throttled):
        accounts.authenticate(service_db, "ana", PASSWORD, address="198.51.100.7", now=now)
    # another account from one of those addresses is not
    assert accounts.authenticate(service_db, "luis", PASSWORD, address="192.0.2.0", now=now)
    # once the refusals are older than the window, the right password opens again
    later = now + accounts.THROTTLE_WINDOW + timedelta(seconds=1)
    assert accounts.authenticate(service_db, "ana", PASSWORD, address="198.51.100.7", now=later)
    assert "login_throttled" in [e.action for e in audit.recent(service_db)]


def test_twenty_refusals_from_an_address_throttle_it_for_every_account(
    service_db: ServiceDb,
) -> None:
    accounts.add_user(service_db, "ana", "technician", PASSWORD)
    now = datetime.now(UTC)
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS):
        # a different name each time: no account reaches its own limit
        with pytest.raises(LoginRefused) as refused:
            accounts.authenticate(service_db, f"user{i}", "guess", address="203.0.113.9", now=now)
        assert not isinstance(refused.value, Throttled)
    with pytest.raises(Throttled):
        accounts.authenticate(service_db, "ana", PASSWORD, address="203.0.113.9", now=now)
    assert accounts.authenticate(service_db, "ana", PASSWORD, address="203.0.113.10", now=now)


def test_tokens_are_kept_hashed_name_their_account_and_can_be_revoked(
    service_db: ServiceDb,
) -> None:
    accounts.add_user(service_db, "noc", "technician", PASSWORD)
    token = accounts.create_token(service_db, "noc")
    other = accounts.create_token(service_db, "noc")
    assert token.startswith(accounts.TOKEN_PREFIX) and len(token) > 40 and token != other
    with service_db.read() as conn:
        rows = conn.execute(sa.select(api_tokens)).mappings().all()
    assert {r["token_sha256"] for r in rows} == {
        hashlib.sha256(t.encode()).hexdigest() for t in (token, other)
    }
    for r in rows:
        assert token not in " ".join(str(v) for v in r.values())
    user = accounts.user_for_token(service_db, token)
    assert user is not None and user.name == "noc"
    listed = {t.prefix: t for t in accounts.list_tokens(service_db)}
    mine = listed[token[: accounts.TOKEN_NAME_LENGTH]]
    assert mine.user == "noc" and mine.last_used_at is not None and not mine.revoked
    # unknown, malformed and over-long tokens name nobody
    for wrong in (token + "x", token[4:], "Bearer " + token, "blt_" + "a" * 200, ""):
        assert accounts.user_for_token(service_db, wrong) is None
    assert accounts.revoke_token(service_db, token[: accounts.TOKEN_NAME_LENGTH]) == 1
    assert accounts.user_for_token(service_db, token) is None
    assert accounts.user_for_token(service_db, other) is not None  # only the one named
    with pytest.raises(InputError, match="prefix"):
        accounts.revoke_token(service_db, "blt_")


def test_a_revoke_prefix_is_matched_literally_never_as_a_pattern(service_db: ServiceDb) -> None:
    accounts.add_user(service_db, "noc", "technician", PASSWORD)
    token = accounts.create_token(service_db, "noc")
    # '%' and '_' are SQL LIKE wildcards: typed, they must match only themselves
    assert accounts.revoke_token(service_db, "blt_%%%%") == 0
    assert accounts.revoke_token(service_db, "blt" + "_" * 5) == 0
    assert accounts.user_for_token(service_db, token) is not None


def test_removing_an_account_revokes_its_tokens_and_refuses_its_logins(
    service_db: ServiceDb,
) -> None:
    accounts.add_user(service_db, "ana", "technician", PASSWORD)
    token = accounts.create_token(service_db, "ana")
    accounts.remove_user(service_db, "ana", by="admin")
    assert accounts.user_for_token(service_db, token) is None
    assert [t.revoked for t in accounts.list_tokens(service_db)] == [True]
    assert accounts.list_users(service_db) == []
    with pytest.raises(LoginRefused):
        accounts.authenticate(service_db, "ana", PASSWORD, address=None)
    with pytest.raises(InputError, match="no account named 'ana'"):
        accounts.remove_user(service_db, "ana")
    with pytest.raises(InputError, match="no account named 'ana'"):
        accounts.create_token(service_db, "ana")


def test_an_auditor_needs_clients_and_only_an_auditor_has_them(service_db: ServiceDb) -> None:
    with pytest.raises(InputError, match="an auditor needs --clients"):
        accounts.add_user(service_db, "aud", "auditor", PASSWORD)
    with pytest.raises(InputError, match="--clients is for auditors"):
        accounts.add_user(service_db, "tec", "technician", PASSWORD, clients=["acme"])
    auditor = accounts.add_user(service_db, "aud", "auditor", PASSWORD, clients=["acme", "beta"])
    assert auditor.clients == ("acme", "beta")
    assert auditor.can_see("acme") and not auditor.can_see("gamma")
    assert not auditor.can_start_checks and not auditor.is_admin
    assert auditor.visible(["gamma", "beta", "acme"]) == ["beta", "acme"]
    technician = accounts.add_user(service_db, "tec", "technician", PASSWORD)
    assert technician.can_see("gamma") and technician.can_start_checks
    assert not technician.is_admin
    assert accounts.add_user(service_db, "boss", "admin", PASSWORD).is_admin


@pytest.mark.parametrize(
    ("name", "role", "password", "clients", "says"),
    [
        ("Ana", "admin", PASSWORD, None, "an account name is"),
        ("-ana", "admin", PASSWORD, None, "an account name is"),
        ("ana", "root", PASSWORD, None, "unknown role 'root'"),
        ("ana", "admin", "short", None, "too short"),
        # a comma would split into two clients when read back
        ("ana", "auditor", PASSWORD, ["acme,beta"], "not a client name"),
        ("ana", "auditor", PASSWORD, ["acme", "bad name"], "not a client name"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(
    sqlite_db: ServiceDb,
    name: str,
    role: str,
    password: str,
    clients: list[str] | None,
    says: str,
) -> None:
    with pytest.raises(InputError, match=says):
        accounts.add_user(sqlite_db, name, role, password, clients=clients)
    assert accounts.list_users(sqlite_db) == []


def test_an_account_name_is_taken_once(sqlite_db: ServiceDb) -> None:
    accounts.add_user(sqlite_db, "ana", "admin", PASSWORD)
    with pytest.raises(InputError, match="exists already"):
        accounts.add_user(sqlite_db, "ana", "technician", PASSWORD)
    assert [u.role for u in accounts.list_users(sqlite_db)] == ["admin"]
