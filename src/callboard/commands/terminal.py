"""What the terminal simulators (`chat`, `call`) share: ending quietly when the reader of
standard output goes away, and never showing a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

__all__ = ["terminal_session"]


@contextmanager
def terminal_session(command: str, what: str) -> Iterator[None]:
    """Run a simulator's read–eval loop; ``what`` names it in the one-line error."""
    try:
        yield
    except BrokenPipeError:  # the reader went away (e.g. piped into head)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # never a traceback for the user
        click.echo(
            f"callboard {command}: internal error while running the {what}: "
            f"{type(exc).__name__}: {exc}",
            err=True,
        )
        sys.exit(1)
