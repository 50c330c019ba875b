"""The one place where the Hub's HTTP answers become lineage's errors.

Every request lineage makes to a Hub (listings and lookups in :mod:`lineage.hub`, the
hub-stats download in :mod:`lineage.hubstats`) runs inside :func:`hub_errors`, which
turns huggingface_hub's exceptions into the :mod:`lineage.errors` tree. It decides from
the answer itself, as ``hf_raise_for_status`` does: first the Hub's ``X-Error-Code``
header, then the status. It does not use the exception's class, because the client
picks that by the URL too (a 401 on an ``https`` repo URL becomes
``RepositoryNotFoundError``, on ``http`` a plain ``HfHubHTTPError``), and a fake Hub on
127.0.0.1 must get the same answer as huggingface.co.

============================================  =====================================
the Hub answers                               lineage raises
============================================  =====================================
``X-Error-Code: RepoNotFound`` (401 or 404),  :class:`~lineage.errors.NotOnHub`
``RevisionNotFound``, ``EntryNotFound``       (the Hub says it has no such thing)
``X-Error-Code: DisabledRepo``, or the        :class:`~lineage.errors.NotOnHub`
message "Access to this resource is           (the repository exists, disabled)
disabled."
``X-Error-Code: GatedRepo``                   :class:`~lineage.errors.HubAuthError`
401 (any other: a token the Hub refused)      :class:`~lineage.errors.HubAuthError`
403 (a token without the permission)          :class:`~lineage.errors.HubAuthError`
429, 5xx (once retries, if any, gave up)      :class:`~lineage.errors.HubUnreachable`
400 and any other status                      :class:`~lineage.errors.HubError`
============================================  =====================================

Anonymous requests for a private or missing repository get 401 ``RepoNotFound`` from
the Hub, so a 401 means a refused token only without that code. Messages name the
endpoint and what was asked, never the token, and end with what to do; a caller adds its
own remedy (``hint``), which may name its parameters as ``{name}`` (see
:mod:`lineage.errors`).

It must not: retry (callers decide that, :mod:`lineage.hub` with its own policy), or
import huggingface_hub before a request is made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from .errors import HubAuthError, HubError, HubUnreachable, NotOnHub

NOT_FOUND_CODES = {
    "RepoNotFound": "no",
    "RevisionNotFound": "no such revision of",
    "EntryNotFound": "no",
}
DISABLED_MESSAGE = "Access to this resource is disabled."


@contextlib.contextmanager
def hub_errors(
    endpoint: str,
    what: str,
    *,
    task: str = "crawl",
    hint: str | None = None,
    params: Sequence[str] = (),
) -> Iterator[None]:
    """Turn an error answer of the Hub at ``endpoint`` into a :class:`~lineage.errors.HubError`.

    ``what`` names what was asked (``model Qwen/Qwen2.5-7B``, ``a model listing``);
    ``task`` what an anonymous retry would do (``crawl``, ``download``); ``hint`` is
    appended after ``; `` to every message but a refused token's.
    """
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except HfHubHTTPError as exc:
        if exc.response is None:  # raised by the client without an answer: not ours
            raise
        raise error_for(exc.response, endpoint, what, task=task, hint=hint, params=params) from exc


def error_for(
    response: Any,
    endpoint: str,
    what: str,
    *,
    task: str = "crawl",
    hint: str | None = None,
    params: Sequence[str] = (),
) -> HubError:
    """The error for one answer (an ``httpx2.Response`` with a status of 400 or more)."""
    status = response.status_code
    code = response.headers.get("X-Error-Code") or ""
    detail = _detail(response)
    where = f"the Hub at {endpoint}"
    tail = f"; {hint}" if hint else ""

    def made(cls: type[HubError], text: str) -> HubError:
        return cls(text, params=params, value=status)

    if code in NOT_FOUND_CODES:
        return made(NotOnHub, f"{where} has {NOT_FOUND_CODES[code]} {what}{tail}")
    if code == "DisabledRepo" or detail == DISABLED_MESSAGE:
        return made(NotOnHub, f"{where} has disabled {what}{tail}")
    if code == "GatedRepo":
        return made(
            HubAuthError,
            f"{where} refused access to {what}: it is gated; accept its conditions on the "
            f"Hub with the account of your token{tail}",
        )
    if status == 401:
        # The token itself: no hint of the caller's can help, and the token is never shown.
        return made(
            HubAuthError,
            f"{where} refused the token (from HF_TOKEN or your saved login) for {what}; fix "
            f"it, or unset HF_TOKEN to {task} anonymously",
        )
    if status == 403:
        return made(
            HubAuthError,
            f"{where} refused access to {what} (HTTP 403{_colon(detail)}); use a token "
            f"with read access, or unset HF_TOKEN to {task} anonymously{tail}",
        )
    if status == 429:
        return made(
            HubUnreachable,
            f"{where} is rate limiting requests (HTTP 429{_colon(detail)}); wait a few "
            f"minutes and try again{tail}",
        )
    if status >= 500:
        return made(
            HubUnreachable,
            f"{where} failed to answer for {what} (HTTP {status}{_colon(detail)}); try "
            f"again later{tail}",
        )
    if status == 400:
        return made(
            HubError,
            f"{where} refused the request for {what} as malformed (HTTP 400"
            f"{_colon(detail)}); is it a Hugging Face Hub, or a mirror without this "
            f"API?{tail}",
        )
    return made(HubError, f"{where} answered HTTP {status} for {what}{_colon(detail)}{tail}")


def _colon(detail: str) -> str:
    return f": {detail}" if detail else ""


def _detail(response: Any) -> str:
    """The Hub's own one-line reason: ``X-Error-Message``, else the JSON body's ``error``."""
    message = response.headers.get("X-Error-Message") or ""
    if not message:
        try:
            body = response.json()
        except Exception:  # HTML from a proxy, an empty body, a body not yet read
            body = None
        if isinstance(body, dict):
            message = str(body.get("error") or "")
    line = " ".join(message.split())
    return line if len(line) <= 200 else line[:197] + "..."
