"""The ``handclasp`` command: ``demo``, ``serve``, ``connect`` and ``cert``.

Errors end as one line on stderr (``handclasp: error: ...``) and a non-zero exit
status: 1 for TLS and network errors, 2 for usage errors, never a traceback
(set HANDCLASP_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from handclasp.cli import cert, connect, demo, serve
from handclasp.cli.output import CommandError, UsageError, error_message
from handclasp.errors import HandclaspError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handclasp", description="handclasp: a sans-I/O TLS 1.3 stack")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo.add_parser(subparsers)
    serve.add_parser(subparsers)
    connect.add_parser(subparsers)
    cert.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status: int = args.run(args)
        return status
    except UsageError as exc:
        print(f"handclasp {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout went away (``| head``): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except CommandError as exc:
        print(f"handclasp: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    except (HandclaspError, OSError) as exc:
        _report(exc)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
        _report(exc, prefix="internal error: ")
        return EXIT_ERROR


def _report(exc: BaseException, prefix: str = "") -> None:
    if os.environ.get("HANDCLASP_DEBUG"):
        traceback.print_exception(exc)
    print(f"handclasp: error: {prefix}{error_message(exc)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
