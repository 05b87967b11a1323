"""Entry point: imports every command module so it registers itself on the app."""

from __future__ import annotations

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
    quality_cmd,
    rejects_cmd,
    run_cmd,
    serve_cmd,
    staff_cmd,
    tasks_cmd,
    tokens_cmd,
    users_cmd,
    warehouse_cmd,
)
from winback.cli.app import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()
