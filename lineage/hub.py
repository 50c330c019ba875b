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
request. Callers keep their progress, so running the same command again resumes.

Ids are checked with :mod:`lineage.repo_id` before they get here; :meth:`HubClient.model_info`
refuses any other (a programming error, not a Hub answer).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.utils import (
    build_hf_headers,
    get_session,
    hf_raise_for_status,
    parse_ratelimit_headers,
)

from . import __version__
from .errors import HubError, HubUnreachable, NotOnHub
from .hub_errors import error_for, hub_errors
from .repo_id import is_repo_id
from .repo_id import quote as quote_text

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
    (waiting included); the default outlasts a full 5-minute rate-limit window twice.
    """

    give_up_after: float = 900.0
    # Before any request of this run has succeeded, a Hub that cannot even be connected
    # to is most likely no network or a wrong endpoint: say so within a minute.
    give_up_unreached_after: float = 60.0
    base_wait: float = 1.0
    max_wait: float = 120.0
    timeout: float = 60.0


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

    items: list
    next_url: str | None


WaitCallback = Callable[[float, str], None]


@dataclass
class HubClient:
    """Listing pages and model lookups with crawler-grade retries. Build with make_client."""

    api: HfApi
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    stats: RequestStats = field(default_factory=RequestStats)
    on_wait: WaitCallback | None = None

    @property
    def endpoint(self) -> str:
        return self.api.endpoint

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
        return f"{self.endpoint}/api/models?{encoded}"

    def list_page(self, url: str) -> Page:
        """Fetch one listing page."""
        response = self._get(url, kind="listing", what="a model listing")
        items = response.json()
        if not isinstance(items, list):
            raise HubError(f"the Hub at {self.endpoint} answered a listing with something else")
        next_url = response.links.get("next", {}).get("url")
        return Page(items, next_url)

    def namespaces_like(self, name: str) -> list[str]:
        """Namespaces of the most downloaded models whose id contains ``name`` (one request).

        How a root typed in the wrong case (``qwen``) finds its organization's own case, and
        how a root that names nothing finds names close to it.
        """
        query = "&".join(
            f"{k}={quote(v, safe='')}"
            for k, v in (("search", name), ("sort", "downloads"), ("limit", str(PAGE_SIZE)))
        )
        page = self.list_page(f"{self.endpoint}/api/models?{query}")
        found = (item.get("id") for item in page.items if isinstance(item, dict))
        spaces = (i.split("/", 1)[0] for i in found if is_repo_id(i) and "/" in i)
        return list(dict.fromkeys(spaces))

    def model_info(self, repo_id: str) -> dict | None:
        """The Hub's record of one model, renames and case resolved; None if missing.

        Missing is what the Hub says (``RepoNotFound``: no such model, or a private one
        this token cannot see; or a disabled one); any other refusal is an error.
        """
        if not is_repo_id(repo_id):
            raise ValueError(f"not a repo id, never to be requested: {quote_text(repo_id)!r}")
        url = f"{self.endpoint}/api/models/{quote(repo_id, safe='/')}"
        query = "&".join(f"expand={f}" for f in INFO_FIELDS)
        try:
            response = self._get(f"{url}?{query}", kind="lookup", what=f"model {repo_id}")
        except NotOnHub:
            return None
        data = response.json()
        return data if isinstance(data, dict) and isinstance(data.get("id"), str) else None

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
        url = hf_hub_url(repo_id, filename, endpoint=self.endpoint)
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

    def _get(
        self,
        url: str,
        *,
        kind: str,
        what: str,
        headers: Mapping[str, str] | None = None,
        answers: tuple[int, ...] = (),
    ) -> httpx2.Response:
        """GET with the retry policy; statuses in ``answers`` are returned, not raised."""
        started = time.monotonic()  # the first attempt's own wait counts too
        wait = self.policy.base_wait
        attempt = 0
        while True:
            attempt += 1
            if kind == "listing":
                self.stats.listings += 1
            elif kind == "file":
                self.stats.files += 1
            else:
                self.stats.lookups += 1
            try:
                response = self._get_following_redirects(url, headers)
            except httpx2.TransportError as exc:
                reason = f"{exc.__class__.__name__}: {exc}".strip().rstrip(":")
                delay = wait
                # Refused, or accepted and then silent: either way the Hub never answered.
                unreached = self.stats.answered == 0
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
                    return response
            spent = time.monotonic() - started
            budget = (
                min(self.policy.give_up_after, self.policy.give_up_unreached_after)
                if unreached
                else self.policy.give_up_after
            )
            if spent + delay > budget:
                raise HubUnreachable(
                    f"the Hub at {self.endpoint} kept failing ({reason}) for {spent:.0f} s "
                    f"over {attempt} attempts"
                )
            self.stats.retries += 1
            self._sleep(delay, reason)
            wait = min(self.policy.max_wait, wait * 2)

    def _get_following_redirects(
        self, url: str, headers: Mapping[str, str] | None = None
    ) -> httpx2.Response:
        """GET, following the Hub's redirects (renamed repos: 307) one at a time.

        Each redirect is an answer that spent a request from the rate-limit window, so the
        window is sat out before the next hop when it is used up.
        """
        session = get_session()
        for _ in range(MAX_REDIRECTS):
            response = session.get(
                url,
                headers={**self._headers(), **(headers or {})},
                timeout=self.policy.timeout,
                follow_redirects=False,
            )
            location = response.headers.get("Location")
            if not response.is_redirect or not location:
                return response
            self.stats.answered += 1
            self.stats.redirects += 1
            self._pace(response)
            url = str(response.url.join(location))
        raise HubError(f"the Hub at {self.endpoint} redirected more than {MAX_REDIRECTS} times")

    def _headers(self) -> dict[str, str]:
        return build_hf_headers(
            token=self.api.token, library_name="lineage", library_version=__version__
        )

    def _pace(self, response: httpx2.Response) -> None:
        """Sit out the rest of the rate-limit window when it is used up (be polite).

        Called after every answer, redirects included (see _get_following_redirects).
        """
        reset = _window_reset(response.headers)
        if reset > 0:
            self._sleep(reset, "rate-limit window used up")

    def _sleep(self, seconds: float, reason: str) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds, reason)
        self.stats.waited += seconds
        time.sleep(seconds)


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

    ``token=False`` crawls anonymously even when a token is saved.
    """
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    api = HfApi(endpoint=endpoint.rstrip("/") if endpoint else None, token=token)
    return HubClient(api=api, policy=policy or RetryPolicy(), on_wait=on_wait)
