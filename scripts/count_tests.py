#!/usr/bin/python3
"""Counts test cases (not Bazel targets) after `bazel test`.

Reads Bazel's per-target summary lines from a saved log, then each target's
test.xml under bazel-testlogs: every <testcase> counts, failed when it holds
a <failure> or <error>. A target that failed without a usable report (it did
not build, timed out, crashed) counts as one failed case. An optional third
argument, the log of `fuzz/run_fuzzers.sh --smoke`, adds one case a fuzz
target. Prints the failed cases, then the closing line `N passed, N failed`.
"""

import os
import re
import sys
import xml.etree.ElementTree as ElementTree

STATUS = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED TO BUILD|"
                    r"FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE|"
                    r"REMOTE FAILURE|BUILD FAILED)\b")


def cases_of(xml_path):
    """([(name, failed)], skipped) from a JUnit XML file, or (None, 0) if
    unreadable."""
    try:
        root = ElementTree.parse(xml_path).getroot()
    except (OSError, ElementTree.ParseError):
        return None, 0
    cases = []
    skipped = 0
    for case in root.iter("testcase"):
        if case.get("status") == "notrun" or case.find("skipped") is not None:
            skipped += 1
            continue
        failed = case.find("failure") is not None or \
            case.find("error") is not None
        name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
        cases.append((name, failed))
    return cases, skipped


FUZZ_LINE = re.compile(r"^fuzz (\S+): .*, crashes (\d+)$")


def fuzz_cases(fuzz_log):
    """[(name, failed)] from a `fuzz/run_fuzzers.sh --smoke` log: one case a
    target. A log without a line for any target (the fuzz build failed)
    counts as one failed case; no log at all (the smoke run was left out)
    as none."""
    if not fuzz_log or not os.path.exists(fuzz_log):
        return []
    with open(fuzz_log, errors="replace") as f:
        cases = [(f"fuzz {m.group(1)}", m.group(2) != "0")
                 for m in map(FUZZ_LINE.match, f) if m]
    return cases or [("fuzz smoke run (no target ran; see its log)", True)]


def main(log_path, testlogs, fuzz_log=None):
    with open(log_path, errors="replace") as f:
        statuses = {}
        for line in f:
            match = STATUS.match(line.strip())
            if match:
                statuses[match.group(1)] = match.group(2)
    passed = failed = skipped = 0
    failures = []
    for target, status in sorted(statuses.items()):
        package, _, name = target[2:].partition(":")
        xml_path = os.path.join(testlogs, package, name, "test.xml")
        cases, target_skipped = cases_of(xml_path) if status in (
            "PASSED", "FAILED", "FLAKY") else (None, 0)
        skipped += target_skipped
        if not cases and not (status == "PASSED" and target_skipped):
            if status == "PASSED":
                passed += 1
            else:
                failed += 1
                failures.append(f"{target} ({status.lower()})")
            continue
        target_failed = [n for n, f in cases if f]
        passed += len(cases) - len(target_failed)
        failed += len(target_failed)
        failures += [f"{target} {n}" for n in target_failed]
        if status != "PASSED" and status != "FLAKY" and not target_failed:
            failed += 1
            failures.append(f"{target} ({status.lower()} outside its cases)")
    for name, case_failed in fuzz_cases(fuzz_log):
        if case_failed:
            failed += 1
            failures.append(name)
        else:
            passed += 1
    if not statuses:
        failed += 1
        failures.append("no test results: the build or bazel itself failed")
    for failure in failures:
        print(f"FAILED: {failure}")
    if skipped:
        print(f"{skipped} skipped (each says why in its test log)")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
