"""``baluarte users add|list|remove``: the service's local accounts (``baluarte serve``).

A password is read from the terminal (twice, not echoed) or, when standard input is not a
terminal, as one line from it; never from an option, so it stays out of the process list and
the shell's history.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from baluarte.cli.options import Format, FormatOpt
from baluarte.errors import InputError

if TYPE_CHECKING:
    from baluarte.service.db import ServiceDb

__all__ = [
    "ServiceConfigOpt",
    "ServiceDbOpt",
    "actor",
    "open_service_db",
    "read_password",
    "register",
]

ServiceConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="The service's configuration file: its db: is the store used."),
]
ServiceDbOpt = Annotated[
    str | None,
    typer.Option("--db", help="The store instead: a SQLite file path or a PostgreSQL URL."),
]

users_app = typer.Typer(
    help="Accounts of the service (baluarte serve): admins, technicians and auditors.",
    no_args_is_help=True,
)


def open_service_db(config: Path | None, db: str | None) -> ServiceDb:
    """The service's database named by ``--config`` or ``--db`` (exactly one)."""
    from baluarte.service.db import ServiceDb

    if (config is None) == (db is None):
        raise InputError(
            "give the service's --config FILE or its store as --db URL (one of them)",
            code="usage",
        )
    if config is not None:
        from baluarte.service.config import load_config

        return ServiceDb.open(load_config(config).db_location)
    return ServiceDb.open(db)


def actor() -> str:
    """Who acts from the command line, as the audit log names them."""
    from baluarte.engine import operator_name

    return f"cli:{operator_name()}"


def read_password() -> str:
    """A new password: typed twice at a terminal, else one line of standard input."""
    if sys.stdin.isatty():
        try:
            first = getpass.getpass("Password: ")
            again = getpass.getpass("Password again: ")
        except EOFError:
            raise InputError("no password given", code="missing_key", key="password") from None
        if first != again:
            raise InputError("the two passwords differ", code="wrong_value", key="password")
        return first
    line = sys.stdin.readline()
    if not line:
        raise InputError(
            "no password on standard input (one line expected)", code="missing_key", key="password"
        )
    return line.removesuffix("\n").removesuffix("\r")


def _split_clients(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [c.strip() for c in text.split(",") if c.strip()]
    return list(dict.fromkeys(names))  # once each, in the order given


def _known_clients(config: Path, clients: list[str]) -> None:
    """With --config, an auditor's clients must be in the service's inventory (a typo would
    otherwise give them an empty dashboard)."""
    from baluarte.inventory import load_inventory
    from baluarte.service.config import load_config
    from baluarte.validation import did_you_mean

    known = [c.name for c in load_inventory(load_config(config).inventory_paths).clients]
    for name in clients:
        if name not in known:
            raise InputError(
                f"no client named {name!r} in the service's inventory{did_you_mean(name, known)}",
                code="unknown_reference",
                key="--clients",
            )


@users_app.command("add")
def add_command(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="Account name: lowercase letters, digits, . _ @ -"),
    ],
    role: Annotated[str, typer.Option("--role", help="admin, technician or auditor.")],
    clients: Annotated[
        str | None,
        typer.Option("--clients", help="An auditor's clients, comma-separated (a,b)."),
    ] = None,
    config: ServiceConfigOpt = None,
    db: ServiceDbOpt = None,
) -> None:
    """Add an account; its password is read from the terminal (twice) or one line of stdin."""
    from baluarte.service.accounts import ROLES, add_user, check_name, check_password, get_user

    # everything that can be refused is refused before the password is asked for
    check_name(name)
    if role not in ROLES:
        raise InputError(
            f"unknown role {role!r}", code="wrong_value", key="--role", allowed=", ".join(ROLES)
        )
    names = _split_clients(clients)
    if role == "auditor" and not names:
        raise InputError("an auditor needs --clients: the clients they may see", code="usage")
    if role != "auditor" and names:
        raise InputError(f"a {role} sees every client: --clients is for auditors", code="usage")
    if config is not None and names:
        _known_clients(config, names)
    service_db = open_service_db(config, db)
    try:
        if get_user(service_db, name) is not None:
            raise InputError(f"an account named {name!r} exists already", code="duplicate_name")
        password = check_password(read_password())
        user = add_user(service_db, name, role, password, clients=names, by=actor())
    finally:
        service_db.close()
    seen = ", ".join(user.clients) if user.clients is not None else "every client"
    typer.echo(f"added {user.name} ({user.role}; sees {seen})")


@users_app.command("list")
def list_command(
    config: ServiceConfigOpt = None, db: ServiceDbOpt = None, output: FormatOpt = Format.TEXT
) -> None:
    """List the active accounts."""
    from baluarte.service.accounts import list_users

    service_db = open_service_db(config, db)
    try:
        found = list_users(service_db)
    finally:
        service_db.close()
    if output is Format.JSON:
        rows = [
            {"name": u.name, "role": u.role, "clients": list(u.clients) if u.clients else None}
            for u in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    if not found:
        typer.echo("no accounts", err=True)
        return
    width = max(len("NAME"), *(len(u.name) for u in found))
    typer.echo(f"{'NAME':<{width}}  {'ROLE':<10}  CLIENTS")
    for u in found:
        seen = ",".join(u.clients) if u.clients is not None else "(all)"
        typer.echo(f"{u.name:<{width}}  {u.role:<10}  {seen}")


@users_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The account to disable.")],
    config: ServiceConfigOpt = None,
    db: ServiceDbOpt = None,
) -> None:
    """Disable an account and revoke its API tokens (the audit log keeps naming it)."""
    from baluarte.service.accounts import remove_user

    service_db = open_service_db(config, db)
    try:
        remove_user(service_db, name, by=actor())
    finally:
        service_db.close()
    typer.echo(f"removed {name}; its API tokens are revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
