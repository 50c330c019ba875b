"""`lineage crawl` and `lineage info` as a user runs them: output, exit codes, one-line errors."""

from __future__ import annotations

import json

from support.storecheck import lineage_subprocess
from support.toyhub import toy_models

from lineage.testing.fakehub import FakeHub


def test_crawl_then_info(run_cli, toy_hub, tmp_path):
    store = str(tmp_path / "s")
    result = run_cli(
        "crawl", "--root", "Qwen", "--strategy", "walk", "--store", store, "--endpoint", toy_hub.url
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # the summary is a log of the work: stderr
    assert f"crawled Qwen (walk) into {store}" in result.stderr
    assert "family: 21 models (21 new, 0 updated)" in result.stderr
    assert "parents outside it: 2 not crawled (2 new), 1 missing, 2 renamed" in result.stderr
    assert "edges: merge 11, finetune 9, quantized 3, adapter 2 (4 relations inferred)" in (
        result.stderr
    )
    assert "requests: 29 (25 listing, 4 lookups; 0 retries" in result.stderr

    info = run_cli("info", "--store", store, "--format", "json")
    assert info.exit_code == 0
    data = json.loads(info.stdout)
    assert data["models"] == 23 and data["crawled"] == 21 and data["not_crawled"] == 2
    # the family's 25 edges plus the not-crawled Llama instruct's own parent
    assert data["edges_by_relation"] == {"merge": 11, "finetune": 10, "quantized": 3, "adapter": 2}
    assert data["roots"] == ["Qwen"]
    assert data["parents_missing"] == 1  # ghost/deleted-model
    assert data["parents_unresolved"] == 1  # meta-llama/Llama-3.1-8B: a not-crawled's parent
    assert data["crawls"][0]["requests"] == 29

    table = run_cli("info", "--store", store)
    assert "models: 23 (21 crawled, 2 known only as parents)" in table.stdout
    assert "roots crawled: Qwen" in table.stdout


def test_store_from_environment_and_group_option(run_cli, toy_hub, tmp_path):
    store = str(tmp_path / "env-store")
    result = run_cli(
        "crawl", "--root", "mistralai", "--endpoint", toy_hub.url, env={"LINEAGE_STORE": store}
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(run_cli("--store", store, "info", "--format", "json").stdout)["models"] == 3


def test_unknown_root_message_and_exit_code(run_cli, toy_hub, tmp_path):
    result = run_cli(
        "crawl", "--root", "nobody-here", "--store", str(tmp_path / "s"), "--endpoint", toy_hub.url
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no model or organization named 'nobody-here' on {toy_hub.url}\n"
    )


def test_usage_errors_exit_2(run_cli, tmp_path):
    assert run_cli("crawl", "--store", str(tmp_path)).exit_code == 2
    assert run_cli("crawl", "--all", "--root", "Qwen").exit_code == 2
    assert run_cli("crawl", "--root", "Qwen", "--strategy", "fast").exit_code == 2


def test_bad_store_paths_are_one_line_errors(run_cli, tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    result = run_cli("crawl", "--root", "Qwen", "--store", str(afile))
    assert result.exit_code == 1
    assert (
        result.stderr == f"error: store path {afile} is a file, not a directory; pass --store DIR\n"
    )
    # A path below a file cannot be created (true even for root, unlike permissions).
    below = afile / "sub"
    result = run_cli("crawl", "--root", "Qwen", "--store", str(below))
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot create store directory {below}: Not a directory\n"
    missing = run_cli("info", "--store", str(tmp_path / "nothing"))
    assert missing.exit_code == 1
    assert "no store at" in missing.stderr


def test_unreachable_hub_is_one_line_and_debug_shows_the_traceback(tmp_path):
    args = [
        "crawl",
        "--root",
        "Qwen",
        "--store",
        str(tmp_path / "s"),
        "--endpoint",
        "http://127.0.0.1:9",
        "--give-up-after",
        "0.5",
        "--quiet",
    ]
    proc = lineage_subprocess(*args)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.count("\n") == 1 and err.startswith("error: the Hub at http://127.0.0.1:9 kept")
    proc = lineage_subprocess("--debug", *args)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" in err


def test_invalid_token_is_one_line_and_never_printed(tmp_path):
    with FakeHub(toy_models(), tokens={"hf_right"}) as hub:
        proc = lineage_subprocess(
            "--debug",
            "crawl",
            "--root",
            "Qwen",
            "--store",
            str(tmp_path / "s"),
            "--endpoint",
            hub.url,
            env={"HF_TOKEN": "hf_wrong_secret_value"},
        )
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert "refused the token" in err
        assert "hf_wrong_secret_value" not in out + err
        proc = lineage_subprocess(
            "crawl",
            "--root",
            "Qwen",
            "--store",
            str(tmp_path / "s"),
            "--endpoint",
            hub.url,
            env={"HF_TOKEN": "hf_right"},
        )
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "hf_right" not in out + err
        # The token reached the Hub in the Authorization header, and nowhere else.
        assert all("hf_right" not in json.dumps(r.query) for r in hub.requests)


def test_help_teaches(run_cli):
    text = run_cli("crawl", "--help").stdout
    for words in (
        "--root",
        "--all",
        "--strategy",
        "auto",
        "resumes",
        "LINEAGE_STORE",
        "HF_ENDPOINT",
        "--quiet",
    ):
        assert words in text
