"""`winback tokens add|list|revoke`: per-store API tokens for the tills (`POST /api/coupons/{code}/redeem`,
docs/web.md). A token is printed once when made; the warehouse keeps only its SHA-256."""

from __future__ import annotations

import getpass
from typing import Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, table
from winback.i18n import N_, _

tokens_app = typer.Typer(help="Tills' API tokens: add, list, revoke.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


def _tokens() -> Any:
    """The web room's tokens service over this command's app object."""
    from winback.web.tokens_service import TokensService

    return TokensService(current())


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


# the renderers take winback.web.store_tokens results (TokenAdded, TokenList, TokenRevoked)
def _render_added(added: Any) -> None:
    t = added.till
    console.print(_("till token for store {store} (id {id}):", store=t.store_id, id=t.token_id), highlight=False)
    console.print(added.token, markup=False, highlight=False)
    console.print(_("The token is shown this once: put it in the till now; if lost, revoke it and add another."))


TOKEN_HEADS = (N_("id"), N_("store"), N_("label"), N_("created"), N_("status"))


def _render_list(found: Any) -> None:
    revoked, active = _("revoked"), _("active")
    rows = [(t.token_id, t.store_id, t.label or "—", fmt(t.created_at), revoked if t.revoked_at else active)
            for t in found.tokens]  # fmt: skip
    console.print(table(_("till tokens"), [_(h) for h in TOKEN_HEADS], rows))


def _render_revoked(done: Any) -> None:
    t = done.till
    if done.already:
        console.print(_("token {id} was already revoked", id=t.token_id), highlight=False)
    else:
        console.print(_("token {id} (store {store}) revoked", id=t.token_id, store=t.store_id), highlight=False)


@tokens_app.command("add")
@handle_errors()
def add_cmd(
    store: str = typer.Option(..., "--store", help="The store whose tills use the token."),
    label: str = typer.Option(None, "--label", help="A note: which till, which vendor."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Make a till token for a store; it is printed once (only its SHA-256 is stored)."""
    emit(_tokens().add(store, label=label, actor=_actor()), json_output, _render_added)


@tokens_app.command("list")
@handle_errors()
def list_cmd(
    store: str = typer.Option(None, "--store", help="Only this store's tokens."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Every till token: id, store, label, when made, whether revoked (never the token itself)."""
    emit(_tokens().list(store_id=store), json_output, _render_list)


@tokens_app.command("revoke")
@handle_errors()
def revoke_cmd(
    token_id: str = typer.Argument(..., help="The token's id, as `tokens list` shows it."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Revoke a till token: its next request is a 401."""
    emit(_tokens().revoke(token_id, actor=_actor()), json_output, _render_revoked)
