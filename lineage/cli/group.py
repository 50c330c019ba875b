"""The ``lineage`` group: known errors as one line and exit codes, in one place.

Shell behaviour lives here, in :class:`LineageGroup`: a reader that stops early
(``lineage share | head -1``) ends the command quietly with exit 0, as ``ls | head`` does;
a full disk behind stdout (``> /dev/full``) is one ``error:`` line.
"""

from __future__ import annotations

import os
import select
import sys
from typing import Any

import click

from .. import __version__
from ..errors import LineageError
from .options import _STORE_ATTRS, _STORE_DECLS
from .phrasing import phrase


class _Failure(click.ClickException):
    """A known failure, shown as one ``error:`` line."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _reader_gone(stream: Any) -> bool:
    """True when ``stream`` is a pipe whose reading end is closed (``| head`` has exited)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


def _discard(stream: Any) -> None:
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
            return super().invoke(ctx)
        except BrokenPipeError:
            # Our reader stopped early: nobody is left to tell, and it is not a failure.
            # (A broken socket to the Hub or Neo4j is: it leaves stdout and stderr open.)
            closed = [s for s in (sys.stdout, sys.stderr) if _reader_gone(s)]
            if not closed or _debug(ctx):
                return self._unexpected(ctx, sys.exc_info()[1])
            for stream in closed:
                _discard(stream)
            ctx.exit(0)
        except LineageError as exc:
            if _debug(ctx):
                raise
            raise _Failure(phrase(exc, ctx)) from exc
        except KeyboardInterrupt as exc:
            if _debug(ctx):
                raise
            # The library says what it kept (a crawl: whether the same command resumes).
            click.echo(f"interrupted; {exc}" if str(exc) else "interrupted", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            return self._unexpected(ctx, exc)

    def _unexpected(self, ctx: click.Context, exc: BaseException | None) -> Any:
        if _debug(ctx):
            raise exc  # type: ignore[misc]
        raise _Failure(
            f"unexpected {exc.__class__.__name__}: {exc} (run with --debug for the traceback)"
        ) from exc


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("LINEAGE_DEBUG") == "1"


@click.group(cls=LineageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lineage")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.option(
    *_STORE_DECLS,
    **_STORE_ATTRS,
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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="lineage")
