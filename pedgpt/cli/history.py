"""`pedgpt history export|purge|delete|audit|feedback` — retention, data export, deletion.

    pedgpt history purge --older-than 1095            # delete consultations idle ≥ 3 years
    pedgpt history purge --older-than 30 --dry-run    # only count
    pedgpt history export --user dr_li --out dr_li.json   # all of one user's data
    pedgpt history delete --user dr_li --id 42        # one consultation, really removed
    pedgpt history audit --user dr_li --limit 50      # who did what, when
    pedgpt history feedback --out feedback.jsonl      # rated answers for preference training
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pedgpt.cli.common import add_json_flag, emit_json, number
from pedgpt.cli.users import connect
from pedgpt.errors import InputError


def register(subparsers) -> None:
    parser = subparsers.add_parser("history", help="export, purge or delete stored consultations",
                                   description="Retention, export and deletion of stored data.")
    sub = parser.add_subparsers(dest="history_command", metavar="ACTION", required=True,
                                parser_class=type(parser))
    export = _action(sub, "export", "write ALL of one user's data to a JSON file", _export)
    export.add_argument("--user", required=True, help="username")
    export.add_argument("--out", required=True, type=Path, help="JSON file to write")
    purge = _action(sub, "purge", "delete consultations not updated for DAYS days (all users)", _purge)
    purge.add_argument("--older-than", required=True, type=number(float, "--older-than"),
                       metavar="DAYS")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    delete = _action(sub, "delete", "delete one consultation of a user", _delete)
    delete.add_argument("--user", required=True, help="username")
    delete.add_argument("--id", required=True, type=number(int, "--id"), help="consultation id")
    audit = _action(sub, "audit", "show audit events, newest first", _audit)
    audit.add_argument("--user", default=None, help="only this username")
    audit.add_argument("--limit", type=number(int, "--limit"), default=100)
    feedback = _action(sub, "feedback", "write rated answers (JSON lines) for preference training",
                       _feedback)
    feedback.add_argument("--out", required=True, type=Path)


def _action(sub, name: str, help_text: str, func):
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--db", default=None, help="database URL (default: PEDGPT_DB_URL)")
    add_json_flag(parser)
    parser.set_defaults(func=func)
    return parser


def _write(path: Path, text: str) -> None:
    if path.exists() and path.is_dir():
        raise InputError(f"--out {path} is a folder; give a file name")
    from pedgpt.storage.export import write_private

    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, text.encode("utf-8"))


def _export(args) -> int:
    from pedgpt.storage import export_user_data

    data = export_user_data(connect(args.db), args.user)
    _write(args.out, json.dumps(data, ensure_ascii=False, indent=2))
    summary = {"user": data["user"]["username"], "consultations": len(data["consultations"]),
               "out": str(args.out)}
    if args.json:
        emit_json(summary)
    else:
        print(f"wrote {summary['consultations']} consultations of {summary['user']} to {args.out}")
    return 0


def _purge(args) -> int:
    from pedgpt.storage import purge_older_than

    db = connect(args.db)
    if args.dry_run:
        counts = _count_old(db, args.older_than)
    else:
        counts = purge_older_than(db, args.older_than)
    if args.json:
        emit_json({**counts, "dry_run": args.dry_run})
    else:
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{verb} {counts['consultations']} consultations ({counts['messages']} messages) "
              f"not updated since {counts['cutoff']}")
    return 0


def _count_old(db, days: float) -> dict:
    from datetime import timedelta

    from sqlalchemy import func, select

    from pedgpt.storage.models import Consultation, Message, utcnow
    from pedgpt.storage.retention import MAX_RETENTION_DAYS

    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise InputError(f"--older-than must be between 0 and {MAX_RETENTION_DAYS} days")
    cutoff = utcnow() - timedelta(days=days)
    old = select(Consultation.id).where(Consultation.updated_at < cutoff)
    with db.session(write=False) as session:
        return {"consultations": session.scalar(select(func.count()).select_from(old.subquery())),
                "messages": session.scalar(select(func.count()).select_from(Message)
                                           .where(Message.consultation_id.in_(old))),
                "cutoff": cutoff.isoformat(), "days": days}


def _delete(args) -> int:
    from pedgpt.storage import ConsultationStore, UserStore

    db = connect(args.db)
    user = UserStore(db).by_name(args.user)
    ConsultationStore(db).delete(user.id, args.id)
    if args.json:
        emit_json({"ok": True, "user": user.username, "deleted": args.id})
    else:
        print(f"deleted consultation {args.id} of {user.username}")
    return 0


def _audit(args) -> int:
    from pedgpt.storage import AuditLog, UserStore

    db = connect(args.db)
    user_id = UserStore(db).by_name(args.user).id if args.user else None
    events = AuditLog(db).events(user_id=user_id, limit=max(1, args.limit))
    if args.json:
        emit_json({"events": events})
        return 0
    for e in events:
        print(f"{e['time'][:19]}  {e['action']:<13} {e['username'] or '-':<16} {e['target'] or ''}")
    return 0


def _feedback(args) -> int:
    from pedgpt.storage import ConsultationStore

    rows = list(ConsultationStore(connect(args.db)).feedback_records())
    _write(args.out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    if args.json:
        emit_json({"records": len(rows), "out": str(args.out)})
    else:
        print(f"wrote {len(rows)} rated answers to {args.out}", file=sys.stdout)
    return 0
