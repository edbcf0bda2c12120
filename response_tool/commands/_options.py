"""Options several sub-commands share, defined once (stdlib only: the CLI starts fast)."""

from __future__ import annotations

import argparse


def add_follow_symlinks(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                        what: str = "an output") -> None:
    """``--follow-symlinks``: ``what`` given as a symbolic link is written through the link;
    without it such an output is refused (writing would replace the link)."""
    parser.add_argument("--follow-symlinks", action="store_true",
                        help=f"{what} that is a symbolic link writes where the link points "
                             "(default: refused, as writing would replace the link)")
