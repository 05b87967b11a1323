"""`winback coupon redeem CODE --order ORDER_ID --store STORE` and `winback coupon qr CODE --out FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from winback.campaigns.coupons import display, save_qr, validate
from winback.campaigns.redeem import redeem
from winback.cli.app import app, settings
from winback.cli.output import console, emit, handle_errors
from winback.warehouse import open_warehouse

coupon_app = typer.Typer(help="Coupons: redeem at the till, print QR codes.", no_args_is_help=True)
app.add_typer(coupon_app, name="coupon")


@coupon_app.command("redeem")
@handle_errors()
def redeem_cmd(
    code: str = typer.Argument(..., help="The coupon code (dashes and case do not matter)."),
    order: str = typer.Option(..., "--order", help="The paid order it is used on."),
    store: str = typer.Option(..., "--store", help="The store redeeming it."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Redeem a coupon once, on its member's paid order (checks expiry and threshold)."""
    s = settings(json_output)
    with open_warehouse(s.db_path) as con:
        data = redeem(con, code, order_id=order, store_id=store)

    def render(d: dict[str, Any]) -> None:
        console.print(
            f"redeemed {d['code']} on order {d['order_id']} (member {d['member_id']}, "
            f"campaign {d['campaign_id']}, discount ¥{d['discount']:,.2f})"
        )

    emit(data, json_output, render)


@coupon_app.command("qr")
@handle_errors()
def qr_cmd(
    code: str = typer.Argument(...),
    out: Path = typer.Option(..., "--out", help="Image file, .png or .svg."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Write a scannable QR image of a coupon code."""
    c = validate(code)
    path = save_qr(c, out)
    emit({"code": display(c), "file": str(path)}, json_output, lambda d: console.print(f"wrote {d['file']}"))
