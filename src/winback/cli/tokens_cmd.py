"""`winback tokens add|list|revoke`: per-store API tokens for the tills (`POST /api/coupons/{code}/redeem`,
docs/web.md). A token is printed once when made; the warehouse keeps only its SHA-256."""

from __future__ import annotations

import getpass
from typing import Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, say, table

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
    lang, t = current().settings.lang, added.till
    console.print(say(lang, f"门店 {t.store_id} 的收银台令牌(编号 {t.token_id}):",
                      f"till token for store {t.store_id} (id {t.token_id}):"))  # fmt: skip
    console.print(added.token, markup=False, highlight=False)
    console.print(
        say(lang, "令牌只显示这一次,请立即配置到收银台;丢失请吊销后重新生成。",
            "The token is shown this once: put it in the till now; if lost, revoke it and add another.")
    )  # fmt: skip


def _render_list(found: Any) -> None:
    lang = current().settings.lang
    cols = [say(lang, "编号", "id"), say(lang, "门店", "store"), say(lang, "备注", "label"),
            say(lang, "创建时间", "created"), say(lang, "状态", "status")]  # fmt: skip
    revoked, active = say(lang, "已吊销", "revoked"), say(lang, "有效", "active")
    rows = [(t.token_id, t.store_id, t.label or "—", fmt(t.created_at), revoked if t.revoked_at else active)
            for t in found.tokens]  # fmt: skip
    console.print(table(say(lang, "收银台令牌", "till tokens"), cols, rows))


def _render_revoked(done: Any) -> None:
    lang, t = current().settings.lang, done.till
    if done.already:
        console.print(say(lang, f"令牌 {t.token_id} 此前已吊销", f"token {t.token_id} was already revoked"))
    else:
        console.print(say(lang, f"令牌 {t.token_id}(门店 {t.store_id})已吊销",
                          f"token {t.token_id} (store {t.store_id}) revoked"))  # fmt: skip


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
