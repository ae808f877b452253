"""test_bu_sigevict.py - bu_sigevict: an evicting signal handler never waits
for its own thread's evictor set

A handler that allocates over a hard limit evicts, and so reads the node's
evictor, which its thread may be in the middle of setting. The read must not
wait for the set: with a sequence count it spun for good (the fixture hung
within a second). A hang is caught by the run's timeout.
"""
from bu_support import run, verdicts_ok


def test_the_handler_never_waits_for_its_thread(tmp_path):
    r = run("sigevict", tmp_path, args=["1500"], timeout=60)
    verdicts_ok(r.line)
    assert r.line["rounds"] > 0 and r.line["signals"] > 0, r.line
