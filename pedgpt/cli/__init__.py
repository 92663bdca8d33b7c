"""The `pedgpt` command line (also `python -m pedgpt`).

Each sub-command lives in its own module under `pedgpt.cli` and exposes
`register(subparsers)`; modules import their heavy dependencies inside the handler so that
`pedgpt --help` and light commands start fast. Every user-facing failure is one line on stderr
with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pedgpt.errors import PedGPTError

#: Sub-command modules, in the order `pedgpt --help` lists them.
COMMAND_MODULES = (
    "serve", "ask", "model", "triage", "dose", "kb", "data", "train", "eval", "bench", "users",
    "history",
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one clear line (exit code 2) instead of usage + error."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="pedgpt", description="PedGPT — pediatric assistant for clinicians.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"pedgpt.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pedgpt.cli.{name}":
                raise
            continue  # command not built yet in this checkout
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "func", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except PedGPTError as exc:
        print(f"pedgpt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pedgpt: interrupted", file=sys.stderr)
        return 130
