#!/usr/bin/env python3
"""junit2json.py - merge CTest JUnit files into test_results.json and print the tally.

    junit2json.py --out test_results.json \
        --suite main build/junit.xml \
        --step main build 0 build/build.log \
        --step main ctest 8 \
        --suite asan build-asan/junit.xml

Each --suite names one CTest run and its JUnit file. Each --step reports the exit
code of a step of that run (build, ctest, ...) with an optional log file: a step
that failed without the JUnit file showing why becomes one synthetic failed test
named "<step>", so a broken build or a ctest crash is never counted as green.

How CTest (3.21+) marks a <testcase>: status="run" passed, "fail" failed,
"disabled" is skipped; "notrun" is skipped when the test asked for it
(SKIP_RETURN_CODE, SKIP_REGULAR_EXPRESSION) and failed otherwise (missing
executable, failed fixture), matching CTest's own verdict.

Prints "N passed, N failed, N skipped" as its last line and exits 1 when a test
failed or none ran (passed + failed == 0), 0 otherwise; 2 on bad usage.
Standard library only.
"""

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

OUTPUT_LIMIT = 4096  # bytes of output kept per failed test


def truncate_output(text, limit=OUTPUT_LIMIT):
    """Fits text within limit bytes of UTF-8, keeping its start and its end.

    Both ends matter: a sanitizer names the error and its stack first and a test
    runner prints its verdict last.
    """
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    marker = "\n[... %d bytes cut ...]\n" % (len(data) - limit)
    keep = limit - len(marker.encode())
    head = data[:keep // 2].decode("utf-8", "ignore")
    tail = data[len(data) - (keep - keep // 2):].decode("utf-8", "ignore")
    return head + marker + tail


def read_tail(path, limit=OUTPUT_LIMIT):
    """Returns the last limit bytes of a log file as text, or "" when unreadable."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4 * limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def testcase_status(case):
    """Returns "passed", "failed" or "skipped" for one <testcase> element."""
    status = case.get("status")
    skipped = case.find("skipped")
    if status is not None:  # CTest's dialect
        if status == "run":
            return "passed"
        if status == "disabled":
            return "skipped"
        if status == "notrun":
            message = skipped.get("message", "") if skipped is not None else ""
            return "skipped" if message.startswith("SKIP_") else "failed"
        return "failed"
    # Generic JUnit: the children say it.
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    if skipped is not None:
        return "skipped"
    return "passed"


def testcase_output(case):
    """Returns what a failed test printed, with the failure reason when there is one."""
    parts = []
    for tag in ("failure", "error", "skipped"):
        node = case.find(tag)
        if node is None:
            continue
        message = node.get("message", "")
        if message:
            parts.append("%s: %s\n" % ("not run" if tag == "skipped" else tag, message))
        if node.text and node.text.strip():
            parts.append(node.text)
    for tag in ("system-out", "system-err"):
        node = case.find(tag)
        if node is not None and node.text:
            parts.append(node.text)
    text = "".join(parts)
    if not text.strip():
        text = "(no output captured: timeout, crash or non-zero exit; see ctest's log)\n"
    return truncate_output(text)


def read_junit(path):
    """Returns the list of test dicts in a JUnit file; raises OSError or ET.ParseError."""
    root = ET.parse(path).getroot()
    tests = []
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        classname = case.get("classname")
        if classname and classname != name:
            name = "%s.%s" % (classname, name)
        try:
            time_s = float(case.get("time", "0") or 0)
        except ValueError:
            time_s = 0.0
        test = {"name": name, "status": testcase_status(case), "time_s": round(time_s, 6)}
        if test["status"] == "failed":
            test["output"] = testcase_output(case)
        tests.append(test)
    return tests


def build_suite(name, junit_path, steps):
    """Returns one suite dict: its JUnit tests plus synthetic failures for failed steps."""
    tests = []
    junit_error = None
    if junit_path is not None:
        try:
            tests = read_junit(junit_path)
        except (OSError, ET.ParseError) as e:
            junit_error = "cannot read %s: %s" % (junit_path, e)
    junit_failed = any(t["status"] == "failed" for t in tests)

    for step, rc, log in steps:
        if rc == 0:
            continue
        # A ctest that failed and said which tests failed needs no extra entry.
        if step == "ctest" and junit_failed:
            continue
        output = "step '%s' of suite '%s' exited with status %d\n" % (step, name, rc)
        if log:
            output += read_tail(log)
        tests.append({"name": step, "status": "failed", "time_s": 0.0,
                      "output": truncate_output(output)})
    if junit_error and not any(rc for _, rc, _ in steps):
        tests.append({"name": "junit", "status": "failed", "time_s": 0.0,
                      "output": junit_error + "\n"})
    return {"name": name, "tests": tests}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--suite", nargs=2, action="append", default=[],
                        metavar=("NAME", "JUNIT"), help="a CTest run and its JUnit file")
    parser.add_argument("--step", nargs="+", action="append", default=[],
                        metavar="SUITE STEP RC [LOG]", help="exit code of a step of a suite")
    args = parser.parse_args(argv)

    suites = {}
    order = []
    for name, path in args.suite:
        if name not in suites:
            order.append(name)
        suites[name] = {"junit": path, "steps": []}
    for step in args.step:
        if len(step) not in (3, 4):
            parser.error("--step takes SUITE STEP RC [LOG], got %r" % step)
        try:
            rc = int(step[2])
        except ValueError:
            parser.error("--step: exit code %r is not a number" % step[2])
        if step[0] not in suites:
            order.append(step[0])
            suites[step[0]] = {"junit": None, "steps": []}
        suites[step[0]]["steps"].append((step[1], rc, step[3] if len(step) == 4 else None))
    return args.out, [(n, suites[n]["junit"], suites[n]["steps"]) for n in order]


def main(argv):
    out, specs = parse_args(argv)
    suites = [build_suite(*spec) for spec in specs]

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    duration = 0.0
    for suite in suites:
        for test in suite["tests"]:
            counts[test["status"]] += 1
            duration += test["time_s"]
    result = dict(counts)
    result["total"] = sum(counts.values())
    result["duration_s"] = round(duration, 3)
    result["suites"] = suites

    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)

    for suite in suites:
        for test in suite["tests"]:
            if test["status"] == "failed":
                print("FAILED %s: %s" % (suite["name"], test["name"]))
    ran = counts["passed"] + counts["failed"]
    if ran == 0:
        print("error: no test ran")
    print("%d passed, %d failed, %d skipped" %
          (counts["passed"], counts["failed"], counts["skipped"]), flush=True)
    return 1 if counts["failed"] or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
