"""`winback coupon redeem CODE --order ORDER_ID --store STORE`, `winback coupon void CODE|--campaign ID` and
`winback coupon qr CODE --out FILE`.

A thin shell over `wb.coupons` (campaigns.coupon_service.CouponService), imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors
from winback.i18n import _

if TYPE_CHECKING:
    from winback.campaigns.types import RedeemResult, VoidResult

coupon_app = typer.Typer(help="Coupons: redeem at the till, void, print QR codes.", no_args_is_help=True)
app.add_typer(coupon_app, name="coupon")


@coupon_app.command("redeem")
@handle_errors()
def redeem_cmd(
    code: str = typer.Argument(..., help="The coupon code (dashes and case do not matter)."),
    order: str = typer.Option(..., "--order", help="The paid order it is used on."),
    store: str = typer.Option(..., "--store", help="The store redeeming it (required; must match the order's)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Redeem a coupon once, on its member's paid order (checks expiry at this moment, store and threshold)."""
    wb = current()
    emit(
        wb.coupons.redeem(code, order_id=order, store_id=store),
        json_output,
        _render_redeem,
    )


def _render_redeem(r: RedeemResult) -> None:
    console.print(
        _(
            "redeemed {code} on order {order} (member {member}, campaign {campaign}, discount ¥{discount:,.2f})",
            code=r.code,
            order=r.order_id,
            member=r.member_id,
            campaign=r.campaign_id,
            discount=r.discount,
        ),
        highlight=False,
    )


@coupon_app.command("void")
@handle_errors()
def void_cmd(
    code: str = typer.Argument(None, help="The coupon code to void (or give --campaign)."),
    campaign: str = typer.Option(None, "--campaign", help="Void every unredeemed coupon of this campaign."),
    by: str = typer.Option(None, "--by", help="Who voids it (recorded; default: your login name)."),
    reason: str = typer.Option(None, "--reason", help="Why (recorded)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Void a coupon, or all unredeemed coupons of a campaign; who, when and why are recorded on each coupon."""
    wb = current()
    result = wb.coupons.void(code, campaign_id=campaign, by=by, reason=reason)
    emit(result, json_output, _render_void)


def _render_void(r: VoidResult) -> None:
    what = r.code or _("unredeemed coupons of campaign {campaign}", campaign=r.campaign_id)
    console.print(
        _(
            "voided {n:,} ({what}) by {who} at {when}: {reason}",
            n=r.voided,
            what=what,
            who=r.voided_by,
            when=f"{r.voided_at:%Y-%m-%d %H:%M}",
            reason=r.reason,
        ),
        highlight=False,
    )


@coupon_app.command("qr")
@handle_errors()
def qr_cmd(
    code: str = typer.Argument(..., help="The coupon code."),
    out: Path = typer.Option(..., "--out", help="Image file, .png or .svg."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Write a scannable QR image of a coupon code."""
    emit(
        current().coupons.qr(code, out),
        json_output,
        lambda r: console.print(_("wrote {file}", file=r.file), highlight=False),
    )
