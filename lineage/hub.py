"""The one way lineage talks to the Hugging Face Hub.

:func:`make_client` builds a :class:`HubClient` around ``huggingface_hub.HfApi``: the
endpoint comes from the argument, ``HF_ENDPOINT`` or the library default; the token from
the argument, ``HF_TOKEN`` or the user's saved login (the token is sent, never printed or
logged). Requests go through huggingface_hub's own HTTP session and its
``hf_raise_for_status``; :func:`lineage.hub_errors.hub_errors` turns the answers it refuses
into lineage's errors (the same mapping the hub-stats download uses).

Every listing is sorted by ``createdAt`` (:data:`LISTING_ORDER`), newest first: the Hub's
default order (``trendingScore``) moves while a crawl pages through it, and its cursor is
built from the sort key, so only a key that never changes pages every model exactly once
(see :mod:`lineage.crawl`). The Hub sorts descending only (``direction`` is ignored).

The library retries a listing page only a few times over a few seconds and never retries
``model_info``. Crawls outlive that: every request here is retried on 429 (waiting as long
as ``Retry-After`` / ``RateLimit`` say), on 5xx and on dropped connections, with bounded
exponential backoff, until :attr:`RetryPolicy.give_up_after` seconds of consecutive failure;
then :class:`~lineage.errors.HubUnreachable` says so in one line. Until some request of the
run has been answered, failures (refused connections, and connections that stay silent past
the timeout) count against the shorter :attr:`RetryPolicy.give_up_unreached_after`. After
every answer, whatever its status, a used-up rate-limit window is sat out before the next
request. Every attempt has a deadline (:attr:`RetryPolicy.deadline`, and never more than the
give-up budget left): a body trickled byte by byte is cut there and retried. An answer with a
good status that is not the Hub's (an HTML page, malformed or cut-short JSON, listing items
that are not model records: :func:`item_problem`) is retried the same way, and after
:attr:`RetryPolicy.bad_answers` of them in a row :class:`~lineage.errors.MalformedAnswer`
names the URL. Callers keep their progress, so running the same command again resumes.

Requests go only to the endpoint's origin (scheme, host, port), and so does the token: a
``next`` link or a redirect to another origin is refused with one line naming it
(:func:`may_follow`; huggingface_hub's own rule, which lets only the Hub's own origins
trade). The endpoint is shown and stored without any ``user:password@`` in it.

Ids are checked with :mod:`lineage.repo_id` before they get here; :meth:`HubClient.model_info`
refuses any other (a programming error, not a Hub answer).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload
from urllib.parse import quote, urlsplit, urlunsplit

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.utils import (
    build_hf_headers,
    get_session,
    hf_raise_for_status,
    parse_ratelimit_headers,
)

from . import __version__
from .errors import HubError, HubUnreachable, InputError, MalformedAnswer, NotOnHub
from .hub_errors import error_for, hub_errors
from .interrupts import interruptible
from .repo_id import QUOTE_LENGTH, is_repo_id
from .repo_id import quote as quote_text
from .settings import endpoint_setting

T = TypeVar("T")

# Fields a listing may expand (the Hub refuses baseModels/childrenModelCount there).
LIST_FIELDS = [
    "author",
    "createdAt",
    "lastModified",
    "downloads",
    "downloadsAllTime",
    "likes",
    "tags",
    "pipeline_tag",
    "library_name",
    "cardData",
    "safetensors",
    # For lineage inference: config.model_type and a PEFT adapter's own base, gguf's
    # architecture and size. No extra requests, but bigger pages (the Hub leaves config out
    # of full listings for its size).
    "config",
    "gguf",
]
INFO_FIELDS = [*LIST_FIELDS, "baseModels"]
PAGE_SIZE = 1000
# The one order every listing is paged in: a key that never changes (see the module doc).
LISTING_ORDER = "createdAt"
MAX_REDIRECTS = 5


@dataclass
class RetryPolicy:
    """How long to keep trying one request before giving up.

    ``give_up_after`` bounds the time spent on consecutive failures of one request
    (waiting included), counted from the last answer that moved the crawl on; the default
    outlasts a full 5-minute rate-limit window twice. ``deadline`` bounds one attempt whole
    (connecting, the headers and the body): a body trickled byte by byte is cut there and
    retried, and no attempt outlives the give-up budget left (though each gets at least
    :data:`MIN_DEADLINE`). ``bad_answers``: how many answers in a row that are not the
    Hub's (HTML, broken JSON, items that are not model records) before stopping.
    """

    give_up_after: float = 900.0
    # Before any request of this run has succeeded, a Hub that cannot even be connected
    # to is most likely no network or a wrong endpoint: say so within a minute.
    give_up_unreached_after: float = 60.0
    base_wait: float = 1.0
    max_wait: float = 120.0
    timeout: float = 60.0  # one network operation: connecting, or a wait between bytes
    deadline: float = 300.0
    bad_answers: int = 5


# The least time one attempt gets, however little of the give-up budget is left.
MIN_DEADLINE = 10.0


@dataclass
class RequestStats:
    """Requests made, by kind, and time spent waiting."""

    listings: int = 0
    lookups: int = 0
    retries: int = 0
    waited: float = 0.0
    answered: int = 0  # requests that got an answer (any status) from the Hub
    redirects: int = 0  # redirect hops followed (each one more HTTP request; issue 15)
    files: int = 0  # repository files read (model cards, configs: lineage.roots)

    @property
    def total(self) -> int:
        return self.listings + self.lookups + self.files


@dataclass(frozen=True)
class FileAnswer:
    """What the Hub answered for one repository file: ``read`` (with its ``content``),
    ``absent``, ``missing`` or ``refused`` (:meth:`HubClient.model_file`)."""

    status: str
    content: bytes | None = None


@dataclass(frozen=True)
class Page:
    """One listing page: its items (raw JSON) and the URL of the next page, if any."""

    items: list[Any]  # raw JSON: item_problem says which are model records
    next_url: str | None


WaitCallback = Callable[[float, str], None]


class _BadAnswer(Exception):
    """An answer with a good status that is not what the Hub sends (retried, then
    :class:`~lineage.errors.MalformedAnswer`)."""


class _TooSlow(Exception):
    """An attempt still unfinished at its deadline (retried like a dropped connection)."""


@dataclass
class HubClient:
    """Listing pages and model lookups with crawler-grade retries. Build with make_client.

    Requests, and the token with them, go only to the endpoint's origin (scheme, host,
    port): a ``next`` link or a redirect elsewhere is refused (:func:`may_follow`).
    """

    api: HfApi
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    stats: RequestStats = field(default_factory=RequestStats)
    on_wait: WaitCallback | None = None

    @property
    def endpoint(self) -> str:
        """The endpoint as lineage shows and stores it: without any credentials in it."""
        return without_credentials(self.api.endpoint)

    def listing_url(self, **params: str | list[str]) -> str:
        """Absolute URL of a model listing with the crawl's fields expanded.

        Keeping the first page's URL (and each ``next`` URL after it) is what makes a
        listing resumable: the Hub's cursor lives in the URL. Sorted by
        :data:`LISTING_ORDER`, newest first.
        """
        query = [("sort", LISTING_ORDER), ("limit", str(PAGE_SIZE))]
        query += [("expand", f) for f in LIST_FIELDS]
        for key, value in params.items():
            for v in [value] if isinstance(value, str) else value:
                query.append((key, v))
        encoded = "&".join(f"{k}={quote(v, safe='')}" for k, v in query)
        return f"{self.api.endpoint}/api/models?{encoded}"

    def list_page(self, url: str) -> Page:
        """Fetch one listing page; its items are checked against :func:`item_problem`."""
        return self._get(url, kind="listing", what="a model listing", read=self._page)

    def namespaces_like(self, name: str) -> list[str]:
        """Namespaces of the most downloaded models whose id contains ``name`` (one request).

        How a root typed in the wrong case (``qwen``) finds its organization's own case, and
        how a root that names nothing finds names close to it.
        """
        query = "&".join(
            f"{k}={quote(v, safe='')}"
            for k, v in (("search", name), ("sort", "downloads"), ("limit", str(PAGE_SIZE)))
        )
        page = self.list_page(f"{self.api.endpoint}/api/models?{query}")
        found = (item.get("id") for item in page.items if isinstance(item, dict))
        spaces = (i.split("/", 1)[0] for i in found if is_repo_id(i) and "/" in i)
        return list(dict.fromkeys(spaces))

    def model_info(self, repo_id: str) -> dict[str, Any] | None:
        """The Hub's record of one model, renames and case resolved; None if missing.

        Missing is what the Hub says (``RepoNotFound``: no such model, or a private one
        this token cannot see; or a disabled one); any other refusal is an error, and an
        answer that is not a model record is retried like a failed request.
        """
        if not is_repo_id(repo_id):
            raise ValueError(f"not a repo id, never to be requested: {quote_text(repo_id)!r}")
        url = f"{self.api.endpoint}/api/models/{quote(repo_id, safe='/')}"
        query = "&".join(f"expand={f}" for f in INFO_FIELDS)
        try:
            return self._get(f"{url}?{query}", kind="lookup", what=f"model {repo_id}", read=_record)
        except NotOnHub:
            return None

    def _page(self, response: httpx2.Response) -> Page:
        items = _json(response)
        if not isinstance(items, list):
            raise _BadAnswer(f"{_kind_of(items)} where a list of models belongs")
        for position, item in enumerate(items, start=1):
            problem = item_problem(item)
            if problem is not None:
                raise _BadAnswer(f"items that are not model records (item {position}: {problem})")
        link = response.links.get("next", {}).get("url")
        next_url = str(response.url.join(link)) if link else None
        if next_url is not None and not may_follow(self.api.endpoint, next_url):
            raise HubError(
                f"the Hub at {self.endpoint} put the next page of a model listing on another "
                f"origin ({origin_text(next_url)}); lineage sends requests, and the token, only "
                f"to {origin_text(self.api.endpoint)}, so it stops here"
            )
        return Page(items, next_url)

    def model_file(self, repo_id: str, filename: str, *, max_bytes: int) -> FileAnswer:
        """The first ``max_bytes`` of one file of a model repository (main revision).

        One request (a ``Range`` request: a hostile multi-gigabyte card is never
        downloaded whole), through the resolve endpoint huggingface_hub downloads from.
        Not errors, each an answer: ``absent`` (the repository has no such file),
        ``missing`` (no such repository, or a private one), ``refused`` (gated, or
        forbidden to this token: model cards stay readable on gated repositories, their
        other files do not). A token the Hub refuses is an error, as everywhere.
        """
        from huggingface_hub import hf_hub_url

        if not is_repo_id(repo_id):
            raise ValueError(f"not a repo id, never to be requested: {quote_text(repo_id)!r}")
        url = hf_hub_url(repo_id, filename, endpoint=self.api.endpoint)
        response = self._get(
            url,
            kind="file",
            what=f"file {filename} of model {repo_id}",
            headers={"Range": f"bytes=0-{max_bytes - 1}"},
            answers=(401, 403, 404, 416),
        )
        status, code = response.status_code, response.headers.get("X-Error-Code") or ""
        if status == 416:  # an empty file: no byte to send
            return FileAnswer("read", b"")
        if status < 400:
            return FileAnswer("read", response.content[:max_bytes])
        if code == "EntryNotFound":
            return FileAnswer("absent")
        if code in ("RepoNotFound", "DisabledRepo"):
            return FileAnswer("missing")
        if code == "GatedRepo" or status == 403:
            return FileAnswer("refused")
        raise error_for(response, self.endpoint, f"file {filename} of model {repo_id}")

    # -- the retry loop --------------------------------------------------------------------

    @overload
    def _get(
        self,
        url: str,
        *,
        kind: str,
        what: str,
        read: Callable[[httpx2.Response], T],
        headers: Mapping[str, str] | None = None,
    ) -> T: ...

    @overload
    def _get(
        self,
        url: str,
        *,
        kind: str,
        what: str,
        read: None = None,
        headers: Mapping[str, str] | None = None,
        answers: tuple[int, ...] = (),
    ) -> httpx2.Response: ...

    def _get(
        self,
        url: str,
        *,
        kind: str,
        what: str,
        read: Callable[[httpx2.Response], T] | None = None,
        headers: Mapping[str, str] | None = None,
        answers: tuple[int, ...] = (),
    ) -> T | httpx2.Response:
        """GET ``url`` and ``read`` its answer (None: the answer as it is), retrying what a
        later try may get right; statuses in ``answers`` are returned, not raised."""
        started = time.monotonic()  # the first attempt's own wait counts too
        wait = self.policy.base_wait
        attempt = 0
        bad = 0
        while True:
            attempt += 1
            if kind == "listing":
                self.stats.listings += 1
            elif kind == "file":
                self.stats.files += 1
            else:
                self.stats.lookups += 1
            left = self._budget(unreached=self.stats.answered == 0) - (time.monotonic() - started)
            deadline = min(self.policy.deadline, max(left, MIN_DEADLINE))
            try:
                with interruptible():
                    response = self._get_following_redirects(
                        url, what, deadline, headers, anonymous_elsewhere=kind == "file"
                    )
            except httpx2.TransportError as exc:
                reason = f"{exc.__class__.__name__}: {exc}".strip().rstrip(":")
                delay = wait
                # Refused, or accepted and then silent: either way the Hub never answered.
                unreached = self.stats.answered == 0
            except _TooSlow:
                reason = f"no whole answer within {deadline:.0f} s"
                delay = wait
                unreached = False
            else:
                self.stats.answered += 1
                unreached = False
                if response.status_code == 429:
                    reason = "rate limited (HTTP 429)"
                    delay = _rate_limit_wait(response.headers, wait)
                elif response.status_code >= 500:
                    reason = f"HTTP {response.status_code}"
                    delay = max(wait, _window_reset(response.headers))
                else:
                    # Every answer spends from the window, a 404 or a redirect as much as
                    # a 200: sit it out before anything else can be sent.
                    self._pace(response)
                    if response.status_code in answers:
                        return response
                    with hub_errors(self.endpoint, what):
                        hf_raise_for_status(response)
                    if read is None:
                        return response
                    try:
                        return read(response)
                    except _BadAnswer as exc:
                        bad += 1
                        reason = str(exc)
                        delay = wait
                        if bad >= self.policy.bad_answers:
                            raise MalformedAnswer(
                                f"the Hub at {self.endpoint} answered {what} "
                                f"({shown_url(url)}) with {reason}, {bad} times in a row"
                            ) from None
            spent = time.monotonic() - started
            if spent + delay > self._budget(unreached=unreached):
                raise HubUnreachable(
                    f"the Hub at {self.endpoint} kept failing ({reason}) for {spent:.0f} s "
                    f"over {attempt} attempts"
                )
            self.stats.retries += 1
            self._sleep(delay, reason)
            wait = min(self.policy.max_wait, wait * 2)

    def _budget(self, *, unreached: bool) -> float:
        if unreached:
            return min(self.policy.give_up_after, self.policy.give_up_unreached_after)
        return self.policy.give_up_after

    def _get_following_redirects(
        self,
        url: str,
        what: str,
        deadline: float,
        headers: Mapping[str, str] | None = None,
        *,
        anonymous_elsewhere: bool = False,
    ) -> httpx2.Response:
        """GET, following the Hub's redirects (renamed repos: 307) one at a time.

        Each redirect is an answer that spent a request from the rate-limit window, so the
        window is sat out before the next hop when it is used up (that wait is not part of
        the attempt's ``deadline``). A redirect to another origin is refused, unless
        ``anonymous_elsewhere`` (a repository file, which the Hub serves from a CDN): then it
        is followed without the token, as huggingface_hub and httpx strip ``Authorization``
        from a redirect to another host.
        """
        session = get_session()
        ends = time.monotonic() + deadline
        token = True
        for _ in range(MAX_REDIRECTS):
            response = self._send(session, url, ends, headers, token=token)
            location = response.headers.get("Location")
            if not response.is_redirect or not location:
                return response
            self.stats.answered += 1
            self.stats.redirects += 1
            target = str(response.url.join(location))
            if not may_follow(self.api.endpoint, target):
                if not anonymous_elsewhere:
                    raise HubError(
                        f"the Hub at {self.endpoint} redirected {what} to another origin "
                        f"({origin_text(target)}); lineage sends requests, and the token, only "
                        f"to {origin_text(self.api.endpoint)}, so it stops here"
                    )
                token = False  # from here on, never the token
            ends += self._pace(response)
            url = target
        raise HubError(f"the Hub at {self.endpoint} redirected more than {MAX_REDIRECTS} times")

    def _send(
        self,
        session: httpx2.Client,
        url: str,
        ends: float,
        headers: Mapping[str, str] | None = None,
        *,
        token: bool = True,
    ) -> httpx2.Response:
        """One HTTP exchange, whole (status, headers and body) by ``ends`` or :class:`_TooSlow`.

        Each network operation also waits at most ``policy.timeout``; the body is read in
        chunks so that one trickled byte at a time cannot stretch the attempt past ``ends``.
        ``token=False`` sends no ``Authorization`` (a request to another origin).
        """
        now = time.monotonic()
        if now >= ends:
            raise _TooSlow
        sent = {**self._headers(), **(headers or {})}
        if not token:
            sent.pop("authorization", None)
            sent.pop("Authorization", None)
        request = session.build_request(
            "GET",
            url,
            headers=sent,
            timeout=httpx2.Timeout(min(self.policy.timeout, ends - now)),
        )
        response = session.send(request, stream=True, follow_redirects=False)
        try:
            chunks = []
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if time.monotonic() > ends:
                    raise _TooSlow
        finally:
            response.close()
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            content=b"".join(chunks),
            request=request,
        )

    def _headers(self) -> dict[str, str]:
        return build_hf_headers(
            token=self.api.token, library_name="lineage", library_version=__version__
        )

    def _pace(self, response: httpx2.Response) -> float:
        """Sit out the rest of the rate-limit window when it is used up (be polite); return
        the seconds waited.

        Called after every answer, redirects included (see _get_following_redirects).
        """
        reset = _window_reset(response.headers)
        if reset > 0:
            self._sleep(reset, "rate-limit window used up")
        return reset

    def _sleep(self, seconds: float, reason: str) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds, reason)
        self.stats.waited += seconds
        with interruptible():
            time.sleep(seconds)


# -- what an answer must be ------------------------------------------------------------------

# The Hub's own fields of a model record and the JSON type each has (null allowed). Card
# contents (cardData) are free-form and checked where they are parsed (lineage.records).
_FIELD_TYPES: dict[str, str] = {
    "author": "string",
    "createdAt": "time",
    "lastModified": "time",
    "downloads": "count",
    "downloadsAllTime": "count",
    "likes": "count",
    "pipeline_tag": "string",
    "library_name": "string",
    "tags": "list of strings",
}


def item_problem(item: object) -> str | None:
    """Why ``item`` is not a model record as the Hub sends one; None if it is.

    A record is an object with a string ``id`` whose Hub fields have their JSON types
    (:data:`_FIELD_TYPES`; null or absent is allowed). An id that is a string but fails the
    repo-id rule passes here: it is a hostile id, skipped and counted by the parser.

    Examples
    --------
    >>> item_problem({"id": "a/b", "createdAt": "2025-01-01T00:00:00.000Z", "likes": 3})
    >>> item_problem({"id": "a/b", "createdAt": 12})
    "'a/b': createdAt is 12, not a time"
    >>> item_problem([1, 2])
    'a list, not an object'
    """
    if not isinstance(item, Mapping):
        return f"{_kind_of(item)}, not an object"
    if not isinstance(item.get("id"), str):
        return "an object without a string id"
    for name, expected in _FIELD_TYPES.items():
        value = item.get(name)
        if value is not None and not _is_a(value, expected):
            shown = repr(value) if isinstance(value, int | float) else _kind_of(value)
            return f"{quote_text(item['id'])!r}: {name} is {shown}, not a {expected}"
    return None


def _is_a(value: object, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "count":
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if expected == "list of strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not isinstance(value, str):  # a time
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _kind_of(value: object) -> str:
    """How a JSON value is named in a message (never the value itself: it may be huge)."""
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), "a number")


def _json(response: httpx2.Response) -> Any:
    """The answer's JSON, or :class:`_BadAnswer` saying what came instead."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()
        head = response.content[:200].lstrip().lower()
        if "html" in kind or head.startswith((b"<!doctype html", b"<html")):
            raise _BadAnswer("an HTML page, not JSON") from None
        if not response.content:
            raise _BadAnswer("an empty body, not JSON") from None
        raise _BadAnswer(f"malformed or cut-short JSON ({len(response.content):,} bytes)") from None


def _record(response: httpx2.Response) -> dict[str, Any]:
    item: dict[str, Any] = _json(response)  # a dict once item_problem has passed it
    problem = item_problem(item)
    if problem is not None:
        raise _BadAnswer(f"something that is not a model record ({problem})")
    return item


# -- where requests may go -------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}
# The Hub's own origins, between which huggingface_hub forwards the token (its rule for
# redirects, huggingface_hub.utils._http._is_same_or_hub_host).
HUB_ORIGINS = frozenset({("https", "huggingface.co", 443), ("https", "hf.co", 443)})


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of ``url``, the port made explicit; None if it has none."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def may_follow(endpoint: str, url: str) -> bool:
    """Whether a request (with the token) may go to ``url`` for a client of ``endpoint``.

    Only to the endpoint's own origin, or between the Hub's own origins, as
    huggingface_hub follows redirects; a browser's same-origin rule, so another port of
    the same host is another origin.

    Examples
    --------
    >>> may_follow("https://huggingface.co", "https://huggingface.co/api/models?cursor=x")
    True
    >>> may_follow("https://huggingface.co", "https://hf.co/api/models")
    True
    >>> may_follow("http://127.0.0.1:8765", "http://127.0.0.1:9999/api/models")
    False
    """
    mine, theirs = origin(endpoint), origin(url)
    if theirs is None:
        return False
    return theirs == mine or (theirs in HUB_ORIGINS and mine in HUB_ORIGINS)


def origin_text(url: str) -> str:
    """An origin as people write it (``http://host:port``), never with credentials."""
    found = origin(url)
    if found is None:
        return quote_text(url)
    scheme, host, port = found
    default = _DEFAULT_PORTS.get(scheme) == port
    return f"{scheme}://{host}" + ("" if default else f":{port}")


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part, so that it can be shown and stored.

    >>> without_credentials("http://alice:secret@127.0.0.1:8765/hub")
    'http://127.0.0.1:8765/hub'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def shown_url(url: str) -> str:
    """A request URL as a message names it: no credentials, no fixed ``expand`` list."""
    parts = urlsplit(without_credentials(url))
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("expand="))
    text = urlunsplit(parts._replace(query=query))
    return text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 3] + "..."


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` without a trailing slash, if it is an http(s) URL of a host; else
    :class:`~lineage.errors.InputError` naming the ``endpoint`` parameter.

    >>> check_endpoint("http://127.0.0.1:8765/")
    'http://127.0.0.1:8765'
    >>> check_endpoint("ftp://example.com")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: endpoint must be an http:// or https:// URL ...
    """
    text = endpoint.strip()
    parts = urlsplit(text) if text.isprintable() else None
    if (
        parts is None
        or parts.scheme.lower() not in _DEFAULT_PORTS
        or origin(text) is None
        or parts.query
        or parts.fragment
    ):
        raise InputError(
            "{endpoint} must be an http:// or https:// URL of a Hub, such as "
            f"https://huggingface.co, not {quote_text(endpoint)!r}",
            params=("endpoint",),
            value=endpoint,
        )
    return text.rstrip("/")


def _rate_limit_wait(headers: Mapping[str, str], fallback: float) -> float:
    """Seconds to wait after a 429: the RateLimit reset, else Retry-After, else backoff."""
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds) + random.uniform(0, 0.5)
    retry_after = headers.get("Retry-After", "").strip()
    if retry_after.isdigit():
        return float(retry_after) + random.uniform(0, 0.5)
    return fallback


def _window_reset(headers: Mapping[str, str]) -> float:
    """Seconds until the rate-limit window resets when it is used up, else 0."""
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0 and info.reset_in_seconds > 0:
        return float(info.reset_in_seconds)
    return 0.0


def make_client(
    endpoint: str | None = None,
    token: str | bool | None = None,
    *,
    policy: RetryPolicy | None = None,
    on_wait: WaitCallback | None = None,
) -> HubClient:
    """Build the Hub client. ``endpoint`` defaults to ``HF_ENDPOINT``; ``token`` to the login.

    ``token=False`` crawls anonymously even when a token is saved. An endpoint that is not
    an http(s) URL is refused at once (:func:`check_endpoint`).
    """
    endpoint = endpoint_setting(endpoint)
    api = HfApi(endpoint=check_endpoint(endpoint) if endpoint else None, token=token)
    return HubClient(api=api, policy=policy or RetryPolicy(), on_wait=on_wait)
