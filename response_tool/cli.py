"""The ``response-tool`` command line.

Each sub-command lives in its own module under :mod:`response_tool.commands` and exposes
``add_parser(subparsers)`` and ``run(args) -> int``. Errors of the core
(:class:`~response_tool.domain.errors.ResponseToolError`) become one line on stderr and exit code 2;
no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from response_tool import __version__
from response_tool.domain.errors import ResponseToolError

#: Sub-command modules, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "response_tool.commands.inspect",
    "response_tool.commands.phantom",
    "response_tool.commands.assess",
    "response_tool.commands.burden",
    "response_tool.commands.agreement",
    "response_tool.commands.report",
    "response_tool.commands.dicom_export",
    "response_tool.commands.dicom_import",
    "response_tool.commands.store_export",
    "response_tool.commands.pacs",
    "response_tool.commands.sdtm",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="response-tool",
        description="Tumour-response assessment (RECIST 1.1, mRECIST, hepatic tumour burden).",
    )
    parser.add_argument("--version", action="version", version=f"response-tool {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except ResponseToolError as exc:
        print(f"response-tool {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # whoever read our output stopped (e.g. `| head`): not an error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # as a shell reports SIGPIPE
    except OSError as exc:  # a file the command reads or writes that the system refused
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"response-tool {args.command}: error: {where}{exc.strerror or exc}; check the path, "
              "its permissions and the free space on its disk", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"response-tool {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get("RESPONSE_TOOL_DEBUG"):
            raise
        print(f"response-tool {args.command}: internal error ({type(exc).__name__}: {exc}). "
              "This is a bug in response-tool: please report it with the command you ran; "
              "RESPONSE_TOOL_DEBUG=1 shows the traceback.", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
