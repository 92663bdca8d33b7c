"""`pedgpt users add|list|disable|enable|unlock|passwd|delete` — clinician accounts.

    pedgpt users add dr_li --display-name 李医生          # asks for the password twice
    echo "$PASSWORD" | pedgpt users add dr_li --password-stdin
    pedgpt users list --json

Passwords are read from the terminal (not echoed) or from one line of stdin, never from the
command line (it would land in shell history and `ps`), and are never printed or logged.
"""

from __future__ import annotations

import argparse
import sys

from pedgpt.cli.common import add_json_flag, emit_json
from pedgpt.errors import InputError


def register(subparsers) -> None:
    parser = subparsers.add_parser("users", help="manage clinician accounts",
                                   description="Manage clinician accounts.")
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True,
                                parser_class=type(parser))
    add = _action(sub, "add", "create an account", _add)
    add.add_argument("--display-name", default="", help="name shown in the app (e.g. 李医生)")
    _password_flag(add)
    listing = sub.add_parser("list", help="list accounts")
    _common(listing)
    listing.set_defaults(func=_list)
    _action(sub, "disable", "block an account from logging in (its data is kept)", _disable)
    _action(sub, "enable", "re-enable a disabled or locked account", _enable)
    _action(sub, "unlock", "clear a login lockout", _unlock)
    _password_flag(_action(sub, "passwd", "set a new password", _passwd))
    delete = _action(sub, "delete", "delete an account and ALL its consultations", _delete)
    delete.add_argument("--yes", action="store_true", help="confirm the deletion")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, help="database URL (default: PEDGPT_DB_URL)")
    add_json_flag(parser)


def _action(sub, name: str, help_text: str, func) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("username")
    _common(parser)
    parser.set_defaults(func=func)
    return parser


def _password_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of stdin instead of a prompt")


def connect(url: str | None):
    """The database, migrated (no crash recovery: a running server may be streaming)."""
    from pedgpt.storage import Database

    db = Database(url)
    db.migrate()
    return db


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("--password-stdin: nothing on stdin")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for a password: use --password-stdin")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise InputError("the two passwords differ")
    return first


def _store(args):
    from pedgpt.storage import UserStore

    return UserStore(connect(args.db))


def _done(args, message: str, **fields) -> int:
    if args.json:
        emit_json({"ok": True, "username": args.username, **fields})
    else:
        print(message)
    return 0


def _add(args) -> int:
    users = _store(args)
    password = read_password(args.password_stdin)
    user = users.add(args.username, password, display_name=args.display_name)
    return _done(args, f"added user {user.username} (id {user.id})", user=user.to_dict())


def _list(args) -> int:
    from pedgpt.storage.models import utcnow

    rows, now = _store(args).list(), utcnow()
    if args.json:
        emit_json({"users": [u.to_dict() for u in rows]})
        return 0
    for u in rows:
        locked = u.locked_until is not None and u.locked_until > now
        state = "disabled" if u.disabled else ("locked" if locked else "active")
        last = u.last_login.strftime("%Y-%m-%d %H:%M") if u.last_login else "never"
        print(f"{u.id:>4}  {u.username:<24} {state:<9} last login {last}  {u.display_name}")
    if not rows:
        print("no users yet: pedgpt users add USERNAME", file=sys.stderr)
    return 0


def _disable(args) -> int:
    _store(args).disable(args.username)
    return _done(args, f"disabled {args.username}")


def _enable(args) -> int:
    _store(args).enable(args.username)
    return _done(args, f"enabled {args.username}")


def _unlock(args) -> int:
    _store(args).unlock(args.username)
    return _done(args, f"unlocked {args.username}")


def _passwd(args) -> int:
    users = _store(args)
    users.by_name(args.username)  # fail before asking for a password
    users.set_password(args.username, read_password(args.password_stdin))
    return _done(args, f"password changed for {args.username}")


def _delete(args) -> int:
    if not args.yes:
        raise InputError("deleting an account removes all its consultations: add --yes to confirm")
    from pedgpt.storage import delete_user

    counts = delete_user(connect(args.db), args.username)
    return _done(args, f"deleted {args.username}: {counts['consultations']} consultations, "
                       f"{counts['messages']} messages", deleted=counts)
