"""The ``lineage`` group: known errors as one line and exit codes, in one place.

Shell behaviour lives here, in :class:`LineageGroup`: a reader that stops early
(``lineage share | head -1``) ends the command quietly with exit 0, as ``ls | head`` does;
a full disk behind stdout (``> /dev/full``) is one ``error:`` line, and so is a full disk
under the store, or a path the system refuses (a name too long): never a traceback. A Ctrl-C
ends the command with exit 130 and one line saying what was saved (:data:`INTERRUPTED`
for commands that do not say it themselves).
"""

from __future__ import annotations

import os
import re
import select
import sys
from typing import Any

import click

from .. import __version__, interrupts
from ..errors import LineageError
from ..settings import debug_requested
from .options import STORE_ATTRS, STORE_DECLS, quiet_option
from .phrasing import phrase

# What a Ctrl-C leaves, by command, when the command does not say it itself (a crawl does:
# what it saved and the command that resumes it).
INTERRUPTED = {
    "crawl": "nothing was fetched yet, so there is nothing to resume",
    "ingest": "an ingest changes the store all at once or not at all, so nothing of it was "
    "kept: run the same command again",
    "infer": "inferred lineage is saved all at once or not at all, so nothing of it was kept: "
    "run the same command again",
    "neo4j": "what was written to Neo4j stays; the same command completes it",
    "export": "files are written whole or not at all, so nothing was written",
}
READING = "nothing was saved ({command} only reads the store)"

# Options that lineage no longer has, and what replaced them: given to any command, the
# usage error names the replacement instead of click's bare "No such option" (a typo of a
# live option still gets click's own suggestion).
REMOVED_OPTIONS = {
    "--origin-weight": "`lineage infer --resolve-roots` orders the roots it reads with "
    "--unplaced-share SHARE instead (0: by impact alone, 1: every root without a region "
    "first)",
}


class _Failure(click.ClickException):
    """A known failure, shown as one ``error:`` line."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {shorten(self.message)}", err=True)


# A message quotes ids, paths and values as given; one of them may be 100 KB long.
_LONG_WORD = re.compile(r"\S{300,}")


def shorten(message: str) -> str:
    """``message`` with every word of 300 characters or more cut as ids are quoted
    (:func:`lineage.repo_id.quote`): a 100 KB id given on the command line is not echoed.

    >>> shorten("no model named 'x/" + "y" * 100_000 + "'")[-30:]
    'yyyyyyyyyyyy... (100004 chars)'
    """
    if len(message) < 300:
        return message
    from ..repo_id import quote

    return _LONG_WORD.sub(lambda m: quote(m.group()), message)


def _reader_gone(stream: Any) -> bool:
    """True when ``stream`` is a pipe whose reading end is closed (``| head`` has exited)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


def discard_stream(stream: Any) -> None:
    """Point ``stream``'s descriptor at /dev/null, so that Python's own flush at exit
    does not fail again on what is still buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


class LineageGroup(click.Group):
    """Turns lineage's known errors into one-line messages and exit codes, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            interrupts.started()  # a Ctrl-C during start-up ends it here, before any work
            result = super().invoke(ctx)
            interrupts.check()  # one that a library swallowed (polars can) still counts
            return result
        except BrokenPipeError:
            # Our reader stopped early: nobody is left to tell, and it is not a failure.
            # (A broken socket to the Hub or Neo4j is: it leaves stdout and stderr open.)
            closed = [s for s in (sys.stdout, sys.stderr) if _reader_gone(s)]
            if not closed or _debug(ctx):
                return self._unexpected(ctx, sys.exc_info()[1])
            for stream in closed:
                discard_stream(stream)
            ctx.exit(0)
        except LineageError as exc:
            if _debug(ctx):
                raise
            raise _Failure(phrase(exc, ctx)) from exc
        except KeyboardInterrupt as exc:
            if _debug(ctx):
                raise
            # The library says what it kept (a crawl: whether the same command resumes).
            click.echo(f"interrupted; {str(exc) or _left_by(ctx)}", err=True)
            ctx.exit(130)
        except click.NoSuchOption as exc:
            removed = REMOVED_OPTIONS.get(exc.option_name)
            if removed is not None:
                exc.possibilities = None  # type: ignore[misc]  # named instead: see message
                # click's stub marks message Final; it is a plain attribute, set in __init__
                message = f"No such option {exc.option_name!r}: removed; {removed}."
                exc.message = message  # type: ignore[misc]
            exc.message = shorten(exc.message)  # type: ignore[misc]  # may quote a huge value
            raise
        except click.ClickException as exc:
            # click's stub marks message Final; it is a plain attribute, set in __init__
            exc.message = shorten(exc.message)  # type: ignore[misc]  # may quote a huge value
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            if _debug(ctx):
                raise
            raise _Failure(system_refusal(exc)) from exc
        except Exception as exc:
            if disk_full(exc) and not _debug(ctx):
                raise _Failure(system_refusal(exc)) from exc
            return self._unexpected(ctx, exc)

    def _unexpected(self, ctx: click.Context, exc: BaseException | None) -> Any:
        if _debug(ctx):
            raise exc  # type: ignore[misc]
        raise _Failure(
            f"unexpected {exc.__class__.__name__}: {exc} (run with --debug for the traceback)"
        ) from exc


def _left_by(ctx: click.Context) -> str:
    """What a Ctrl-C left, for the command that was running (see :data:`INTERRUPTED`)."""
    # Before the group has invoked its command, its name is still among the unparsed words.
    words = getattr(ctx, "_protected_args", None) or ctx.args
    command = ctx.invoked_subcommand or (words[0] if words else "")
    if command in INTERRUPTED:
        return INTERRUPTED[command]
    return READING.format(command=f"lineage {command}".strip())


def disk_full(exc: BaseException) -> bool:
    from ..output import disk_full

    return disk_full(exc)


def system_refusal(exc: BaseException) -> str:
    """One line for what the operating system refused: a full disk, a name too long, a
    permission, naming the path where it has one (shortened: it may be very long)."""
    from ..output import os_error_reason
    from ..repo_id import quote

    if disk_full(exc):
        return (
            "the disk is full (no space left on device); nothing already stored was lost: "
            "free some space and run the same command again"
        )
    reason = os_error_reason(exc) if isinstance(exc, OSError) else str(exc)
    path = getattr(exc, "filename", None)
    where = f" for {quote(str(path))}" if path else ""
    return f"the system refused a file operation{where}: {reason}"


def give_every_command_quiet(group: click.Group) -> None:
    """Give --quiet to every command that lacks it, so that it is accepted everywhere."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            give_every_command_quiet(command)
        elif not any(p.name == "quiet" for p in command.params):
            quiet_option(command)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or debug_requested()


@click.group(cls=LineageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lineage")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.option(
    *STORE_DECLS,
    **STORE_ATTRS,
    help="Store directory for every command (each command also takes --store).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, store_path: str | None) -> None:
    """Map who builds on whose open models.

    lineage crawls the base_model declarations of Hugging Face models into a local store,
    attributes every derivative (fine-tune, adapter, quantization, merge) to its root
    family and region, and exports the graph to tables, charts, HTML and Neo4j.

    \b
    Start with:
      lineage crawl --root Qwen        # a family: an organization or a model id
      lineage info                     # what the store holds

    The store is a directory of Parquet files (--store DIR or LINEAGE_STORE; default:
    your user data directory). HF_TOKEN or `hf auth login` raise the Hub's rate limits.
    """
    ctx.obj = {"store_path": store_path}
