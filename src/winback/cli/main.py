"""Entry point: imports every command module so it registers itself on the app."""

from __future__ import annotations

import sys

import click
import typer.main

from winback.cli import (  # noqa: F401  (imported for their @app.command registrations)
    campaign_cmd,
    coupon_cmd,
    dedupe_cmd,
    demo_cmd,
    dispatch_cmd,
    import_cmd,
    lifecycle_cmd,
    measure_cmd,
    overview_cmd,
    plan_cmd,
    quality_cmd,
    rejects_cmd,
    run_cmd,
    serve_cmd,
    staff_cmd,
    tasks_cmd,
    tokens_cmd,
    uplift_cmd,
    users_cmd,
    warehouse_cmd,
)
from winback.cli.app import app
from winback.cli.localize import localize, startup_lang


def command(lang: str | None = None) -> click.Command:
    """The click command tree of the CLI, its help and click's messages in `lang` (default: from argv/settings)."""
    cmd = typer.main.get_command(app)
    localize(cmd, lang or startup_lang())
    return cmd


def main() -> None:
    from winback.cli import remote  # while `winback serve` holds the warehouse, commands go through it

    remote.prepare(sys.argv[1:])
    command()(prog_name="winback")


if __name__ == "__main__":
    main()
