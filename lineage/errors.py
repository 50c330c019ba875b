"""The errors lineage raises on purpose, and nothing else.

Every known failure is a :class:`LineageError` whose message is one line a user can act
on. The CLI prints ``error: <message>`` on stderr and exits with ``exit_code`` (1); usage
errors are click's own (exit 2); anything else is a bug and shows a traceback only with
``--debug`` or ``LINEAGE_DEBUG=1``.

Hierarchy::

    LineageError
    ├── StoreError           the store cannot be used (bad path, not a store, newer format,
    │                        locked, a damaged or missing file)
    ├── InputError           a file or value the user gave is malformed (regions table, dump)
    ├── HubError             talking to the Hugging Face Hub failed
    │   ├── HubUnreachable   connection failures, or retries gave up (progress is kept)
    │   ├── HubAuthError     the token was refused
    │   ├── ListingStalled   a listing stopped moving forward (its cursor cycles or stalls)
    │   └── NotOnHub         no model or organization with that name
    ├── Neo4jError           the Neo4j server refused us or is unreachable
    └── NotInStore           a model or organization the store does not know
"""

from __future__ import annotations


class LineageError(Exception):
    """Base class: a known failure with a one-line message for the user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class StoreError(LineageError):
    """The store directory cannot be read or written."""


class InputError(LineageError):
    """A user-supplied file or value is malformed."""


class HubError(LineageError):
    """A request to the Hub failed."""


class HubUnreachable(HubError):
    """The Hub could not be reached, or kept refusing until we gave up."""


class HubAuthError(HubError):
    """The Hub refused the token."""


class ListingStalled(HubError):
    """A listing's pages stopped moving forward; paging on would never end."""


class NotOnHub(HubError):
    """A root given by the user names no model or organization on the Hub."""


class Neo4jError(LineageError):
    """Neo4j refused the connection, the credentials or the database."""


class NotInStore(LineageError):
    """A model or organization asked about is not in the store."""
