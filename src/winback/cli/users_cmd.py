"""`winback users add|list|disable|reset|audit`: the web console's users, their roles and scope, and the audit log
(docs/web.md). Passwords come on standard input only (--password-stdin), never as an argument."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, table
from winback.i18n import N_, _

users_app = typer.Typer(help="Web console users: add, list, disable, reset; the audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _users() -> Any:
    """The web room's users service over this command's app object."""
    from winback.web.users_service import UsersService

    return UsersService(current())


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


# the renderers take winback.web.types results (UserChange, UserList, AuditLog): web/ is imported in commands only
def _render_change(change: Any) -> None:
    u = change.user
    if change.action == "add":
        line = _("user {user} ({role}) added", user=u.username, role=u.role)
    elif change.action == "disable":
        line = _("user {user} ({role}) disabled", user=u.username, role=u.role)
    else:
        line = _("user {user} ({role}) password reset", user=u.username, role=u.role)
    console.print(line, highlight=False)
    if change.sessions_revoked:
        console.print(_("{n} sessions revoked", n=change.sessions_revoked), highlight=False)


USER_HEADS = (N_("user"), N_("role"), N_("stores"), N_("guide"), N_("status"))
AUDIT_HEADS = (N_("at"), N_("who"), N_("action"), N_("target"), N_("address"))


def _render_list(found: Any) -> None:
    off, on = _("disabled"), _("active")
    rows = [(u.username, u.role, ", ".join(u.stores) or "—", u.guide_id or "—", off if u.disabled_at else on)
            for u in found.users]  # fmt: skip
    console.print(table(_("console users"), [_(h) for h in USER_HEADS], rows))


def _render_audit(log: Any) -> None:
    rows = [(fmt(e.at), e.username, e.action, e.target or "—", e.ip or "—") for e in log.entries]
    console.print(table(_("audit log"), [_(h) for h in AUDIT_HEADS], rows))


@users_app.command("add")
@handle_errors()
def add_cmd(
    username: str = typer.Argument(..., help="The login name."),
    role: str = typer.Option(..., "--role", help="hq_admin | analyst | store_manager | guide."),
    stores: list[str] = typer.Option(None, "--store", help="A store manager's store (repeat for several)."),
    guide: str = typer.Option(None, "--guide", help="A guide's guide_id (her members and tasks)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Add a console user with a role (and a store manager's stores or a guide's guide id)."""
    current()  # the settings (and so the language of the prompt) before asking
    password = _password() if password_stdin else getpass.getpass(_("Password: "))
    change = _users().add(username, role=role, password=password, stores=stores or [], guide_id=guide, actor=_actor())
    emit(change, json_output, _render_change)


@users_app.command("list")
@handle_errors()
def list_cmd(json_output: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Every console user, its role, scope and status."""
    emit(_users().list(), json_output, _render_list)


@users_app.command("disable")
@handle_errors()
def disable_cmd(
    username: str = typer.Argument(..., help="The login name."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Disable a user (she can no longer log in; her sessions end now)."""
    emit(_users().disable(username, actor=_actor()), json_output, _render_change)


@users_app.command("reset")
@handle_errors()
def reset_cmd(
    username: str = typer.Argument(..., help="The login name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from standard input."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Set a new password (re-enables a disabled user; every old session ends)."""
    current()
    password = _password() if password_stdin else getpass.getpass(_("New password: "))
    emit(_users().reset(username, password=password, actor=_actor()), json_output, _render_change)


@users_app.command("audit")
@handle_errors()
def audit_cmd(
    limit: int = typer.Option(100, "--limit", help="The newest N entries."),
    action: str = typer.Option(None, "--action", help="Only this action (login, phone_reveal, user_add, …)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """The audit log: who did what, when, from where (writes, exports, phone reveals, logins)."""
    emit(_users().audit(limit=limit, action=action), json_output, _render_audit)
