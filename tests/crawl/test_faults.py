"""Faults between lineage and the Hub: where the token goes, listings that never end, answers
that never finish, answers that are not the Hub's, and endpoints that are not URLs.

Every crawl goes through the real huggingface_hub client to the fake Hub, with a FaultProxy
(a real TCP proxy on 127.0.0.1) in between answering chosen requests wrongly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import polars as pl
import pytest
from support.storecheck import lineage_subprocess, table_rows
from support.toyhub import client_for, toy_models, toy_renames

from lineage.crawl import Crawler, CrawlRequest
from lineage.errors import HubError, HubUnreachable, InputError, ListingStalled
from lineage.hub import RetryPolicy, make_client
from lineage.store import Store
from lineage.testing.fakehub import FakeHub
from lineage.testing.faultproxy import FaultProxy

TOKEN = "hf_secret_token_0123456789"
VOLATILE = {
    "models": ("seen_at",),
    "edges": (),
    "problems": (),
    "lookups": ("looked_up_at",),
}


def toy_hub(**kwargs) -> FakeHub:
    return FakeHub(toy_models(), page_size=5, renames=toy_renames(), **kwargs)


def same_tables(a: Store, b: Store) -> None:
    for table, drop in VOLATILE.items():
        assert table_rows(a, table, drop=drop) == table_rows(b, table, drop=drop), table


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Store:
    """The toy Hub swept with no fault in the way."""
    store = Store(tmp_path_factory.mktemp("reference"))
    with toy_hub() as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
    return store


# ---- 1. the token goes only to the endpoint's origin --------------------------------------------


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("next-elsewhere", "list"), ("redirect-elsewhere", "list"), ("redirect-elsewhere", "info")],
)
def test_a_next_link_or_redirect_to_another_origin_is_refused(run_cli, tmp_path, fault, kind):
    with (
        toy_hub(tokens={TOKEN}) as hub,
        FaultProxy(hub.url) as proxy,
        FakeHub([]) as other_hub,
        FaultProxy(other_hub.url) as elsewhere,
    ):
        # Another port of 127.0.0.1 is another origin: the browser's rule, and the client's.
        proxy.fault(fault, kind, origin=elsewhere.url, times=None)
        args = ["crawl", "--store", str(tmp_path / "s"), "--endpoint", proxy.url]
        args += ["--root", "Qwen", "--strategy", "walk"] if kind == "info" else ["--all"]
        result = run_cli(*args, env={"HF_TOKEN": TOKEN})
        assert elsewhere.requests == []  # not one request, so never the token
        other = elsewhere.url
    assert result.exit_code == 1, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert other in line and "another origin" in line
    assert TOKEN not in result.stderr


def test_the_token_still_goes_with_same_origin_redirects(tmp_path):
    with toy_hub(tokens={TOKEN}) as hub, FaultProxy(hub.url) as proxy:
        client = make_client(proxy.url, token=TOKEN, policy=RetryPolicy(base_wait=0.01))
        assert client.model_info("Qwen/Qwen2.5-7B-Preview")["id"] == "Qwen/Qwen2.5-7B"
        hops = [r for r in proxy.requests if r.path.startswith("/api/models/")]
    assert [r.path for r in hops] == [
        "/api/models/Qwen/Qwen2.5-7B-Preview",
        "/api/models/Qwen/Qwen2.5-7B",
    ]
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in hops)


def test_a_repository_file_redirected_to_a_cdn_is_fetched_without_the_token():
    # The Hub serves large files from another host: followed as huggingface_hub does, with
    # the Authorization header stripped (model files only; an API answer elsewhere is refused).
    card = b"---\nbase_model: Qwen/Qwen2.5-7B\n---\n"
    files = {("model", "alice/qwen-chat-ft", "README.md"): card}
    with (
        FakeHub(toy_models(), renames=toy_renames(), tokens={TOKEN}, files=files) as hub,
        FaultProxy(hub.url) as proxy,
        FaultProxy(hub.url) as cdn,
    ):
        proxy.fault("redirect-elsewhere", "other", origin=cdn.url, times=None)
        client = make_client(proxy.url, token=TOKEN, policy=RetryPolicy(base_wait=0.01))
        answer = client.model_file("alice/qwen-chat-ft", "README.md", max_bytes=1000)
        [asked] = proxy.requests
        [fetched] = cdn.requests
    assert answer.status == "read" and answer.content == card
    assert asked.headers.get("authorization") == f"Bearer {TOKEN}"
    assert "authorization" not in fetched.headers
    assert fetched.headers.get("range") == "bytes=0-999"


def test_an_endpoint_with_credentials_is_stored_and_shown_without_them(run_cli, tmp_path):
    store = tmp_path / "s"
    with toy_hub() as hub:
        plain = hub.url
        endpoint = plain.replace("http://", "http://alice:pa55word@")
        result = run_cli(
            "crawl", "--root", "mistralai", "--store", str(store), "--endpoint", endpoint
        )
    assert result.exit_code == 0, result.stderr
    assert Store(store).read("crawls")["endpoint"].to_list() == [plain]
    info = run_cli("info", "--store", str(store), "--format", "json")
    assert "pa55word" not in result.stderr + info.stdout


# ---- 2. every listing ends ---------------------------------------------------------------------


def test_endless_empty_pages_with_fresh_next_links_stop_as_a_stall(tmp_path):
    store = Store(tmp_path / "s")
    with toy_hub() as hub, FaultProxy(hub.url) as proxy:
        # A hundred of them (then the fake Hub refuses the made-up cursor): a crawl that
        # follows fresh links whatever they hold asks for all of them.
        proxy.fault("empty", "list", times=100)
        client = make_client(proxy.url, token=False, policy=RetryPolicy(base_wait=0.01))
        with pytest.raises(HubError) as err:
            Crawler(store, client).run(CrawlRequest(all=True))
        pages = proxy.count("list")
    assert pages <= 4, f"{pages} listing pages asked for"  # STALE_PAGES with nothing new
    assert isinstance(err.value, ListingStalled), err.value
    assert "stopped making progress" in str(err.value)


# ---- 3. every request has a deadline ---------------------------------------------------------


def test_a_trickled_answer_is_cut_at_its_deadline_and_retried(tmp_path, reference):
    store = Store(tmp_path / "s")
    with toy_hub() as hub, FaultProxy(hub.url) as proxy:
        proxy.fault("trickle", "list", every=0.2, times=1)  # a page would take minutes
        policy = RetryPolicy(base_wait=0.01, deadline=1.0, give_up_after=30)
        started = time.monotonic()
        summary = Crawler(store, make_client(proxy.url, token=False, policy=policy)).run(
            CrawlRequest(all=True)
        )
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert summary.retries == 1
    same_tables(store, reference)


def test_give_up_after_fires_on_a_trickle(tmp_path):
    with toy_hub() as hub, FaultProxy(hub.url) as proxy:
        proxy.fault("trickle", "list", every=1.0, times=None)
        started = time.monotonic()
        proc = lineage_subprocess(
            "crawl", "--all", "--give-up-after", "3", "--endpoint", proxy.url,
            "--store", str(tmp_path / "s"),
        )  # fmt: skip
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("--give-up-after 3 never fired on a trickled answer")
        elapsed = time.monotonic() - started
    assert proc.returncode == 1, err
    assert elapsed < 40  # the attempt's least deadline (10 s), start-up and a retry's wait
    [line] = err.splitlines()
    assert "kept failing" in line and "nothing was fetched" in line


# ---- 4. answers that are not the Hub's -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fault"),
    [(k, f) for k in ("list", "info") for f in ("malformed", "truncate", "html", "junk")][:-1],
)  # (junk items are a listing's fault: a lookup's junk is "malformed")
def test_a_bad_answer_is_retried_like_a_dropped_connection(tmp_path, fault, kind):
    request = CrawlRequest(roots=("Qwen",), strategy="walk")
    with toy_hub() as hub:
        reference = Store(tmp_path / "reference")
        Crawler(reference, client_for(hub)).run(request)
        with FaultProxy(hub.url) as proxy:
            proxy.fault(fault, kind, times=2, keep=40)
            store = Store(tmp_path / "s")
            client = make_client(proxy.url, token=False, policy=RetryPolicy(base_wait=0.01))
            summary = Crawler(store, client).run(request)
    assert summary.retries == 2
    same_tables(store, reference)


@pytest.mark.parametrize("fault", ["malformed", "html", "junk"])
def test_a_bad_answer_that_stays_bad_stops_with_one_line_naming_the_url(run_cli, tmp_path, fault):
    store = tmp_path / "s"
    with toy_hub() as hub, FaultProxy(hub.url) as proxy:
        # The first page is fine, then every listing page is bad.
        proxy.fault(fault, "list", times=None, match=lambda path, query: "cursor" in query)
        result = run_cli("crawl", "--all", "--store", str(store), "--endpoint", proxy.url)
        cursors = {r.query["cursor"][0] for r in proxy.requests if "cursor" in r.query}
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert f"{proxy.url}/api/models?" in line and next(iter(cursors)) in line
    assert "progress is saved (1 listing page, 0 lookups)" in line
    assert "expand=" not in line  # the URL without its fixed field list
    # Nothing from a bad page reached the store or the journal's pages.
    assert not Store(store).exists("models")


def test_junk_items_are_never_stored(tmp_path):
    store = Store(tmp_path / "s")
    with toy_hub() as hub, FaultProxy(hub.url) as proxy:
        proxy.fault("junk", "list", times=None)
        client = make_client(proxy.url, token=False, policy=RetryPolicy(base_wait=0.01))
        with pytest.raises(HubError) as err:
            Crawler(store, client).run(CrawlRequest(all=True))
    assert "not model records" in str(err.value)
    assert not store.exists("models") or "a/b" not in store.read("models")["id"].to_list()


def test_a_listing_item_with_a_hostile_id_is_still_skipped_not_retried(tmp_path):
    # A string id that fails the repo-id rule is a hostile id (counted, skipped); it is not
    # a broken answer, so the page is not asked for again.
    store = Store(tmp_path / "s")
    models = [*toy_models(), {"id": "evil/../x", "createdAt": "2025-05-01T00:00:00.000Z"}]
    with FakeHub(models, page_size=5, renames=toy_renames()) as hub:
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
    assert summary.skipped_items == 1 and summary.retries == 0
    assert store.read("models").filter(pl.col("id") == "evil/../x").height == 0


# ---- 5. an endpoint that is not a URL ---------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["not a url", "javascript:alert(1)", "ftp://example.com", "http://", "127.0.0.1:80"]
)
def test_an_endpoint_that_is_not_an_http_url_is_a_usage_error_at_once(tmp_path, endpoint):
    for args, env in (
        (["--endpoint", endpoint], {}),
        ([], {"HF_ENDPOINT": endpoint}),
    ):
        started = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "lineage",
                "crawl",
                "--all",
                "--store",
                str(tmp_path / "s"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        )
        assert time.monotonic() - started < 15
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "http" in proc.stderr.splitlines()[-1]
    with pytest.raises(InputError):
        make_client(endpoint)


def test_a_hub_unreachable_error_still_says_what_was_kept(tmp_path):
    with toy_hub() as hub, FaultProxy(hub.url) as proxy:
        proxy.fault("malformed", "list", times=None, match=lambda p, q: "cursor" in q)
        client = make_client(proxy.url, token=False, policy=RetryPolicy(base_wait=0.01))
        with pytest.raises(HubError) as err:
            Crawler(Store(tmp_path / "s"), client).run(CrawlRequest(all=True))
    assert not isinstance(err.value, HubUnreachable) or "progress is saved" in str(err.value)
    assert "progress is saved" in str(err.value)
