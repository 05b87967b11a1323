"""`winback coupon redeem CODE --order ORDER_ID --store STORE` and `winback coupon qr CODE --out FILE`.

A thin shell over `wb.coupons` (campaigns.coupon_service.CouponService), imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors

if TYPE_CHECKING:
    from winback.campaigns.types import RedeemResult

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
    emit(current().coupons.redeem(code, order_id=order, store_id=store), json_output, _render_redeem)


def _render_redeem(r: RedeemResult) -> None:
    console.print(
        f"redeemed {r.code} on order {r.order_id} (member {r.member_id}, "
        f"campaign {r.campaign_id}, discount ¥{r.discount:,.2f})"
    )


@coupon_app.command("qr")
@handle_errors()
def qr_cmd(
    code: str = typer.Argument(...),
    out: Path = typer.Option(..., "--out", help="Image file, .png or .svg."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Write a scannable QR image of a coupon code."""
    emit(current().coupons.qr(code, out), json_output, lambda r: console.print(f"wrote {r.file}"))
