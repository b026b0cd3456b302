"""Helpers for Parley's Python tests: stubs generated with grpc_tools.protoc,
real server processes on 127.0.0.1, and JUnit XML for the test summary.

Runs under Debian's /usr/bin/python3 with python3-grpcio, python3-grpc-tools
and python3-protobuf.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
import parley_stubs  # noqa: E402

GRPC_PROTO_DIR = parley_stubs.GRPC_PROTO_DIR


def runfile(relative):
    """Path of a file this test depends on (Bazel runfiles or the tree)."""
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "parley"),
                            relative)
    return os.path.join(os.path.dirname(__file__), "..", "..", relative)


def scratch_dir(name):
    base = os.environ.get("TEST_TMPDIR") or tempfile.gettempdir()
    path = os.path.join(base, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def generate_stubs(protos):
    """Generates Python modules for `protos` (include root -> .proto paths)
    with grpc_tools.protoc and puts them on sys.path; returns their
    directory."""
    return parley_stubs.generate_stubs(protos, scratch_dir("python_stubs"),
                                       scratch_dir("python_stub_sources"))


class ServerProcess:
    """A Parley server started with --listen=127.0.0.1:0 and a port file."""

    def __init__(self, binary, args, directory, name):
        self.binary = binary
        self.args = list(args)
        self.directory = directory
        self.name = name
        self.process = None
        self.port = None

    def start(self, timeout=20):
        port_file = os.path.join(self.directory, self.name + ".port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log_path = os.path.join(self.directory, self.name + ".log")
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.binary, "--listen=127.0.0.1:0", f"--port_file={port_file}"]
            + self.args, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not start: {self.log()}")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


class _JUnitResult(unittest.TextTestResult):
    """Records each test's outcome for the JUnit XML report."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []
        self._started = {}

    def startTest(self, test):
        self._started[test.id()] = time.monotonic()
        super().startTest(test)

    def _record(self, test, kind=None, detail=""):
        elapsed = time.monotonic() - self._started.get(test.id(),
                                                       time.monotonic())
        self.cases.append((test.id(), elapsed, kind, detail))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def run_tests(suite_name):
    """Runs the calling module's tests; writes $XML_OUTPUT_FILE; exits."""
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(sys.modules["__main__"])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_JUnitResult)
    result = runner.run(suite)
    xml_path = os.environ.get("XML_OUTPUT_FILE")
    if xml_path:
        suites = ElementTree.Element("testsuites")
        element = ElementTree.SubElement(
            suites, "testsuite", name=suite_name, tests=str(len(result.cases)),
            failures=str(len(result.failures)), errors=str(len(result.errors)))
        for name, elapsed, kind, detail in result.cases:
            case = ElementTree.SubElement(element, "testcase", name=name,
                                          time=f"{elapsed:.3f}",
                                          status="run")
            if kind is not None:
                ElementTree.SubElement(case, kind, message=detail[:200]).text \
                    = detail
        ElementTree.ElementTree(suites).write(xml_path, encoding="utf-8",
                                              xml_declaration=True)
    sys.exit(0 if result.wasSuccessful() else 1)
