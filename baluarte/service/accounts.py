"""Local accounts, their roles and API tokens.

Roles: an **admin** manages accounts and sees every client; a **technician** sees every client
and may start checks; an **auditor** sees only the clients named on their account, read-only.
Passwords are hashed with argon2id (argon2-cffi's defaults); API tokens are 32 random bytes,
kept only as their SHA-256 (a token this long needs no slow hash), shown once when made.

Login throttling counts the audit log's recent refusals, so it holds across restarts and
across several ``serve`` processes on one store.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from baluarte.errors import InputError
from baluarte.service import audit
from baluarte.service.db import ServiceDb
from baluarte.service.tables import api_tokens, users

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "TOKEN_NAME_LENGTH",
    "TOKEN_PREFIX",
    "LoginRefused",
    "Role",
    "Throttled",
    "TokenInfo",
    "User",
    "add_user",
    "authenticate",
    "check_name",
    "check_password",
    "create_token",
    "get_user",
    "list_tokens",
    "list_users",
    "remove_user",
    "revoke_token",
    "user_for_token",
]

Role = Literal["admin", "technician", "auditor"]
ROLES: tuple[str, ...] = get_args(Role)
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "blt_"
# how much of a token is kept in clear to name it in listings (6 random characters)
TOKEN_NAME_LENGTH = len(TOKEN_PREFIX) + 6
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
# an inventory client's name (baluarte.inventory): never a comma, so the list kept comma-joined
# splits back into the same names
_CLIENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

# Refusals tolerated per account and per remote address within the window before the next
# attempt is refused without even checking the password.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20

_hasher = PasswordHasher()
# verified against when the account does not exist, so a wrong name costs as long as a wrong
# password and response times do not tell which names exist
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    clients: tuple[str, ...] | None  # an auditor's clients; None: every client

    def can_see(self, client: str) -> bool:
        return self.clients is None or client in self.clients

    def visible(self, names: Sequence[str]) -> list[str]:
        return [n for n in names if self.can_see(n)]

    @property
    def can_start_checks(self) -> bool:
        return self.role in ("admin", "technician")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginRefused(Exception):
    """Wrong name or password (which one is never said)."""


class Throttled(LoginRefused):
    """Too many refusals lately for this account or address: try again later."""


def _user(row: sa.RowMapping) -> User:
    clients = row["clients"]
    return User(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        clients=tuple(c for c in clients.split(",") if c) if clients is not None else None,
    )


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(
            "an account name is 1-64 lowercase letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
            code="wrong_value",
            key="name",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters",
            code="wrong_value",
            key="password",
        )
    return password


def add_user(
    db: ServiceDb,
    name: str,
    role: str,
    password: str,
    *,
    clients: Sequence[str] | None = None,
    by: str | None = None,
) -> User:
    """Make an account (an auditor must be given clients: an auditor of everything is a
    technician who cannot act)."""
    check_name(name)
    check_password(password)
    if role not in ROLES:
        raise InputError(
            f"unknown role {role!r}", code="wrong_value", key="role", allowed=", ".join(ROLES)
        )
    if role == "auditor" and not clients:
        raise InputError("an auditor needs --clients: the clients they may see", code="missing_key")
    if role != "auditor" and clients:
        raise InputError(
            f"a {role} sees every client: --clients is for auditors", code="wrong_value"
        )
    for client in clients or ():
        if not _CLIENT.fullmatch(client):
            raise InputError(
                f"{client!r} is not a client name: letters, digits, '.', '_' and '-',"
                " starting with a letter or digit",
                code="wrong_value",
                key="clients",
            )
    now = datetime.now(UTC)
    with db.write() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
            raise InputError(f"an account named {name!r} exists already", code="duplicate_name")
        conn.execute(
            users.insert().values(
                name=name,
                role=role,
                clients=",".join(clients) if clients else None,
                password_hash=_hasher.hash(password),
                created_at=now,
            )
        )
        audit.record(conn, "user_added", user=by, detail={"name": name, "role": role}, at=now)
    user = get_user(db, name)
    assert user is not None  # just written
    return user


def get_user(db: ServiceDb, name: str) -> User | None:
    with db.read() as conn:
        row = (
            conn.execute(
                sa.select(users).where(users.c.name == name, users.c.disabled_at.is_(None))
            )
            .mappings()
            .first()
        )
    return _user(row) if row else None


def list_users(db: ServiceDb) -> list[User]:
    with db.read() as conn:
        rows = (
            conn.execute(
                sa.select(users).where(users.c.disabled_at.is_(None)).order_by(users.c.name)
            )
            .mappings()
            .all()
        )
    return [_user(r) for r in rows]


def remove_user(db: ServiceDb, name: str, *, by: str | None = None) -> None:
    """Disable the account and revoke its tokens (the row stays: the audit log names it)."""
    now = datetime.now(UTC)
    with db.write() as conn:
        row = conn.execute(
            sa.select(users.c.id).where(users.c.name == name, users.c.disabled_at.is_(None))
        ).first()
        if row is None:
            raise InputError(f"no account named {name!r}", code="unknown_reference")
        conn.execute(users.update().where(users.c.id == row.id).values(disabled_at=now))
        conn.execute(
            api_tokens.update()
            .where(api_tokens.c.user_id == row.id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        audit.record(conn, "user_removed", user=by, detail={"name": name}, at=now)


def authenticate(
    db: ServiceDb, name: str, password: str, *, address: str | None, now: datetime | None = None
) -> User:
    """The account for ``name`` and ``password``, or LoginRefused (Throttled when too many
    refusals came lately from this account or address). Every outcome is in the audit log."""
    now = now or datetime.now(UTC)
    since = now - THROTTLE_WINDOW
    with db.read() as conn:
        by_user = audit.count_since(conn, "login_failed", since, user=name)
        by_address = (
            audit.count_since(conn, "login_failed", since, address=address) if address else 0
        )
        row = (
            conn.execute(
                sa.select(users).where(users.c.name == name, users.c.disabled_at.is_(None))
            )
            .mappings()
            .first()
        )
    if by_user >= MAX_FAILURES_PER_USER or by_address >= MAX_FAILURES_PER_ADDRESS:
        audit.record(db, "login_throttled", user=name, address=address, at=now)
        raise Throttled("too many failed logins: try again later")
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
        ok = row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        audit.record(db, "login_failed", user=name, address=address, at=now)
        raise LoginRefused("wrong name or password")
    if _hasher.check_needs_rehash(row["password_hash"]):
        with db.write() as conn:
            conn.execute(
                users.update()
                .where(users.c.id == row["id"])
                .values(password_hash=_hasher.hash(password))
            )
    audit.record(db, "login", user=name, address=address, at=now)
    return _user(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: ServiceDb, user_name: str, *, by: str | None = None) -> str:
    """A new API token for the account: returned once, kept only as its hash."""
    user = get_user(db, user_name)
    if user is None:
        raise InputError(f"no account named {user_name!r}", code="unknown_reference")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with db.write() as conn:
        conn.execute(
            api_tokens.insert().values(
                user_id=user.id,
                token_sha256=_token_hash(token),
                prefix=token[:TOKEN_NAME_LENGTH],
                created_at=now,
            )
        )
        audit.record(
            conn,
            "token_created",
            user=by or user_name,
            detail={"for": user_name, "prefix": token[:TOKEN_NAME_LENGTH]},
            at=now,
        )
    return token


@dataclass(frozen=True)
class TokenInfo:
    prefix: str
    user: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def list_tokens(db: ServiceDb) -> list[TokenInfo]:
    query = (
        sa.select(api_tokens, users.c.name)
        .join(users, users.c.id == api_tokens.c.user_id)
        .order_by(api_tokens.c.id)
    )
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        TokenInfo(
            prefix=r["prefix"],
            user=r["name"],
            created_at=r["created_at"],
            last_used_at=r["last_used_at"],
            revoked=r["revoked_at"] is not None,
        )
        for r in rows
    ]


def revoke_token(db: ServiceDb, prefix: str, *, by: str | None = None) -> int:
    """Revoke the tokens starting with ``prefix`` (as listed); how many were revoked."""
    if len(prefix) < len(TOKEN_PREFIX) + 4:
        raise InputError(
            "give the token's prefix as `baluarte tokens list` shows it", code="wrong_value"
        )
    now = datetime.now(UTC)
    with db.write() as conn:
        done = conn.execute(
            api_tokens.update()
            # autoescape: a '%' or '_' in what was typed is that character, not a wildcard
            .where(
                api_tokens.c.prefix.startswith(prefix, autoescape=True),
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        ).rowcount
        audit.record(conn, "token_revoked", user=by, detail={"prefix": prefix}, at=now)
    return int(done)


def user_for_token(db: ServiceDb, token: str, *, now: datetime | None = None) -> User | None:
    """The active account a bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    now = now or datetime.now(UTC)
    query = (
        sa.select(users, api_tokens.c.id.label("token_id"))
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(
            api_tokens.c.token_sha256 == _token_hash(token),
            api_tokens.c.revoked_at.is_(None),
            users.c.disabled_at.is_(None),
        )
    )
    with db.read() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    with db.write() as conn:
        conn.execute(
            api_tokens.update().where(api_tokens.c.id == row["token_id"]).values(last_used_at=now)
        )
    return _user(row)
