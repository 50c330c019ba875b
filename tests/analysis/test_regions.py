"""--regions FILE as users write it: with or without a header, comments, mistakes named by line."""

from __future__ import annotations

import json

import pytest

from lineage.errors import InputError
from lineage.regions import load_regions, parse_regions, region_of


def write(tmp_path, text: str, name: str = "regions.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_headerless_org_region_file_works_as_the_readme_describes(tmp_path, run_cli, toy_store):
    path = write(tmp_path, "ghost,other\nQwen, US\n")
    table = load_regions(path)
    assert region_of(table, ["ghost", "qwen", "mistralai"]) == ["other", "us", "eu"]
    unmapped = run_cli(
        "regions", "--unmapped", "--store", toy_store, "--regions", str(path), "--format", "json"
    )
    assert unmapped.exit_code == 0, unmapped.stderr
    assert json.loads(unmapped.stdout) == []  # ghost now has a region


@pytest.mark.parametrize(
    "text",
    [
        "org,region\nghost,other\n",
        "hf_org,region,notes\nghost,other,a lab we know\n",
        "region,org\nother,ghost\n",
        "# my additions\n\nghost , Other\n# done\n",
        '"ghost","other"\n',
        "\ufeffghost,other\n",  # a byte-order mark from a spreadsheet
    ],
)
def test_the_forms_a_regions_file_takes(tmp_path, text):
    path = tmp_path / "r.csv"
    path.write_bytes(text.encode("utf-8"))
    assert region_of(load_regions(path), ["ghost"]) == ["other"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ghost,other\nkim;us\n", "line 2: 1 field, expected 2 (org,region)"),
        ("ghost,other,notes\n", "line 1: 3 fields, expected 2 (org,region); start the file"),
        ("org,region\nghost,mars\n", "line 2: region 'mars' for 'ghost' is not one of us, china"),
        ("ghost,\n", "line 1: an empty region for 'ghost' is not one of us"),
        (",china\n", "line 1: no organization before the comma"),
        ("Qwen/Qwen2.5-7B,china\n", "line 1: 'Qwen/Qwen2.5-7B' is not an organization"),
        ("org,area\nghost,other\n", "line 1: the header lacks a region column"),
        ("org,region\nghost,other,extra\n", "line 2: 3 fields, the header names 2"),
        ("# nothing here\n", "has no org,region rows"),
    ],
)
def test_a_malformed_file_names_the_line_and_the_reason(
    tmp_path, run_cli, toy_store, text, message
):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_regions(path)
    assert str(caught.value).startswith(f"regions file {path}")
    assert message in str(caught.value)
    result = run_cli("share", "--store", toy_store, "--regions", str(path))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"error: {caught.value}\n"


def test_unreadable_files(tmp_path):
    binary = tmp_path / "r.csv"
    binary.write_bytes(b"ghost,\xff\xfe\n")
    with pytest.raises(InputError, match=r"is not UTF-8 text \(byte 7\)"):
        load_regions(binary)
    with pytest.raises(InputError, match="does not exist"):
        load_regions(tmp_path / "none.csv")


def test_the_packaged_table_parses_with_the_same_rules():
    table = parse_regions("hf_org,region,notes\nQwen,china,\n", "t")
    assert table.columns == ["org", "region", "key", "source"]
    assert load_regions().height > 100
