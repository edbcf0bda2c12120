"""The ``response-tool`` command line.

Each sub-command lives in its own module under :mod:`response_tool.commands` and exposes
``add_parser(subparsers)`` and ``run(args) -> int``. Errors of the core
(:class:`~response_tool.domain.errors.ResponseToolError`) become one line on stderr and exit code 2;
no traceback reaches the user.

Start-up is lazy (benchmarks/README.md, CLI start-up): only the chosen command's parser is built,
so ``--help``, ``--version`` and ``COMMAND --help`` import neither pandas nor an imaging library;
the other commands are listed from :data:`SUMMARIES`, and the command modules import what they
need inside ``run``.
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
    "response_tool.commands.batch",
)

#: What ``--help`` lists for a command without building its parser: module → (name, help), the
#: same strings as the module's ``add_parser`` gives (tests/core/test_cli_startup.py checks it). A
#: module not listed here still works; its parser is then built at every start.
SUMMARIES: dict[str, tuple[str, str]] = {
    "response_tool.commands.inspect": ("inspect", "list the studies and series under a folder"),
    "response_tool.commands.phantom": (
        "phantom", "write the multiphase longitudinal liver phantom (DICOM + ground truth)"),
    "response_tool.commands.assess": ("assess", "RECIST 1.1 / mRECIST responses from a measurements CSV"),
    "response_tool.commands.burden": (
        "burden", "hepatic tumour burden (HTB %% and category) from liver and tumour masks"),
    "response_tool.commands.agreement": (
        "agreement", "inter-reader agreement (Fleiss / Cohen kappa, Gwet AC1, ICC, Bland-Altman) from a "
                     "multi-reader responses CSV"),
    "response_tool.commands.report": (
        "report", "cohort report: response tables, RECIST x mRECIST, waterfall / spider / Sankey plots, "
                  "survival by response and HTB (HTML + PNG/SVG + CSV)"),
}

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv``: its first word that is not an option (the top-level
    options, ``-h`` and ``--version``, take no value); None when there is none."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None, *, lazy: bool = False) -> argparse.ArgumentParser:
    """The ``response-tool`` parser. With ``lazy``, only ``command``'s parser is built in full;
    every other command listed in :data:`SUMMARIES` gets an entry with its help only (enough for
    ``--help`` and to name the command in a usage error)."""
    parser = argparse.ArgumentParser(
        prog="response-tool",
        description="Tumour-response assessment (RECIST 1.1, mRECIST, hepatic tumour burden).",
    )
    parser.add_argument("--version", action="version", version=f"response-tool {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        summary = SUMMARIES.get(module)
        if lazy and summary is not None and summary[0] != command:
            sub.add_parser(summary[0], help=summary[1], add_help=False)
        else:
            importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(argv), lazy=True)
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
