"""One mapping from Hub answers to lineage errors, on both paths that talk to a Hub.

The same answer (status, ``X-Error-Code``, ``X-Error-Message``, as the Hub sends them and as
huggingface_hub reads them) must become the same error whether it came back to a crawl
(:mod:`lineage.hub`: listings and lookups) or to the hub-stats download
(:mod:`lineage.hubstats`: ``get_hf_file_metadata`` and ``hf_hub_download``). Everything goes
through the real huggingface_hub client against the FakeHub.
"""

from __future__ import annotations

import pytest
from support.hubstats_dump import write_hub_stats_dump
from support.toyhub import client_for, toy_models

from lineage.crawl import Crawler, CrawlRequest
from lineage.errors import HubAuthError, HubError, HubUnreachable, NotOnHub
from lineage.hubstats import HUB_STATS_REPO, ingest_hub_stats
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

# (status, X-Error-Code, X-Error-Message or None for the Hub's usual one) -> error class
ANSWERS = [
    pytest.param(400, None, None, HubError, "HTTP 400: Bad request", id="400"),
    pytest.param(401, None, None, HubAuthError, "refused the token", id="401-bad-token"),
    # A 401 is a refused token whatever its wording, unless the Hub says RepoNotFound.
    pytest.param(401, None, "Unauthorized", HubAuthError, "refused the token", id="401-other"),
    pytest.param(401, "RepoNotFound", "Repository not found", NotOnHub, "has no", id="401-repo"),
    pytest.param(403, None, None, HubAuthError, "refused access", id="403"),
    pytest.param(403, "GatedRepo", "Access restricted", HubAuthError, "gated", id="403-gated"),
    pytest.param(
        403,
        "DisabledRepo",
        "Access to this resource is disabled.",
        NotOnHub,
        "disabled",
        id="403-off",
    ),
    pytest.param(404, "RepoNotFound", None, NotOnHub, "has no", id="404-repo"),
    pytest.param(404, "EntryNotFound", "Entry not found", NotOnHub, "has no", id="404-entry"),
    pytest.param(404, None, "Not Found", HubError, "HTTP 404", id="404-bare"),
    pytest.param(500, None, None, HubUnreachable, "HTTP 500", id="500"),
    pytest.param(503, None, None, HubUnreachable, "HTTP 503", id="503"),
]


def _crawl_error(tmp_path, status, code, message) -> HubError:
    """The error a crawl's first listing request gets for this answer (retries included)."""
    with FakeHub(toy_models()) as hub:
        hub.inject("list", status=status, code=code, message=message, times=1000)
        client = client_for(hub, give_up_after=0.3)
        with pytest.raises(HubError) as caught:
            Crawler(Store(tmp_path / "crawl"), client).run(
                CrawlRequest(roots=("Qwen",), strategy="walk")
            )
    return caught.value


def _download_error(tmp_path, status, code, message) -> HubError:
    """The error the hub-stats download gets for this answer to its first request."""
    dump = write_hub_stats_dump([{"id": "a/b", "tags": []}], tmp_path / "models.parquet")
    files = {("dataset", HUB_STATS_REPO, "models.parquet"): dump}
    with FakeHub([], files=files) as hub:
        hub.inject("file", status=status, code=code, message=message, times=1000)
        with pytest.raises(HubError) as caught:
            ingest_hub_stats(Store(tmp_path / "ingest"), endpoint=hub.url)
        assert hub.count("file") >= 1
    return caught.value


@pytest.mark.parametrize(("status", "code", "message", "expected", "words"), ANSWERS)
def test_the_same_answer_is_the_same_error_on_both_paths(
    tmp_path, status, code, message, expected, words
):
    crawl = _crawl_error(tmp_path, status, code, message)
    download = _download_error(tmp_path, status, code, message)
    for error in (crawl, download):
        assert type(error) is expected, (type(error).__name__, str(error))
        text = str(error)
        assert "\n" not in text and words in text, text
        assert "127.0.0.1" in text  # names the endpoint
    # The download names the file and the way out; the library spells no CLI flag.
    assert "cfahlgren1/hub-stats/models.parquet" in str(download)
    assert "--" not in str(download) and "--" not in str(crawl)
    if expected is not HubAuthError or code is not None:
        assert "pass the path of a models.parquet you downloaded" in str(download)


def test_a_lookup_the_hub_answers_repo_not_found_is_a_missing_parent_not_an_error(store):
    # Anonymous requests for a private parent get 401 RepoNotFound from the Hub.
    models = [
        {
            "id": "me/child",
            "createdAt": "2025-02-01T00:00:00.000Z",
            "author": "me",
            "tags": ["base_model:other/private-base"],
        },
    ]
    with FakeHub(models) as hub:
        hub.inject(
            "info", status=401, code="RepoNotFound", message="Repository not found", times=10
        )
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(roots=("me",), strategy="walk"))
        assert [r.status for r in hub.requests if r.kind == "info"] == [401]
    assert summary.missing == 1


def test_a_lookup_refused_for_the_token_stops_the_crawl(store):
    models = [
        {
            "id": "me/child",
            "createdAt": "2025-02-01T00:00:00.000Z",
            "author": "me",
            "tags": ["base_model:other/base"],
        },
    ]
    with FakeHub(models) as hub:
        hub.inject("info", status=403, times=10)
        with pytest.raises(HubAuthError, match="refused access to model other/base"):
            Crawler(store, client_for(hub)).run(CrawlRequest(roots=("me",), strategy="walk"))


# (5xx: a crawl from the CLI retries for 15 minutes; the library test above covers it.)
@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_cli_phrases_both_paths_in_one_line(run_cli, tmp_path, status):
    dump = write_hub_stats_dump([{"id": "a/b", "tags": []}], tmp_path / "models.parquet")
    files = {("dataset", HUB_STATS_REPO, "models.parquet"): dump}
    with FakeHub(toy_models(), files=files) as hub:
        url = hub.url
        hub.inject(status=status, code="EntryNotFound" if status == 404 else None, times=1000)
        crawl = run_cli(
            "crawl", "--root", "Qwen", "--store", str(tmp_path / "c"), "--endpoint", hub.url
        )
        ingest = run_cli(
            "ingest", "hub-stats", "--store", str(tmp_path / "i"), "--endpoint", hub.url
        )
    for result in (crawl, ingest):
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: the Hub at {url} "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
    if status != 401:
        assert ingest.stderr.endswith("pass the PATH of a models.parquet you downloaded\n")
