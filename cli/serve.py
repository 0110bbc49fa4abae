"""`devsearch serve`: the web gallery (serve/), bound to 127.0.0.1 unless told otherwise."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from devsearch.cli.options import HOME


def serve(
    home: Optional[Path] = HOME,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but loopback needs a token."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the page in the default browser."),
    token: Optional[str] = typer.Option(None, "--token", metavar="TOKEN",
                                        help="Require this token on every request (generated for non-loopback hosts)."),
) -> None:
    """Search and browse the collection in a web browser."""
    from devsearch.core.settings import Settings
    from devsearch.serve.server import serve as run

    run(Settings().with_options(home=home), host=host, port=port, token=token, open_browser=open_browser,
        say=lambda line: typer.echo(line))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
