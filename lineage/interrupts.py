"""Ctrl-C that stops lineage where its work can be resumed, never inside a library call.

Python turns SIGINT into ``KeyboardInterrupt`` at whatever bytecode runs next. Inside polars
(Rust calling back into Python) that exception can be swallowed ("Exception ignored in ..."),
so a crawl went on as if nothing had happened; elsewhere it surfaced outside the crawl's own
handler, which then could not say what was saved; during the start-up imports it printed a
traceback. So the command line (:func:`lineage.cli.main`) calls :func:`install` before it
imports anything heavy, and from then on:

- inside a :func:`deferred` block (start-up until :func:`started`, and a whole crawl), a
  SIGINT is only *noted*; it is raised at the next :func:`check` (a crawl checks before every
  request and before its commit, when everything fetched is journaled) or at once inside an
  :func:`interruptible` block (waiting for the network, sleeping: pure-Python code where
  raising is safe); one that comes after the last check stays pending for the caller to see
  (:func:`pending`; a crawl that committed says so and ends normally);
- a second SIGINT while one is pending is raised at once, wherever it lands (the way out of
  a step that takes long);
- outside those blocks, SIGINT behaves as Python's default.

Without :func:`install` (the library in a notebook or a test), nothing changes: Python's own
handler stays, and :func:`check` never raises.

It must not import anything beyond the standard library (and lineage.checkpoints and
lineage.settings, which import only that): it runs before the imports it guards.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from .checkpoints import checkpoint  # standard library only, like this module


class _State:
    installed = False
    pending = False
    deferred = 0  # depth of deferred blocks (the start-up counts as one)
    interruptible = 0  # depth of interruptible blocks
    starting = False


_state = _State()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    again = _state.pending
    _state.pending = True
    if again or _state.interruptible or not _state.deferred:
        raise KeyboardInterrupt


def install() -> None:
    """Take over SIGINT for this process (main thread only), deferred until :func:`started`."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_sigint)
    _state.installed = True
    _state.starting = True
    _state.deferred += 1
    checkpoint("start:handler")


def started() -> None:
    """The command starts its work: a Ctrl-C noted during start-up is raised now."""
    if _state.starting:
        _state.starting = False
        _state.deferred -= 1
    check()


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C is pending (a safe point of the work)."""
    if _state.pending:
        raise KeyboardInterrupt


def pending() -> bool:
    """Whether a Ctrl-C arrived that was not raised yet."""
    return _state.pending


def forget() -> None:
    """Drop a pending Ctrl-C that came too late to stop anything (the work is done)."""
    _state.pending = False


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block a Ctrl-C must not cut at an arbitrary point: it is raised at the next
    :func:`check` or inside an :func:`interruptible` block. One that comes after the block's
    last check stays :func:`pending` when the block ends: the caller decides (a crawl that
    committed says so and ends normally)."""
    _state.deferred += 1
    try:
        yield
    finally:
        _state.deferred -= 1


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """A block a Ctrl-C may cut at once (network waits, sleeps); raises if one is pending."""
    check()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.interruptible += 1
    try:
        yield
    finally:
        _state.interruptible -= 1
