"""``baluarte serve``: the scheduled compliance service (scheduler, dashboard, API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def serve_command(
    config: Annotated[
        Path,
        typer.Option(
            "--config", "-c", help="The service's configuration file (see docs/serve.md)."
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            "--insecure-cookies",
            help="Send the session cookie over plain HTTP too (only on a trusted network; "
            "put the service behind HTTPS instead).",
        ),
    ] = False,
) -> None:
    """Run the service: nightly checks on schedule, the dashboard, the API and notifications.

    Example: baluarte serve --config /etc/baluarte/serve.yaml --host 0.0.0.0 --port 8080

    Exit codes: 0 stopped on SIGINT/SIGTERM, 2 bad configuration or inputs.
    """
    from baluarte.service.runtime import serve

    serve(config, host=host, port=port, secure_cookies=not insecure_cookies)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
