"""`gmtrace run`: how it finds the program and the library, and every way its
command line can be wrong (one clear line, exit 2 or 127, nothing started)."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import GMTRACE, LIB, clean_env, kill_if_alive, run_captures_json


def run(tmp_path, *args, env=None):
    return subprocess.run([str(GMTRACE), "run", *map(str, args)], cwd=tmp_path,
                          env=clean_env(env), capture_output=True, text=True, timeout=60)


def captures(tmp_path):
    return sorted(p.name for p in tmp_path.glob("*.gmt"))


def test_a_program_on_path_is_found_and_recorded(tmp_path):
    r = run(tmp_path, "--output", tmp_path / "%e.%p.gmt", "--", "true")
    assert r.returncode == 0, r.stderr
    names = captures(tmp_path)
    assert len(names) == 1 and names[0].startswith("true."), names
    r = run(tmp_path, "--output", tmp_path / "%e.%p.gmt", "--", "nosuchprogram-gm")
    assert r.returncode == 127
    assert r.stderr == "gmtrace run: nosuchprogram-gm: no such program\n"


def test_the_library_comes_from_lib_or_gmtrace_lib(tmp_path):
    r = run(tmp_path, "--lib", LIB, "--output", tmp_path / "a.gmt", "--", "/bin/true")
    assert r.returncode == 0, r.stderr
    r = run(tmp_path, "--output", tmp_path / "b.gmt", "--", "/bin/true",
            env={"GMTRACE_LIB": str(LIB)})
    assert r.returncode == 0, r.stderr
    assert captures(tmp_path) == ["a.gmt", "b.gmt"]
    # the path given is the one named
    r = run(tmp_path, "--lib", tmp_path / "missing.so", "--", "/bin/true")
    assert (r.returncode, r.stderr) == (
        2, f"gmtrace run: --lib {tmp_path}/missing.so: No such file or directory\n")
    r = run(tmp_path, "--", "/bin/true", env={"GMTRACE_LIB": str(tmp_path / "nope.so")})
    assert (r.returncode, r.stderr) == (
        2, f"gmtrace run: GMTRACE_LIB {tmp_path}/nope.so: No such file or directory\n")


def test_bad_command_lines_start_nothing(tmp_path):
    cases = [
        ((), "gmtrace run: no program given\n"),
        (("--",), "gmtrace run: no program given\n"),
        (("--", ""), "gmtrace run: no program given\n"),
        (("--frobnicate", "1", "--", "/bin/true"), "gmtrace run: unknown option '--frobnicate'"),
        (("--level", "everything", "--", "/bin/true"),
         "gmtrace run: --level: invalid value 'everything' (expected events|frames)\n"),
        (("--ring-size", "1T", "--", "/bin/true"),
         "gmtrace run: --ring_size: invalid value '1T' (expected a size in bytes, or with K, "
         "M, G or T up to 64G)\n"),
        (("--drain-nice", "20", "--", "/bin/true"),
         "gmtrace run: --drain_nice: invalid value '20' (expected a whole number up to 19)\n"),
        (("--ring-size",), "gmtrace run: --ring-size needs a value\n"),
        # "--" ends the options: it is no value (it read as one: "invalid value '--'")
        (("--python-stacks", "--", "/bin/true"), "gmtrace run: --python-stacks needs a value\n"),
        (("--json-file", "--", "/bin/true"), "gmtrace run: --json-file needs a file name\n"),
        (("-x", "--", "/bin/true"), "gmtrace run: unknown option '-x'\n"),
    ]
    for args, want in cases:
        r = run(tmp_path, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith(want), (args, r.stderr)
    assert captures(tmp_path) == []


def test_help_lists_every_option(tmp_path):
    r = run(tmp_path, "--help")
    assert r.returncode == 0
    for opt in ("--output", "--platform", "--budget-mode", "--pressure-ms", "--level"):
        assert opt.replace("-", "_")[2:] in r.stdout.replace("-", "_"), opt
    # one default each: run's own --output and --drain are not listed again
    # with the library's (internal drain), which run does not use
    for opt in ("--output", "--drain "):
        assert sum(line.lstrip().startswith(opt) for line in r.stdout.splitlines()) == 1, opt
    assert "(default internal)" not in r.stdout


def test_a_python_script_is_known_by_its_first_line(tmp_path):
    script = tmp_path / "game.py"
    script.write_text("#!/usr/bin/python3\nimport os\nprint(os.environ.get('PYTHONMALLOC'))\n")
    script.chmod(0o755)
    r = run(tmp_path, "--output", tmp_path / "%e.%p.gmt", "--", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "malloc"
    names = captures(tmp_path)  # named after the script, not the interpreter
    assert len(names) == 1 and names[0].startswith("game.") and "python" not in names[0], names


def summary_json(path):
    r = subprocess.run([str(GMTRACE), "summary", "--json", "--top", "0", str(path)],
                       capture_output=True, text=True, timeout=60, env=clean_env())
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_options_without_double_dash_and_the_json_list(tmp_path):
    """Options in --name=value form, then the program right after them (no
    `--`); --json lists the one capture with its size and record units."""
    r = run(tmp_path, "--json", "--no-compact", "--no-follow",
            f"--output={tmp_path}/%e.%p.gmt", "/bin/sh", "-c", "exit 3")
    assert r.returncode == 3, "the program's own exit status"
    caps = [j for j in map(json.loads, r.stdout.splitlines())]
    assert len(caps) == 1 and len(caps[0]["captures"]) == 1, r.stdout
    cap = caps[0]["captures"][0]
    exe = os.path.basename(os.path.realpath("/bin/sh"))  # named after the real file
    assert cap["capture"] == str(tmp_path / f"{exe}.{cap['pid']}.gmt"), cap
    s = summary_json(cap["capture"])
    assert s["error"] is None and s["process"]["pid"] == cap["pid"]
    assert cap["bytes"] == os.path.getsize(cap["capture"]), cap
    # records are counted in 16-byte units: an event takes one or more
    assert cap["records"] >= s["events"] > 0, (s["events"], cap)


def test_a_program_killed_by_a_signal_gives_128_plus_it(tmp_path):
    r = run(tmp_path, "--output", tmp_path / "%e.%p.gmt", "--", "/bin/sh", "-c", "kill -TERM $$")
    assert r.returncode == 128 + 15, r.stderr
    assert len(captures(tmp_path)) == 1


def test_external_drain_with_a_nice_drainer(tmp_path):
    """--drain external: `gmtrace run` drains the log itself (at nice 5 here);
    the capture is as whole as with the game's own drainer."""
    r = run(tmp_path, "--drain", "external", "--drain-nice", "5", "--output",
            tmp_path / "%e.%p.gmt", "--", "/bin/ls", "/")
    assert r.returncode == 0, r.stderr
    names = captures(tmp_path)
    assert len(names) == 1 and names[0].startswith("ls."), names
    s = summary_json(tmp_path / names[0])
    assert s["error"] is None and s["records_lost"] == 0
    assert s["allocations"] > 0


def test_an_existing_ld_preload_is_kept_after_the_library(tmp_path):
    """A preload the user already had stays, after libgmtrace."""
    script = tmp_path / "show.sh"
    script.write_text("#!/bin/sh\necho \"$LD_PRELOAD\"\n")
    script.chmod(0o755)
    r = run(tmp_path, "--lib", LIB, "--output", tmp_path / "%e.%p.gmt", "--", script,
            env={"LD_PRELOAD": "/nonexistent/libother.so"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == f"{LIB}:/nonexistent/libother.so", r.stdout


def test_pymalloc_keeps_pythons_own_allocator(tmp_path):
    script = tmp_path / "game.py"
    script.write_text("#!/usr/bin/python3\nimport os\nprint(os.environ.get('PYTHONMALLOC'))\n")
    script.chmod(0o755)
    r = run(tmp_path, "--pymalloc", "--output", tmp_path / "%e.%p.gmt", "--", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "None"
    r = run(tmp_path, "--output", tmp_path / "%e.%p.gmt", "--", script,
            env={"PYTHONMALLOC": "debug"})
    assert r.stdout.splitlines()[-1] == "debug", "a PYTHONMALLOC of the user's own is kept"


def test_run_help_short_form(tmp_path):
    r = run(tmp_path, "-h")
    assert r.returncode == 0 and r.stdout.startswith("usage: gmtrace run"), r.stdout


def test_a_program_that_cannot_record_says_why(tmp_path):
    """The game's own reason for recording nothing (a folder that does not
    exist for its capture, named after the program) is what `gmtrace run`
    says, not a guess."""
    out = tmp_path / "%e" / "x.gmt"
    r = run(tmp_path, "--output", out, "--", "/bin/true")
    assert r.returncode == 0, r.stderr
    assert (f"recorded nothing: cannot create the capture file {tmp_path}/true/x.gmt: No such "
            "file or directory; not recording") in r.stderr, r.stderr
    assert "set-user/group-ID" not in r.stderr
    assert captures(tmp_path) == []


def test_an_output_that_cannot_be_written_stops_the_run_first(tmp_path):
    """As for --json-file: a capture folder that is not there or is no
    folder, a name that is no regular file, an empty name: one line, exit
    2, and the game does not run (it would run unrecorded)."""
    (tmp_path / "file").write_text("")
    cases = [(tmp_path / "no" / "such" / "x.gmt",
              f"cannot write captures in {tmp_path}/no/such: No such file or directory"),
             (tmp_path / "file" / "x.gmt", f"cannot write captures in {tmp_path}/file: not a folder"),
             ("/dev/null", "cannot write a capture to /dev/null: not a regular file"),
             (tmp_path, f"cannot write a capture to {tmp_path}: not a regular file"),
             ("", "--output needs a file name")]
    for out, said in cases:
        r = run(tmp_path, "--output", out, "--", "/bin/sh", "-c", "echo ran")
        assert (r.returncode, r.stdout, r.stderr) == (2, "", f"gmtrace run: {said}\n"), out
    # the same name from the environment
    r = run(tmp_path, "--", "/bin/sh", "-c", "echo ran",
            env={"GMTRACE_OUTPUT": str(tmp_path / "no" / "x.gmt")})
    assert (r.returncode, r.stdout) == (2, ""), r.stderr


def test_json_list_escapes_capture_names(tmp_path):
    """A capture name with a quote (from --output, or a program's name) is
    escaped in `gmtrace run --json`, which CI scripts parse."""
    out = tmp_path / 'say "hi".%p.gmt'
    r = run(tmp_path, "--json", "--output", out, "--", "/bin/true")
    assert r.returncode == 0, r.stderr
    (line,) = [l for l in r.stdout.splitlines() if l.startswith("{")]
    caps = json.loads(line)["captures"]
    assert len(caps) == 1 and caps[0]["capture"].startswith(str(tmp_path / 'say "hi".'))


def test_a_capture_name_with_a_newline_is_drained_and_listed(tmp_path):
    """A newline in the capture's name (from --output, or a program's name
    through %e): the run attaches to the game's log and lists the capture
    (it cut the name at the newline: no attach, the log left in /dev/shm,
    a name in the list that did not exist, 0 records)."""
    out = tmp_path / "cap\nture.%p.gmt"
    r = run(tmp_path, "--json", "--output", out, "--", "/bin/echo", "hi")
    assert r.returncode == 0 and "cannot attach" not in r.stderr, r.stderr
    (line,) = [l for l in r.stdout.splitlines() if l.startswith("{")]
    (cap,) = json.loads(line)["captures"]
    assert cap["capture"].startswith(str(tmp_path / "cap\nture.")), cap
    assert os.path.isfile(cap["capture"]) and cap["records"] > 0, cap
    assert cap["bytes"] == os.path.getsize(cap["capture"]), cap


def test_relative_output_is_from_where_run_started(tmp_path):
    """A launcher that changes folder before it execs the game: the default
    capture name, and a relative --output, land where `gmtrace run` was
    started, not in the game's folder."""
    sub = tmp_path / "game"
    sub.mkdir()
    script = f"cd {sub} && exec /bin/true"
    # the shell's capture (made before the cd) and the exec'd program's
    r = run(tmp_path, "--", "/bin/sh", "-c", script)
    assert r.returncode == 0, r.stderr
    names = captures(tmp_path)
    assert len(names) == 2 and sum(n.startswith("true.") for n in names) == 1, names
    assert list(sub.iterdir()) == []
    (tmp_path / "rel").mkdir()
    r = run(tmp_path, "--output", "rel/%p.gmt", "--", "/bin/sh", "-c", script)
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "rel").glob("*.gmt*"))) == 2
    assert list(sub.iterdir()) == []
    # a % in the folder's name is the folder's, not a pattern; %% is one %
    odd = tmp_path / "100%perf"
    odd.mkdir()
    r = run(odd, "--output", "x%%%p.gmt", "--", "/bin/true")
    assert r.returncode == 0, r.stderr
    got = [p.name for p in odd.iterdir()]
    assert len(got) == 1 and got[0].startswith("x%") and got[0][2:-4].isdigit(), got


def test_a_broken_budget_file_starts_nothing(tmp_path):
    """As a broken platform profile does: one line naming the file, the line
    and what was expected, exit 2, no game run and no capture (it used to run
    the game unbudgeted, and budgets --check then passed)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - name: x\n    hard: lots\n")
    marker = tmp_path / "ran"
    r = run(tmp_path, "--budgets", bad, "--", "/bin/sh", "-c", f"touch {marker}")
    assert r.returncode == 2, r.stderr
    assert r.stderr == (f"gmtrace run: --budgets: {bad}:3: expected a size for hard (bytes, "
                        "or with K/M/G/T or KiB/MiB/GiB/TiB), got 'lots'\n")
    assert not marker.exists() and captures(tmp_path) == []
    # a good one, relative, is found by the game from another folder
    (tmp_path / "good.yaml").write_text("nodes:\n  - name: x\n    hard: 1M\n")
    sub = tmp_path / "game"
    sub.mkdir()
    r = run(tmp_path, "--budgets", "good.yaml", "--", "/bin/sh", "-c", f"cd {sub} && exec /bin/true")
    assert r.returncode == 0 and "running without budgets" not in r.stderr, r.stderr


def test_json_file_keeps_the_list_apart_from_the_games_output(tmp_path):
    """`--json-file FILE`: the capture list goes to FILE, and stdout holds
    only what the game printed (here text without a newline, which `--json`
    on stdout would run into the list); a FILE that cannot be written stops
    the run before the game starts, and the game does not inherit it."""
    listing = tmp_path / "captures.json"
    r = run(tmp_path, "--json-file", listing, "--output", tmp_path / "%e.%p.gmt", "--",
            "/bin/sh", "-c", "ls -l /proc/$$/fd | grep -c captures.json; printf abc")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0\nabc", r.stdout
    caps = json.loads(listing.read_text())["captures"]
    assert sorted(c["capture"] for c in caps) == [str(p) for p in sorted(tmp_path.glob("*.gmt"))]
    r = run(tmp_path, "--json-file", tmp_path / "no" / "such.json", "--", "/bin/sh", "-c",
            "echo ran")
    assert r.returncode == 2 and r.stdout == "", (r.stdout, r.stderr)
    assert r.stderr == (f"gmtrace run: cannot write {tmp_path / 'no' / 'such.json'}: "
                        "No such file or directory\n")
    r = run(tmp_path, "--json-file")
    assert (r.returncode, r.stderr) == (2, "gmtrace run: --json-file needs a file name\n")
    # a program that is not there: the list is there, and empty
    r = run(tmp_path, "--json-file", listing, "--", "no-such-game-here")
    assert r.returncode == 127, r.stderr
    assert json.loads(listing.read_text()) == {"captures": []}
    r = run(tmp_path, "--json", "--", "no-such-game-here")
    assert (r.returncode, json.loads(r.stdout)) == (127, {"captures": []})
    # a list that cannot be written once the game ended (a full disk): one
    # line, and a game that exited 0 does not make the run succeed
    for code in (0, 3):
        r = run(tmp_path, "--json-file", "/dev/full", "--output", tmp_path / "full.%p.gmt",
                "--quiet", "1", "--", "/bin/sh", "-c", f"exit {code}")
        assert (r.returncode, r.stderr) == (
            code or 1, "gmtrace run: cannot write the capture list to /dev/full: "
            "No space left on device\n"), r.stderr


def test_compress_off_reaches_the_drain_outside_the_game(tmp_path):
    """`--compress 0` under `gmtrace run`: the run drains and compacts the
    capture itself, and wrote zstd blocks all the same (it compressed
    whatever the game said). Now no block is zstd; by default some are."""
    from conftest import fx
    from test_cli import blocks
    zstd_kinds = {2, 5, 7}  # gm_block_zstd, packed_zstd, packed2_zstd
    kinds = {}
    for name, extra in (("off", ["--compress", "0"]), ("on", [])):
        d = tmp_path / name
        d.mkdir()
        r = run(d, *extra, "--output", d / "game.gmt", "--", fx("fx_killme"), "loop",
                d / "progress.json", 200000)
        assert r.returncode == 0, r.stderr
        kinds[name] = {k for _, k, _ in blocks((d / "game.gmt").read_bytes())}
    assert kinds["off"] and not kinds["off"] & zstd_kinds, kinds
    assert kinds["on"] & zstd_kinds, kinds


def test_a_child_over_its_parents_hard_limit_is_said(tmp_path):
    """A child node with a hard limit above its parent's is legal (the
    parent counts its children, so its own limit is reached first) but
    most likely a slip: one line says so, and the game runs with it."""
    (tmp_path / "b.yaml").write_text("nodes:\n  - name: total\n    hard: 1M\n"
                                     "  - name: tex\n    parent: total\n    hard: 2M\n")
    r = run(tmp_path, "--budgets", "b.yaml", "--output", tmp_path / "g.gmt", "--", "/bin/true")
    assert r.returncode == 0, r.stderr
    assert ("gmtrace run: --budgets: b.yaml: node 'tex' has a hard limit of 2.0 MiB, above the "
            "1.0 MiB of its parent 'total', which is reached first") in r.stderr.splitlines()


def test_a_profile_node_over_its_banks_capacity_is_said(tmp_path):
    """The same for a platform profile's budget tree: a node under a bank
    with a hard limit above the bank's capacity (its hard limit)."""
    (tmp_path / "big.yaml").write_text(
        "name: big\ntitle: T\nfamily: console\n"
        "physical: {size: 1GiB, source: \"t\"}\navailable: {size: 1GiB, source: \"t\"}\n"
        "banks:\n  - name: main\n    capacity: {size: 256MiB, source: \"t\"}\n"
        "budget:\n  - name: tex\n    parent: main\n    hard: 1GiB\n")
    r = run(tmp_path, "--platform", tmp_path / "big.yaml", "--output", tmp_path / "g.gmt", "--",
            "/bin/true")
    assert r.returncode == 0, r.stderr
    assert (f"gmtrace run: --platform: {tmp_path / 'big.yaml'}: node 'tex' has a hard limit of "
            "1.0 GiB, above the 256.0 MiB of its parent 'main', which is reached first"
            ) in r.stderr.splitlines(), r.stderr


def test_limits_that_do_nothing_are_said(tmp_path):
    """A target without a soft limit does nothing, and a limit of 2^63
    bytes or more means none: both are legal (files from before are still
    read) and each gets one line."""
    (tmp_path / "b.yaml").write_text("nodes:\n  - name: a\n    hard: 1M\n    target: 512K\n"
                                     "  - name: b\n    hard: 8388608T\n")
    r = run(tmp_path, "--budgets", "b.yaml", "--output", tmp_path / "g.gmt", "--", "/bin/true")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert ("gmtrace run: --budgets: b.yaml: node 'a' has a target but no soft limit: the "
            "target does nothing (it is where an eviction at a frame end over the soft limit "
            "stops)") in lines, r.stderr
    assert ("gmtrace run: --budgets: b.yaml: node 'b' has a limit of 8 EiB (2^63 bytes) or "
            "more, which means no limit") in lines, r.stderr


def test_a_sigterm_to_the_run_reaches_the_game(tmp_path):
    """A CI job cancelled sends SIGTERM to `gmtrace run`: the game gets it
    (it was ignored, and game and run went on for good), dies of it, and
    the run drains what it left and exits as the game did (143)."""
    import signal
    import time
    from conftest import fx
    progress = tmp_path / "progress.json"
    p = subprocess.Popen([str(GMTRACE), "run", "--json", "--output", str(tmp_path / "g.gmt"),
                          "--", str(fx("fx_killme")), "loop", str(progress)],
                         env=clean_env({"CI": "true"}), cwd=str(tmp_path),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 30
        while not progress.exists() and time.time() < deadline:
            time.sleep(0.02)
        assert progress.exists(), "the game never started"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:  # (the run and the game: their own session)
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 128 + signal.SIGTERM, (p.returncode, err)
    listed = [j for j in (json.loads(s) for s in out.splitlines() if s.startswith("{"))
              if "captures" in j]
    assert len(listed) == 1 and len(listed[0]["captures"]) == 1, out
    s = subprocess.run([str(GMTRACE), "summary", "--json", listed[0]["captures"][0]["capture"]],
                       env=clean_env(), capture_output=True, text=True, timeout=60)
    assert s.returncode == 0 and json.loads(s.stdout)["allocations"] > 0, s.stderr


def test_a_program_that_cannot_be_run_is_126_and_one_line(tmp_path):
    (tmp_path / "notexec").write_text("x\n")
    for prog, rc, line in (("./notexec", 126, "gmtrace run: ./notexec: cannot run it: not "
                            "executable"),
                           (str(tmp_path), 126, f"gmtrace run: {tmp_path}: cannot run it: a "
                            "folder"),
                           ("./nosuch", 127, "gmtrace run: ./nosuch: no such program")):
        r = run(tmp_path, "--json", "--", prog)
        assert (r.returncode, r.stderr.splitlines(), r.stdout) == (rc, [line],
                                                                   '{"captures":[]}\n'), prog


def test_internal_drain_lists_short_processes_with_their_pids(tmp_path):
    """--drain internal: a process that ended before the run looked had its
    log gone already: the run said "cannot attach" and listed it as pid 0."""
    script = tmp_path / "two.sh"
    script.write_text("#!/bin/sh\n" + "/bin/true\n" * 20)  # (each may end before a look)
    script.chmod(0o755)
    r = subprocess.run([str(GMTRACE), "run", "--drain", "internal", "--json", "--",
                        str(script)], env=clean_env({"GMTRACE_QUIET": "1"}), cwd=str(tmp_path),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "cannot attach" not in r.stderr, r.stderr
    listed = json.loads(r.stdout)["captures"]
    assert len(listed) == 21, listed
    for c in listed:
        assert c["pid"] > 0 and os.path.basename(c["capture"]).split(".")[-2] == \
            str(c["pid"]), listed


PGKILL = r"""
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void on_term(int sig) { (void)sig; got++; }
int main(void)
{
	signal(SIGTERM, on_term);
	free(malloc(100));
	kill(0, SIGTERM); /* its whole process group: the run's too */
	for (int i = 0; i < 50; i++)
		usleep(10000);
	printf("got %d\n", (int)got);
	return 0;
}
"""


def test_a_signal_the_game_sends_its_group_is_not_passed_back_to_it(tmp_path):
    """The game signals its own process group, which holds the run too: the
    run passed the signal on and the game got it twice (many games take a
    second SIGTERM as "quit now")."""
    (tmp_path / "pgkill.c").write_text(PGKILL)
    exe = tmp_path / "pgkill"
    subprocess.run(["cc", "-o", str(exe), str(tmp_path / "pgkill.c")], check=True, timeout=60)
    p = subprocess.run([str(GMTRACE), "run", "--output", str(tmp_path / "g.gmt"), "--",
                        str(exe)], env=clean_env({"GMTRACE_QUIET": "1"}), cwd=str(tmp_path),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                       start_new_session=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "got 1", p.stdout


def test_a_fixed_capture_name_serves_more_than_a_hundred_processes(tmp_path):
    """A game that starts 150 short processes under one --output name: the
    names after it stopped at .99, and the other 51 processes ran
    unrecorded with "cannot create the capture file ci.gmt: File exists"."""
    script = tmp_path / "many.sh"
    script.write_text("#!/bin/sh\ni=0\nwhile [ $i -lt 150 ]; do /bin/true; i=$((i+1)); done\n")
    script.chmod(0o755)
    r = run(tmp_path, "--json", "--output", tmp_path / "ci.gmt", "--", script)
    assert r.returncode == 0, r.stderr
    assert "cannot create" not in r.stderr, r.stderr
    listed = run_captures_json(r.stdout)
    assert len(listed) == 151, len(listed)
    names = {os.path.basename(c["capture"]) for c in listed}
    assert names == {"ci.gmt"} | {f"ci.gmt.{k}" for k in range(1, 151)}


@pytest.mark.parametrize("char", ("L", "€"))
def test_a_program_with_a_very_long_name_is_recorded(tmp_path, char):
    """%e put the whole program name in the capture's: 250 characters made
    a file name longer than the file system takes, and the program ran
    unrecorded. The name is cut at 200 bytes, on a character's boundary."""
    exe = tmp_path / (char * 250 if char == "L" else char * 80)  # (€: 3 bytes)
    exe.write_bytes(open("/bin/true", "rb").read())
    exe.chmod(0o755)
    r = run(tmp_path, "--json", "--", exe)
    assert r.returncode == 0, r.stderr
    (c,) = run_captures_json(r.stdout)
    name = os.path.basename(c["capture"])
    stem = name[:name.index(".")]
    assert len(stem.encode()) <= 200 and stem == char * len(stem), name
    assert len(stem.encode()) >= 198, name


SHUTDOWN_CRASH = r"""
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static volatile int going;
static char buf[1 << 20];
static const char *ready; /* "hang": a file made instead of the crash */
/* a worker that crashes 300 ms after the game began to exit */
static void *worker(void *arg)
{
	struct timespec ms = {0, 1000000}, late = {0, 300000000};
	(void)arg;
	while (!going)
		nanosleep(&ms, NULL);
	nanosleep(&late, NULL);
	if (ready) {
		/* (not fopen: the flush holds stdio's list lock) */
		close(open(ready, O_CREAT | O_WRONLY, 0600));
		for (;;)
			nanosleep(&late, NULL);
	}
	*(volatile int *)8 = 1;
	return NULL;
}
static void on_exit_handler(void) { going = 1; }
int main(int argc, char **argv)
{
	pthread_t t;
	int fds[2];
	/* stdout into a pipe nobody reads, 128 KiB waiting in its buffer: the
	 * C library's last flush, after every exit handler (gmtrace's session
	 * ends in the last of them), waits there until the worker crashes */
	if (pipe(fds) != 0 || dup2(fds[1], 1) < 0)
		return 2;
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	for (int i = 0; i < 128; i++)
		fwrite(buf, 1, 1024, stdout);
	free(malloc(5000));
	ready = argc > 1 ? argv[1] : NULL;
	pthread_create(&t, NULL, worker, NULL);
	atexit(on_exit_handler);
	exit(0);
}
"""


def test_a_crash_during_shutdown_is_said(tmp_path):
    """The game's worker crashes after exit() ran the exit handlers, the
    session's end among them: the capture ends at that exit, status 0, and
    the run exits 139. It said nothing more, so the capture read as a
    clean exit; now the run says the program was killed after its exit
    handlers had run."""
    src, exe = tmp_path / "shutdown.c", tmp_path / "shutdown"
    src.write_text(SHUTDOWN_CRASH)
    subprocess.run(["cc", "-O1", "-pthread", "-o", str(exe), str(src)], check=True, timeout=60)
    r = run(tmp_path, "--output", tmp_path / "%e.%p.gmt", "--", exe)
    assert r.returncode == 128 + 11, r.stderr
    (cap,) = captures(tmp_path)
    assert (f"gmtrace: {tmp_path / cap}: the program (pid {cap.split('.')[1]}) was killed by "
            "signal 11 (Segmentation fault) after its exit handlers had run: a crash during "
            "shutdown; its capture ends at its exit(), and what its threads did after that "
            "is not in it\n") in r.stderr, r.stderr
    s = json.loads(subprocess.run([str(GMTRACE), "summary", "--json", str(tmp_path / cap)],
                                  capture_output=True, text=True, timeout=60).stdout)
    assert (s["ended"], s["exit_status"]) == ("exit", 0)


def test_a_stop_during_shutdown_is_said_but_not_as_a_crash(tmp_path):
    """The same game hangs in its last flush instead (a file says when its
    session has ended); a SIGTERM to the run, passed on to it, ends it:
    said, without calling it a crash."""
    src, exe = tmp_path / "shutdown.c", tmp_path / "shutdown"
    src.write_text(SHUTDOWN_CRASH)
    subprocess.run(["cc", "-O1", "-pthread", "-o", str(exe), str(src)], check=True, timeout=60)
    ready = tmp_path / "ready"
    proc = subprocess.Popen([str(GMTRACE), "run", "--output", str(tmp_path / "%e.%p.gmt"), "--",
                             str(exe), str(ready)], cwd=tmp_path, env=clean_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(3000):
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.01)
        assert ready.exists(), "the game did not reach its hang"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        kill_if_alive(proc)
    assert proc.returncode == 128 + signal.SIGTERM, err
    (cap,) = captures(tmp_path)
    assert (f"gmtrace: {tmp_path / cap}: the program (pid {cap.split('.')[1]}) was killed by "
            "signal 15 (Terminated) after its exit handlers had run; its capture ends at its "
            "exit(), and what its threads did after that is not in it\n") in err, err
