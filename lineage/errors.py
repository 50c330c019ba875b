"""The errors lineage raises on purpose, and nothing else.

Every known failure is a :class:`LineageError` whose message is one line a user can act
on. The CLI prints ``error: <message>`` on stderr and exits 1; usage errors are click's
own (exit 2); anything else is a bug and shows a traceback only with ``--debug`` or
``LINEAGE_DEBUG=1``.

Errors carry what they concern as fields, so that each caller can phrase them in its own
terms: ``path`` (the file or directory), ``value`` (the input as given) and ``params``,
the names of the library parameters the message speaks of. A message names each of them
as ``{name}``: ``str(error)`` shows the parameter's own name (``min_confidence``), the CLI
shows its option or argument (``--min-confidence``, ``PATH``) with :meth:`LineageError.phrase`.
The library therefore never names a command-line flag.

>>> error = InputError("{min_confidence} must be between 0 and 1, not 2",
...                    params=("min_confidence",), value=2)
>>> str(error)
'min_confidence must be between 0 and 1, not 2'
>>> error.phrase({"min_confidence": "--min-confidence"})
'--min-confidence must be between 0 and 1, not 2'

Hierarchy::

    LineageError
    ├── StoreError           the store cannot be used (bad path, not a store, newer format,
    │                        locked, a damaged or missing file)
    ├── InputError           a file or value the user gave is malformed (regions table, dump,
    │                        a choice that is not one of the choices)
    ├── HubError             talking to the Hugging Face Hub failed, or it refused a request
    │   ├── HubUnreachable   connection failures, 5xx or 429 until retries gave up (progress
    │   │                    is kept)
    │   ├── HubAuthError     the Hub refused the token, or access (401, 403, a gated repo)
    │   ├── ListingStalled   a listing stopped moving forward (its cursor cycles or stalls)
    │   ├── MalformedAnswer  the Hub kept answering with something that is not its API (HTML,
    │   │                    broken JSON, items that are not model records)
    │   └── NotOnHub         no model, organization, revision or file with that name
    ├── Neo4jError           the Neo4j server refused us or is unreachable
    └── NotInStore           a model or organization the store does not know

Which Hub answer becomes which error is decided in one place, :mod:`lineage.hub_errors`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence


class LineageError(Exception):
    """Base class: a known failure with a one-line message for the user.

    ``message`` names the parameters in ``params`` as ``{name}`` (see the module doc).
    """

    def __init__(
        self,
        message: str,
        *,
        params: Sequence[str] = (),
        path: str | os.PathLike[str] | None = None,
        value: object = None,
    ) -> None:
        self.template = message
        self.params = tuple(params)
        self.path = path
        self.value = value
        super().__init__(self.phrase())

    def phrase(self, names: Mapping[str, str] | None = None) -> str:
        """The message, each parameter named as ``names`` says (default: its own name)."""
        names = names or {}
        text = self.template
        for param in self.params:
            text = text.replace("{" + param + "}", names.get(param, param))
        return text

    @property
    def message(self) -> str:
        return self.phrase()

    def __str__(self) -> str:
        return self.message


class StoreError(LineageError):
    """The store directory cannot be read or written."""


class InputError(LineageError):
    """A user-supplied file or value is malformed, or not one of the choices."""


class HubError(LineageError):
    """A request to the Hub failed, or the Hub refused it."""


class HubUnreachable(HubError):
    """The Hub could not be reached, or kept failing until we gave up."""


class HubAuthError(HubError):
    """The Hub refused the token, or access to what was asked (401, 403, gated)."""


class ListingStalled(HubError):
    """A listing's pages stopped moving forward; paging on would never end."""


class MalformedAnswer(HubError):
    """The Hub's answers kept failing to be what its API sends (HTML, broken JSON, junk)."""


class NotOnHub(HubError):
    """No model, organization, revision or file of that name on the Hub."""


class Neo4jError(LineageError):
    """Neo4j refused the connection, the credentials or the database."""


class NotInStore(LineageError):
    """A model or organization asked about is not in the store."""
