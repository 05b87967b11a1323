"""`winback serve`: the web console (FastAPI under uvicorn) over this process's app object, which owns the
warehouse file while it runs (docs/web.md)."""

from __future__ import annotations

import typer

from winback.cli.app import app, current
from winback.cli.output import handle_errors, print_json
from winback.i18n import t


@app.command("serve")
@handle_errors()
def serve_cmd(
    host: str = typer.Option(None, "--host", help="Address to listen on (default: the web_host setting, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port (default: the web_port setting, 8000; 0: a free one)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object {url} once listening."),
) -> None:
    """Run the web console: HQ pages, the JSON API (/openapi.json), logins, roles and the audit log."""
    from winback.web.server import serve

    wb = current()
    lang = wb.settings.lang  # on_ready may run on the server's thread, outside this command's language context

    def ready(url: str) -> None:
        if json_output:
            print_json({"url": url})
        else:
            typer.echo(t("winback console on {url} (Ctrl+C stops)", lang, url=url))

    serve(wb, host=host or wb.settings.web_host, port=wb.settings.web_port if port is None else port, on_ready=ready)
