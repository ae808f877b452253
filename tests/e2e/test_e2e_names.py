"""test_e2e_names.py - a name with a line break or a tab keeps a report's rows

names_game.py names a pool, a budget node, scenes, a tag, an asset and its
type with line feeds, a carriage return and tabs inside. Every report for
people shows each such character as '?' (analysis/report/text.h,
gm_text_line; quoted names show C escapes), so no name breaks a table's
row or shifts its columns; JSON keeps the names as the game gave them.
"""
import pytest

from e2e_support import gmtrace, gmtrace_json, run_script, script

REPORTS = ["summary", "frames", "assets", "budgets", "pools", "transitions", "stacks",
           "platforms"]
# what a row would start with if a name broke it
BROKEN = ("with newline", "ture", "ol ", 'ol"', "get ", "ne ", "name", "tab")


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    run = run_script(script("names_game.py"), [], tmp_path_factory.mktemp("names"))
    assert run.line == {"frames": 3}
    return run.capture


@pytest.mark.parametrize("report", REPORTS)
def test_text_reports_keep_their_rows(capture, report):
    r = gmtrace(report, capture)
    assert r.returncode == 0, r.stderr
    assert "\t" not in r.stdout and "\r" not in r.stdout
    for line in r.stdout.splitlines():
        assert not line.startswith(BROKEN), (report, line)


def test_names_show_as_question_marks_in_tables(capture):
    assets = gmtrace("assets", capture).stdout
    assert "asset?with newline 0" in assets
    assert "tex?ture" in assets
    assert "weird?name?tab" in assets
    assert '"asset\\nwith newline 0" (id 1, tex?ture)' in assets  # a check's quoted name
    assert 'pool 1 "po?ol": 64-byte objects, capacity 2' in gmtrace("pools", capture).stdout
    assert "bud?get (id 1)" in gmtrace("budgets", capture).stdout
    assert '"sce\\nne 0" (scene 1)' in gmtrace("transitions", capture).stdout


def test_long_names_are_cut_to_their_columns(capture):
    """A name longer than its column shows as ".." and its end, so the
    row's other columns stay where the header puts them."""
    text = gmtrace("assets", capture).stdout.splitlines()
    for title in ("assets by bytes", "types", "tags"):
        i = next(k for k, line in enumerate(text) if line.startswith(title))
        header, rows = text[i + 1], []
        for line in text[i + 2:]:
            if not line.startswith("  "):
                break
            rows.append(line)
        assert rows, title
        assert max(len(r) for r in rows) <= len(header), (title, header, rows)
    joined = "\n".join(text)
    assert "..sector_sector_sector_0.map " in joined  # the name's end: 28 columns
    assert "..2d_array " in joined  # the type's end: 10 columns in the asset rows
    assert "..exture2d_array " in joined  # 16 in the types table
    assert "    ..ming_streaming_streaming_tag " in joined  # a tag's leaf, indented under "engine"


def test_json_keeps_the_names(capture):
    assets = gmtrace_json("assets", "--json", capture)
    assert "asset\nwith newline 0" in [a["name"] for a in assets["assets"]]
    pools = gmtrace_json("pools", "--json", capture)
    assert [p["name"] for p in pools["pools"]] == ["po\nol"]
