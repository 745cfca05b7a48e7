"""The ``baluarte`` command: one module per command, joined here; errors printed without traces."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from baluarte import __version__
from baluarte.cli import (
    apply,
    check,
    collector_worker,
    collectors,
    controls,
    demo,
    diff,
    evidence,
    history,
    keys,
    lab,
    report,
    runs,
    serve,
    tokens,
    users,
    validate,
)
from baluarte.cli.examples import add_examples
from baluarte.cli.render import plain
from baluarte.errors import BaluarteError, InputError
from baluarte.exitcodes import ExitCode
from baluarte.masking import install_log_masking, mask_secrets

__all__ = ["app", "main"]

app = typer.Typer(
    name="baluarte",
    help="Compliance-as-code for managed IT providers: check devices against YAML policies, "
    "store every run, and report.",
    no_args_is_help=True,
    # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"baluarte {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print Baluarte's version and exit.",
        ),
    ] = False,
) -> None:
    """Compliance-as-code for managed IT providers: check devices against YAML policies, store
    every run, and report."""


for module in (
    check,
    apply,
    validate,
    controls,
    runs,
    report,
    diff,
    history,
    evidence,
    keys,
    demo,
    lab,
    serve,
    users,
    tokens,
    collectors,
    collector_worker,
):
    module.register(app)
add_examples(app)


def _usage_error(exc: Exception) -> bool:
    """A command-line usage error (unknown option, bad value), from click itself or from the
    copy of click newer Typer versions carry: matched by class name, they share no base."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)


def main() -> None:
    err = Console(stderr=True)
    install_log_masking()  # before any secret is resolved or any line logged
    try:
        code = app(standalone_mode=False)
    except BaluarteError as exc:
        # Input and store problems alike are the caller's to fix: usage exit code, no traceback.
        label = "error" if isinstance(exc, InputError) else type(exc).__name__
        for line in str(exc).splitlines():
            # the message quotes input (keys, values, file names): shown, never read as markup
            err.print(Text.assemble((f"{label}:", "bold red"), " ", plain(line)), soft_wrap=True)
        sys.exit(ExitCode.BAD_INPUT)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(ExitCode.BAD_INPUT)
    except Exception as exc:
        if _usage_error(exc):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(ExitCode.BAD_INPUT)
        # A bug of ours: the traceback still goes out (exit 1, as Python's own), but a library's
        # message in it may quote a secret it was given, so it is masked like every other text.
        sys.stderr.write(mask_secrets("".join(traceback.format_exception(exc))))
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
