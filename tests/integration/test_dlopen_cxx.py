"""test_dlopen_cxx.py - a C program (no libstdc++) dlopens a C++ module: the
module's operator new/delete, which arrive after the preload with libstdc++,
are recorded exactly, under the right kinds, and matched by their frees."""
from conftest import (assert_tally, assert_valid, captures, fixture_line, fx, rule_tally,
                      run_preloaded, shm_logs)


def test_plugin_new_delete_captured_exactly(tmp_path):
    r = run_preloaded([fx("fx_dlopen_cxx")], tmp_path, timeout=30)
    assert r.returncode == 0, f"fx_dlopen_cxx: rc {r.returncode}: {r.stderr!r}"
    line = fixture_line(r.stdout, fixture="dlopen_cxx")
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    t = rule_tally(caps[0])
    assert_tally(t, line, keys=("allocations", "frees", "allocated_bytes", "freed_bytes",
                                "live_at_exit_count", "live_at_exit_bytes",
                                "peak_live_bytes"))
    # operation i uses form i % 5 (cxxplugin.cpp): new[]/delete[], new/sized
    # delete, vector (new/delete), make_unique<[]> (new[]/delete[]), aligned
    # new/delete; the kept blocks are new[]
    n, keep = line["operations"], line["kept"]
    per_form = [len(range(f, n, 5)) for f in range(5)]
    assert dict(t.calls) == {
        "new_array": per_form[0] + per_form[3] + keep,
        "delete_array": per_form[0] + per_form[3],
        "new": per_form[1] + per_form[2] + per_form[4],
        "delete": per_form[1] + per_form[2] + per_form[4],
    }
    assert not shm_logs(s["process"]["pid"])
