"""FakeHub answers the real huggingface_hub client the way the Hub does.

Every check goes through `HfApi` / `hf_hub_download` (or the client's own shared httpx session
for raw HTTP details), against a real server on 127.0.0.1; nothing is mocked.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, get_session, hf_hub_download
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)
from huggingface_hub.utils import http_backoff
from support.toyhub import ROOT

from lineage.testing.fakehub import Churn, FakeHub


def make_models(n: int = 25) -> list[dict]:
    models = []
    for i in range(n):
        org = f"org{i % 3}"
        tags = ["transformers", "base_model:org0/Model-0"] if i else ["transformers"]
        if i % 2 == 0:
            tags.append("even")
        models.append(
            {
                "id": f"{org}/Model-{i}",
                "author": org,
                "downloads": (i * 7) % 25,
                "likes": i,
                "createdAt": f"2024-01-{1 + i % 28:02d}T00:00:00.000Z",
                "private": False,
                "tags": tags,
                "pipeline_tag": "text-generation",
                "library_name": "transformers",
                "cardData": {"license": "mit"},
                "baseModels": {"relation": "finetune", "models": [{"id": "org0/Model-0"}]},
                "sha": f"{i:040x}",
            }
        )
    return models


@pytest.fixture
def hub():
    with FakeHub(make_models(), page_size=4) as hub:
        yield hub


@pytest.fixture
def api(hub):
    return HfApi(endpoint=hub.url, token=False)


def test_pagination_follows_link_headers_through_every_page(hub, api):
    ids = [m.id for m in api.list_models()]
    # The default order is trendingScore; these models have none, so the tie-break decides.
    assert ids == [m["id"] for m in make_models()]
    assert hub.count("list") == 7  # 25 models, 4 a page

    r = get_session().get(f"{hub.url}/api/models", params={"author": "org1"})
    next_url = r.links["next"]["url"]
    assert next_url.startswith(f"{hub.url}/api/models?author=org1&cursor=")
    assert len(r.json()) == 4


def test_author_filter_and_search(api):
    assert {m.id for m in api.list_models(author="org1")} == {
        f"org1/Model-{i}" for i in range(1, 25, 3)
    }
    # The exact case by default (the stricter reading of the live Hub); any case on request.
    assert list(api.list_models(author="ORG1")) == []
    with FakeHub(make_models(), author_any_case=True) as lenient:
        anycase = HfApi(endpoint=lenient.url, token=False).list_models(author="ORG1")
        assert len(list(anycase)) == 8
    # Several filters are ANDed; tags match exactly (case-sensitive).
    both = {m.id for m in api.list_models(author="org1", filter=["transformers", "even"])}
    assert both == {f"org1/Model-{i}" for i in (4, 10, 16, 22)}
    assert list(api.list_models(filter="Even")) == []
    assert {m.id for m in api.list_models(search="MODEL-1")} == {
        f"org{i % 3}/Model-{i}" for i in [1, *range(10, 20)]
    }


def test_sort_is_descending_with_a_stable_tie_break(api):
    got = [(m.downloads, m.id) for m in api.list_models(sort="downloads")]
    assert [d for d, _ in got] == sorted((d for d, _ in got), reverse=True)
    assert len(got) == 25
    created = [m.created_at for m in api.list_models(sort="created_at", limit=30)]
    assert created == sorted(created, reverse=True)


def test_expand_returns_only_the_expanded_properties(hub, api):
    raw = get_session().get(
        f"{hub.url}/api/models", params={"expand": ["downloads", "cardData"], "limit": 2}
    )
    assert [set(item) for item in raw.json()] == [{"_id", "id", "downloads", "cardData"}] * 2
    model = next(iter(api.list_models(expand=["likes"])))
    assert model.likes == 0 and model.downloads is None and model.tags is None

    plain = get_session().get(f"{hub.url}/api/models", params={"limit": 1}).json()[0]
    assert "cardData" not in plain and plain["modelId"] == plain["id"]
    assert next(iter(api.list_models(cardData=True))).card_data["license"] == "mit"


def test_listing_refuses_info_only_expand(api):
    with pytest.raises(BadRequestError, match="baseModels"):
        list(api.list_models(expand=["baseModels"]))
    with pytest.raises(BadRequestError):
        list(api.list_models(expand=["childrenModelCount"]))


def test_model_info_is_case_insensitive_and_expands_computed_fields(api):
    info = api.model_info("ORG0/model-0")
    assert info.id == "org0/Model-0"
    assert info.card_data["license"] == "mit" and info.base_models is None  # not by default
    info = api.model_info("org0/Model-0", expand=["baseModels", "childrenModelCount"])
    assert info.children_model_count == 24
    assert info.base_models["relation"] == "finetune"
    assert info.downloads is None


def test_renamed_repo_redirects_and_the_client_follows(hub, api):
    hub.rename_model("org2/Model-2", "neworg/Model-2")
    info = api.model_info("org2/Model-2", expand=["author"], revision="main")
    assert (info.id, info.author) == ("neworg/Model-2", "neworg")
    assert [(r.status, r.path, r.query) for r in hub.requests] == [
        (307, "/api/models/org2/Model-2/revision/main", {"expand": ["author"]}),
        (200, "/api/models/neworg/Model-2/revision/main", {"expand": ["author"]}),
    ]


def test_unknown_repo_raises_repository_not_found(api):
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing")


def test_tokens_are_checked_only_when_configured():
    with FakeHub(make_models(3), tokens={"hf_good"}) as hub:
        assert HfApi(endpoint=hub.url, token="hf_good").model_info("org0/Model-0")
        assert HfApi(endpoint=hub.url, token=False).model_info("org0/Model-0")  # anonymous
        with pytest.raises(HfHubHTTPError) as caught:
            HfApi(endpoint=hub.url, token="hf_bad").model_info("org0/Model-0")
        assert not isinstance(caught.value, RepositoryNotFoundError)
        assert caught.value.response.status_code == 401
        assert caught.value.response.headers["X-Error-Message"] == (
            "Invalid credentials in Authorization header"
        )


def test_injected_429_is_retried_by_list_models(hub, api):
    fault = hub.inject("list", status=429, retry_after=0, times=1)
    start = time.monotonic()
    assert len(list(api.list_models(author="org0"))) == 9
    assert time.monotonic() - start >= 1  # the client waits t+1 seconds
    assert fault.remaining == 0
    statuses = [r.status for r in hub.requests]
    assert statuses == [429, 200, 200, 200]
    r = hub.requests[0]
    assert (r.kind, r.query) == ("list", {"author": ["org0"]})


def test_server_errors_go_through_the_clients_backoff(hub):
    hub.inject("info", status=503, times=2)
    r = http_backoff("GET", f"{hub.url}/api/models/org0/Model-0", base_wait_time=0.01)
    assert r.status_code == 200
    assert [r.status for r in hub.requests] == [503, 503, 200]


def test_dropped_connection(hub, api):
    hub.inject("info", drop=True)
    with pytest.raises(httpx2.RemoteProtocolError):
        api.model_info("org0/Model-0")  # model_info does not retry
    assert hub.requests[-1].status is None
    assert api.model_info("org0/Model-0").id == "org0/Model-0"


def test_delay_makes_the_client_time_out(hub, api):
    hub.inject("info", delay=0.5, match=lambda path, query: path.endswith("Model-1"))
    assert api.model_info("org0/Model-0", timeout=0.2)
    with pytest.raises(httpx2.ReadTimeout):
        api.model_info("org1/Model-1", timeout=0.2)


def test_a_saved_cursor_url_gives_the_same_page_later(hub):
    session = get_session()
    first = session.get(f"{hub.url}/api/models", params={"sort": "downloads", "limit": 3})
    next_url = first.links["next"]["url"]
    page = session.get(next_url).json()

    hub.add_model({"id": "late/arrival", "downloads": -1})  # sorts after everything
    assert session.get(next_url).json() == page

    # Another server with the same data (say, after a restart) honours the same cursor.
    with FakeHub(make_models(), page_size=4) as other:
        again = session.get(next_url.replace(hub.url, other.url)).json()
    assert again == page


def test_population_changes_between_crawls(hub, api):
    hub.update_model("org0/Model-0", downloads=1000)
    assert next(iter(api.list_models(sort="downloads"))).id == "org0/Model-0"
    hub.remove_model("org0/Model-3")
    hub.add_model({"id": "org0/fresh", "tags": ["even"]})
    ids = {m.id for m in api.list_models(author="org0", filter="even")}
    assert "org0/fresh" in ids and "org0/Model-3" not in ids
    assert hub.model("ORG0/FRESH")["_id"]  # an _id is generated when missing


def test_hf_hub_download_through_the_real_client(tmp_path):
    payload = b"PAR1" + bytes(range(256)) * 40
    disk_file = tmp_path / "weights.bin"
    disk_file.write_bytes(b"x" * 5000)
    files = {
        ("dataset", "cfahlgren1/hub-stats", "models.parquet"): payload,
        ("model", "org0/Model-0", "weights.bin"): disk_file,
    }
    with FakeHub(make_models(2), files=files) as hub:
        cache = tmp_path / "cache"
        path = hf_hub_download(
            "cfahlgren1/hub-stats",
            "models.parquet",
            repo_type="dataset",
            cache_dir=cache,
            endpoint=hub.url,
            token=False,
        )
        assert Path(path).read_bytes() == payload
        assert [(r.method, r.kind, r.status) for r in hub.requests] == [
            ("HEAD", "file", 200),
            ("GET", "file", 200),
        ]
        path = hf_hub_download(
            "org0/Model-0", "weights.bin", cache_dir=cache, endpoint=hub.url, token=False
        )
        assert Path(path).read_bytes() == b"x" * 5000
        assert f"snapshots/{0:040x}/" in path  # the model's sha is the commit

        with pytest.raises(RemoteEntryNotFoundError):
            hf_hub_download(
                "org0/Model-0", "nope.bin", cache_dir=cache, endpoint=hub.url, token=False
            )
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download(
                "ghost/repo",
                "x",
                repo_type="dataset",
                cache_dir=cache,
                endpoint=hub.url,
                token=False,
            )

        url = f"{hub.url}/datasets/cfahlgren1/hub-stats/resolve/main/models.parquet"
        partial = get_session().get(url, headers={"Range": "bytes=100-"})
        assert partial.status_code == 206 and partial.content == payload[100:]
        assert partial.headers["Content-Range"] == f"bytes 100-{len(payload) - 1}/{len(payload)}"
        assert not any(h.lower().startswith("x-xet") for h in partial.headers)


def test_rate_limit_budget_and_headers(hub):
    hub.rate_limit(3, window_seconds=60)
    session = get_session()
    answers = [session.get(f"{hub.url}/api/models/org0/Model-0") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit"].startswith('"api";r=2;t=')
    assert answers[0].headers["RateLimit-Policy"] == '"fixed window";"api";q=3;w=60'
    assert 0 < int(answers[3].headers["Retry-After"]) <= 60
    assert answers[3].headers["RateLimit"].startswith('"api";r=0;t=')

    hub.rate_limit(2, window_seconds=0.3)
    assert session.get(f"{hub.url}/api/models").status_code == 200
    assert session.get(f"{hub.url}/api/models").status_code == 200
    assert session.get(f"{hub.url}/api/models").status_code == 429
    time.sleep(0.35)
    assert session.get(f"{hub.url}/api/models").status_code == 200


def test_request_accounting(hub, api):
    list(api.list_models(author="org2"))
    api.model_info("org0/Model-0")
    get_session().get(f"{hub.url}/api/spaces")
    assert (hub.count("list"), hub.count("info"), hub.count("other"), hub.count()) == (2, 1, 1, 4)
    assert get_session().get(f"{hub.url}/nowhere").json()["error"]
    hub.reset_counts()
    assert hub.count() == 0 and hub.requests == []


def test_cli_serves_a_jsonl_file(tmp_path):
    models = tmp_path / "models.jsonl"
    models.write_text("\n".join(json.dumps(m) for m in make_models(5)) + "\n")
    command = [sys.executable, "-m", "lineage.testing.fakehub", str(models), "--port", "0"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            url = proc.stdout.readline().split(" at ")[1].strip()
            ids = [m.id for m in HfApi(endpoint=url, token=False).list_models()]
            assert ids == [m["id"] for m in make_models(5)]
        finally:
            proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=5) == 0


# ---- the live Hub's ordering, and a Hub that changes while it is read ----------------------


def scored_models(n: int) -> list[dict]:
    return [
        {
            "id": f"org{i % 7}/m-{i}",
            "createdAt": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00.000Z",
            "trendingScore": (i * 37) % 101,
            "downloads": i,
            "tags": [],
        }
        for i in range(n)
    ]


def test_default_order_is_trending_score_and_every_sort_descends_whatever_direction():
    models = scored_models(40)
    with FakeHub(models, page_size=7) as hub:
        api = HfApi(endpoint=hub.url, token=False)
        scores = [m.trending_score for m in api.list_models(expand=["trendingScore"])]
        assert scores == sorted(scores, reverse=True) and len(scores) == 40
        session = get_session()
        for direction in ("1", "-1"):
            page = session.get(
                f"{hub.url}/api/models",
                params={"sort": "createdAt", "direction": direction, "limit": 40},
            ).json()
            created = [m["createdAt"] for m in page]
            assert created == sorted(created, reverse=True)
        # The default order's cursor is built from the score itself.
        first = session.get(f"{hub.url}/api/models")
        cursor = first.links["next"]["url"].split("cursor=")[1]
        last = first.json()[-1]
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        assert decoded[0] == "trendingScore" and decoded[2] == -last["trendingScore"]


def page_ids(hub: FakeHub, **params) -> list[str]:
    """Every id a client paging through a listing gets, in order (repeats included)."""
    session, ids = get_session(), []
    response = session.get(f"{hub.url}/api/models", params=params)
    while True:
        ids += [m["id"] for m in response.json()]
        if "next" not in response.links:
            return ids
        response = session.get(response.links["next"]["url"])


def test_moving_scores_make_the_default_order_skip_and_repeat_but_not_created_at():
    models = scored_models(2000)
    with FakeHub(models, page_size=50, churn=Churn(rescore=0.05, add=3, delete=2)) as hub:
        moving = page_ids(hub)
        assert len(moving) != len(set(moving))  # repeated
        existed = {m["id"] for m in models} - set(hub.deleted_ids)
        assert existed - set(moving)  # skipped, though they existed all along

    with FakeHub(models, page_size=50, churn=Churn(rescore=0.05, add=3, delete=2)) as hub:
        stable = page_ids(hub, sort="createdAt")
        assert len(stable) == len(set(stable))
        existed = {m["id"] for m in models} - set(hub.deleted_ids)
        assert existed <= set(stable)
        # Models created while paging sort before the cursor: never served mid-listing.
        assert not set(stable) & set(hub.created_ids)
        assert len(hub.created_ids) == 3 * hub.count("list") and hub.deleted_ids
        assert hub.served == Counter(stable)


def test_churn_moves_scores_and_downloads_between_pages():
    with FakeHub(scored_models(100), page_size=10, churn=Churn(rescore=0.5, seed=3)) as hub:
        before = {m["id"]: (m["trendingScore"], m["downloads"]) for m in scored_models(100)}
        get_session().get(f"{hub.url}/api/models", params={"sort": "createdAt"})
        after = {i: (hub.model(i)["trendingScore"], hub.model(i)["downloads"]) for i in before}
        assert sum(before[i] != after[i] for i in before) == 50
        new = hub.create_models(2, parent_fraction=1.0)
        assert all(m["createdAt"] > max(x["createdAt"] for x in scored_models(100)) for m in new)
        assert all(t.startswith("base_model:") for m in new for t in m["tags"])


def test_broken_paging_cycles_or_stalls():
    with FakeHub(scored_models(30), page_size=5) as hub:
        session = get_session()
        hub.break_paging("cycle", after=2)
        urls, response = [], session.get(f"{hub.url}/api/models", params={"sort": "createdAt"})
        for _ in range(4):
            urls.append(response.links["next"]["url"])
            response = session.get(urls[-1])
        assert urls[2] == urls[0]  # back to the cursor after the first page
        hub.break_paging("stall", after=0)
        a = session.get(urls[1])
        b = session.get(a.links["next"]["url"])
        assert a.json() == b.json() and a.links["next"]["url"] != b.links["next"]["url"]


def test_cli_serves_a_changing_hub(tmp_path):
    models = tmp_path / "models.jsonl"
    models.write_text("\n".join(json.dumps(m) for m in scored_models(30)) + "\n")
    command = [
        *(sys.executable, "-m", "lineage.testing.fakehub", str(models), "--page-size", "10"),
        *("--rescore", "0.1", "--add", "2", "--delete", "1", "--seed", "5"),
    ]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            url = proc.stdout.readline().split(" at ")[1].strip()
            assert "changing after every listing page" in proc.stdout.readline()
            api = HfApi(endpoint=url, token=False)
            ids = [m.id for m in api.list_models(sort="createdAt")]
            # Three pages; after each, 2 models created (before the cursor) and 1 deleted.
            assert len(set(ids)) == len(ids) >= 27
            assert set(ids) <= {m["id"] for m in scored_models(30)}
            again = [m.id for m in api.list_models(sort="createdAt", limit=6)]
            assert all(i.startswith("new") for i in again)  # the newest come first
        finally:
            proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0


def test_repositories_with_a_history_answer_tree_commits_and_files_by_revision(tmp_path):
    """What the backfill from a dataset repository relies on, through the real client."""
    import datetime as dt

    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RemoteEntryNotFoundError,
        RevisionNotFoundError,
    )

    day = dt.datetime(2024, 7, 24, 12, tzinfo=dt.UTC)
    with FakeHub([]) as hub:
        hub.tree_page_size = 2
        first = hub.commit_files("me/a", {"x/1.parquet": b"one", "x/2.txt": b"two"}, date=day)
        later = day + dt.timedelta(days=1)
        second = hub.commit_files("me/a", {"x/1.parquet": b"uno", "x/2.txt": None}, date=later)
        api = HfApi(endpoint=hub.url)
        top = list(api.list_repo_tree("me/a", repo_type="dataset"))
        assert [(type(e).__name__, e.path) for e in top] == [("RepoFolder", "x")]
        old = {
            e.path: e for e in api.list_repo_tree("me/a", "x", repo_type="dataset", revision=first)
        }
        assert set(old) == {"x/1.parquet", "x/2.txt"}
        assert old["x/1.parquet"].lfs is not None and old["x/2.txt"].lfs is None
        now = list(api.list_repo_tree("me/a", "x", repo_type="dataset", expand=True))
        assert [(e.path, e.last_commit.oid) for e in now] == [("x/1.parquet", second)]
        assert [c.commit_id for c in api.list_repo_commits("me/a", repo_type="dataset")] == [
            second,
            first,
        ]
        files = [
            hf_hub_download(
                "me/a",
                "x/1.parquet",
                repo_type="dataset",
                revision=rev,
                endpoint=hub.url,
                cache_dir=tmp_path,
            )
            for rev in (first, second)
        ]
        assert [Path(f).read_bytes() for f in files] == [b"one", b"uno"]
        with pytest.raises(RevisionNotFoundError):
            api.list_repo_tree("me/a", repo_type="dataset", revision="f" * 40).__next__()
        with pytest.raises((EntryNotFoundError, RemoteEntryNotFoundError)):
            list(api.list_repo_tree("me/a", "nope", repo_type="dataset"))
        # A model of the population named like a route is still a model.
        hub.add_model({"id": "tree/commits", "createdAt": "2024-01-01T00:00:00.000Z"})
        assert api.model_info("tree/commits").id == "tree/commits"
