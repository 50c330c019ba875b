"""Errors carry what they concern; the library names parameters, the CLI its flags."""

from __future__ import annotations

import polars as pl
import pytest

from lineage.attribution import attribute
from lineage.checks import check_confidence
from lineage.crawl import CrawlRequest
from lineage.errors import InputError, LineageError, StoreError
from lineage.graph import build_graph
from lineage.render import render, render_sections
from lineage.store import Store


def test_bad_choices_are_input_errors_naming_the_parameter_and_the_value(store):
    frame = pl.DataFrame({"a": [1]})
    for call in (lambda: render(frame, "xml"), lambda: render_sections({"s": frame}, "xml")):
        with pytest.raises(InputError) as caught:
            call()
        assert str(caught.value) == "fmt must be one of table, csv, json, not 'xml'"
        assert caught.value.value == "xml" and caught.value.params == ("fmt",)
    graph = build_graph(store)
    with pytest.raises(InputError, match=r"^multi_parent must be one of split, first, all"):
        attribute(graph, multi_parent="most")
    with pytest.raises(InputError) as caught:
        CrawlRequest(all=True, strategy="bfs")
    assert str(caught.value) == "strategy must be one of auto, walk, sweep, not 'bfs'"
    assert caught.value.params == ("strategy",) and caught.value.value == "bfs"
    with pytest.raises(InputError, match=r"^lookup_budget must be 0 or more"):
        CrawlRequest(all=True, lookup_budget=-1)


def test_a_crawl_request_checks_every_combination_for_library_callers_too(run_cli, tmp_path):
    # Each check once, in CrawlRequest: a library caller gets what the CLI's flags get.
    cases = [
        ({}, ("roots", "all"), "nothing to crawl: give roots (organizations or model ids) or all"),
        ({"all": True, "roots": ("Qwen",)}, ("all", "roots"), "all sweeps the whole Hub"),
        ({"all": True, "strategy": "walk"}, ("all", "strategy", "roots"), "all is a sweep"),
        ({"all": True, "new": True, "strategy": "sweep"}, ("new", "strategy"), "an update"),
        ({"resolve_parents": True, "all": True}, ("resolve_parents",), "resolve_parents looks"),
    ]
    for request, params, start in cases:
        with pytest.raises(InputError) as caught:
            CrawlRequest(**request)
        assert caught.value.params == params
        assert str(caught.value).startswith(start), str(caught.value)
    # The command line phrases the same errors with its flags, as usage errors, before
    # anything is created.
    store = tmp_path / "never"
    for args, line in [
        ((), "Error: nothing to crawl: give --root (organizations or model ids) or --all"),
        (
            ("--all", "--root", "Qwen"),
            "Error: --all sweeps the whole Hub; do not combine it with --root",
        ),
        (("--all", "--strategy", "walk"), "Error: --all is a sweep; --strategy walk needs --root"),
    ]:
        result = run_cli("crawl", *args, "--store", str(store))
        assert result.exit_code == 2 and result.stdout == "", result.stderr
        assert result.stderr.rstrip().endswith(line), result.stderr
    assert not store.exists()


def test_library_messages_name_parameters_and_the_cli_names_its_flags(run_cli, tmp_path):
    with pytest.raises(InputError) as caught:
        check_confidence(2.0)
    assert str(caught.value) == "min_confidence must be between 0 and 1, not 2.0"
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(StoreError) as caught:
        Store(afile)
    assert str(caught.value).endswith("is a file, not a directory; pass store DIR")
    # The same error from the command line: the store is its --store option.
    result = run_cli("share", "--store", str(afile))
    assert result.exit_code == 1
    assert result.stderr.endswith("is a file, not a directory; pass --store DIR\n")


def test_a_parameter_the_message_does_not_declare_is_left_as_written():
    error = LineageError("a {literal} brace", params=("other",))
    assert str(error) == "a {literal} brace"
    assert error.phrase({"other": "--other", "literal": "--x"}) == "a {literal} brace"
