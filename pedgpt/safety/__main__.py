"""Check every shipped safety table: `python -m pedgpt.safety` (exit code 2 on a malformed table)."""

import sys

from pedgpt.safety.schema import TableError


def main() -> int:
    try:
        from pedgpt.safety import tables

        counts = tables.load_all()
        from pedgpt.safety.messages import message_table

        counts["guard_messages"] = len(message_table().messages)
    except TableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("safety tables OK: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
