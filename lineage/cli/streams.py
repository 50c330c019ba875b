"""Where a command's output goes: data to stdout (:func:`write_data`, :func:`emit`), notes and
progress to stderr (:func:`note`, :func:`progress_bar`), which ``--quiet`` silences.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import click

from ..errors import InputError
from .group import discard_stream


def write_data(text: str, *, nl: bool = True) -> None:
    """Write data to stdout. A closed pipe propagates (the group ends quietly); any other
    failure (a full disk behind ``> file``) is one error line."""
    try:
        click.echo(text, nl=nl)
    except BrokenPipeError:
        raise
    except OSError as exc:
        from ..output import os_error_reason

        discard_stream(sys.stdout)
        raise InputError(f"cannot write standard output: {os_error_reason(exc)}") from exc


def _quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("lineage.quiet"))


def note(text: str) -> None:
    """A note on stderr (what was filtered, written, left out), unless --quiet."""
    if not _quiet():
        click.echo(text, err=True)


@contextlib.contextmanager
def progress_bar() -> Iterator[Any]:
    """The command's progress bar (on a terminal, unless --quiet), closed however the
    work ends."""
    from ..progress import Progress

    progress = Progress(enabled=False if _quiet() else None)
    try:
        yield progress
    finally:
        progress.close()


def emit(frame: Any, fmt: str, *, title: str | None = None) -> None:
    from ..render import render

    write_data(render(frame, fmt, title=title if fmt == "table" else None), nl=False)


def emit_sections(sections: dict, fmt: str, titles: dict[str, str]) -> None:
    from ..render import render_sections

    write_data(render_sections(sections, fmt, titles=titles), nl=False)
