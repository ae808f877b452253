"""`gmtrace run`: how it finds the program and the library, and every way its
command line can be wrong (one clear line, exit 2 or 127, nothing started)."""
import subprocess

from conftest import GMTRACE, LIB, clean_env


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
    r = run(tmp_path, "--lib", tmp_path / "missing.so", "--", "/bin/true")
    assert r.returncode == 2
    assert "cannot find libgmtrace.so" in r.stderr


def test_bad_command_lines_start_nothing(tmp_path):
    cases = [
        ((), "gmtrace run: no program given\n"),
        (("--",), "gmtrace run: no program given\n"),
        (("--frobnicate", "1", "--", "/bin/true"), "gmtrace run: unknown option --frobnicate"),
        (("--level", "everything", "--", "/bin/true"),
         "gmtrace run: --level: invalid value 'everything'\n"),
        (("--ring-size",), "gmtrace run: --ring-size needs a value\n"),
        (("-x", "--", "/bin/true"), "gmtrace run: unknown option -x\n"),
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


def test_a_python_script_is_known_by_its_first_line(tmp_path):
    script = tmp_path / "game.py"
    script.write_text("#!/usr/bin/python3\nimport os\nprint(os.environ.get('PYTHONMALLOC'))\n")
    script.chmod(0o755)
    r = run(tmp_path, "--output", tmp_path / "%e.%p.gmt", "--", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "malloc"
    names = captures(tmp_path)  # named after the script, not the interpreter
    assert len(names) == 1 and names[0].startswith("game.") and "python" not in names[0], names
