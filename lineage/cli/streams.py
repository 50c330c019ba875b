"""Where a command's output goes: data to stdout (:func:`_out`, :func:`_emit`), notes and
progress to stderr (:func:`_note`, :func:`_progress`), which ``--quiet`` silences.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import click

from ..errors import InputError
from .group import _discard


def _out(text: str, *, nl: bool = True) -> None:
    """Write data to stdout. A closed pipe propagates (the group ends quietly); any other
    failure (a full disk behind ``> file``) is one error line."""
    try:
        click.echo(text, nl=nl)
    except BrokenPipeError:
        raise
    except OSError as exc:
        from ..output import os_error_reason

        _discard(sys.stdout)
        raise InputError(f"cannot write standard output: {os_error_reason(exc)}") from exc


def _quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("lineage.quiet"))


def _note(text: str) -> None:
    """A note on stderr (what was filtered, written, left out), unless --quiet."""
    if not _quiet():
        click.echo(text, err=True)


@contextlib.contextmanager
def _progress() -> Iterator[Any]:
    """The command's progress bar (on a terminal, unless --quiet), closed however the
    work ends."""
    from ..progress import Progress

    progress = Progress(enabled=False if _quiet() else None)
    try:
        yield progress
    finally:
        progress.close()


def _emit(frame: Any, fmt: str, *, title: str | None = None) -> None:
    from ..render import render

    _out(render(frame, fmt, title=title if fmt == "table" else None), nl=False)


def _emit_sections(sections: dict, fmt: str, titles: dict[str, str]) -> None:
    from ..render import render_sections

    _out(render_sections(sections, fmt, titles=titles), nl=False)
