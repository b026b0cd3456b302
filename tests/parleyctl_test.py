"""parleyctl end to end: a coordinator, three cache nodes and two runtime
servers run as processes on 127.0.0.1; the parleyctl binary runs as a
subprocess against them, and its --json output is compared with the golden
files in tools/parleyctl/testdata/ once volatile values (times, epochs,
revisions, ports, treatment codes) are normalised. A second coordinator,
with authorization on, checks --auth_token_file and the refusals' hints.

To rewrite the golden files after an intended change:
  bazel test //tests:parleyctl_test \
    --test_env=PARLEYCTL_UPDATE_GOLDEN=$PWD/tools/parleyctl/testdata
"""

import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "python"))
import parley_testing  # noqa: E402

parley_testing.generate_stubs({
    parley_testing.runfile(""): ["proto/parley/v1/runtime.proto"],
})

import grpc  # noqa: E402
from proto.parley.v1 import runtime_pb2 as pb  # noqa: E402
from proto.parley.v1 import runtime_pb2_grpc as pb_grpc  # noqa: E402

COORDINATOR = parley_testing.runfile("services/coordinator/parley-coordinator")
CACHE_NODE = parley_testing.runfile("cache_node/parley-cache-node")
RUNTIME = parley_testing.runfile("services/runtime/server/parley-runtime")
PARLEYCTL = parley_testing.runfile("tools/parleyctl/parleyctl")
DEMO_CHANNEL = parley_testing.runfile("deploy/demo/demo_channel.json")
GOLDEN = parley_testing.runfile("tools/parleyctl/testdata")

# Keys whose values change from run to run.
VOLATILE_KEYS = {
    "create_time", "deploy_time", "join_time", "epoch", "table_epoch",
    "revision", "start_time", "last_access_time", "expire_time",
    "presented_at", "treatment_code", "membership_epoch", "primary_term",
    "treatmentCode", "time",
}
# Treatment codes: 26 characters of digits and capitals.
TREATMENT_CODE = re.compile(r"\b[0-9A-Z]{26}\b")

DEMO_PROFILES = """CustomerID,Age,Tier,LastPurchase
1,25,Gold,2026-01-14T12:00:00Z
2,45,Silver,2025-01-27
3,29,Bronze,2026-02-09T12:00:00Z
4,old,Gold,2026-01-01
5,61,Silver,not-a-date
6,33,Bronze,2026-03-01
"""

VISITORS = """CustomerID,Age,Tier,LastPurchase,Device,CartValue
1,25,Gold,2026-01-01,mobile,10
2,45,Silver,2020-01-01,,
3,70,Bronze,2099-06-01,desktop,80
4,52,Silver,2099-06-01,desktop,
"""


class ParleyctlEndToEndTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = parley_testing.scratch_dir("parleyctl")
        cls.processes = []
        cls.names = {}
        coordinator = cls.start(COORDINATOR, [
            f"--data_dir={cls.dir}/coordinator", "--partitions=16"],
            "coordinator")
        cls.coordinator = coordinator.address
        cls.caches = [cls.start(CACHE_NODE, [
            f"--node_id=cache-{i}", f"--data_dir={cls.dir}/cache-{i}",
            f"--coordinator={cls.coordinator}"], f"cache-{i}")
            for i in (1, 2, 3)]
        code, out, err = cls.run_ctl(["groups", "create", "default",
                                      "--cache_type=DISTRIBUTED", "--json"])
        if code != 0:
            raise RuntimeError(f"groups create default: {err}")
        cls.created_default = json.loads(out)
        cls.runtimes = [cls.start(RUNTIME, [
            f"--member_id=runtime-{i}", "--group=default",
            f"--coordinator={cls.coordinator}"], f"runtime-{i}")
            for i in (1, 2)]
        # Every member serves: status exits 0.
        cls.wait_for(lambda: cls.run_ctl(["status"])[0] == 0,
                     "every member to serve")

    @classmethod
    def tearDownClass(cls):
        for process in reversed(cls.processes):
            try:
                process.stop()
            except Exception:  # noqa: BLE001 - stop the others anyway.
                pass

    @classmethod
    def start(cls, binary, args, name):
        process = parley_testing.ServerProcess(binary, args, cls.dir, name)
        cls.processes.append(process)
        process.start()
        cls.names[process.address] = f"<{name}>"
        return process

    @classmethod
    def run_ctl(cls, args, stdin=None):
        result = subprocess.run(
            [PARLEYCTL, f"--coordinator={cls.coordinator}", "--timeout=20s"]
            + list(args), capture_output=True, text=True, timeout=120,
            input=stdin)
        return result.returncode, result.stdout, result.stderr

    @classmethod
    def wait_for(cls, check, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        logs = "\n".join(f"--- {p.name}\n{p.log()[-2000:]}"
                         for p in cls.processes)
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def ctl(self, *args, expect=0, stdin=None):
        code, out, err = self.run_ctl(args, stdin)
        self.assertEqual(code, expect,
                         f"parleyctl {' '.join(args)} exited {code}\n"
                         f"stdout: {out}\nstderr: {err}")
        return out, err

    def ctl_json(self, *args, expect=0):
        out, _ = self.ctl(*args, "--json", expect=expect)
        return json.loads(out)

    # ------------------------------------------------------------ golden

    def normalise(self, value, volatile=()):
        if isinstance(value, dict):
            return {k: ("<volatile>" if (k in VOLATILE_KEYS or k in volatile)
                        and v not in ("", None)
                        else self.normalise(v, volatile))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.normalise(v, volatile) for v in value]
        if isinstance(value, str):
            for address, name in self.names.items():
                value = value.replace(address, name)
            value = value.replace(self.dir, "<dir>")
            value = TREATMENT_CODE.sub("<treatment-code>", value)
            # Versions named in messages are revisions of the store.
            value = re.sub(r"version \d+", "version N", value)
            value = re.sub(r"expected \d+", "expected N", value)
            return value
        return value

    def assert_golden(self, name, value, volatile=()):
        """Compares with testdata/NAME.json; `volatile` names more keys to
        normalise (e.g. "version" where it is a configuration revision)."""
        actual = self.normalise(value, volatile)
        update = os.environ.get("PARLEYCTL_UPDATE_GOLDEN")
        if update:
            with open(os.path.join(update, name + ".json"), "w") as f:
                json.dump(actual, f, indent=2, sort_keys=False)
                f.write("\n")
            return
        with open(os.path.join(GOLDEN, name + ".json")) as f:
            expected = json.load(f)
        self.assertEqual(actual, expected, f"golden {name}.json differs:\n"
                         f"{json.dumps(actual, indent=2)}")

    # ------------------------------------------------------------ tests

    def test_01_help_for_every_command(self):
        out, _ = self.ctl("--help")
        self.assertIn("Exit codes:", out)
        commands = re.findall(r"^  ([a-z-]+(?: [a-z-]+)?)  ", out.split(
            "Commands:")[1].split("Global options")[0], re.M)
        self.assertIn("groups create", commands)
        self.assertIn("cache drain", commands)
        self.assertGreaterEqual(len(commands), 20)
        for command in commands:
            help_text, _ = self.ctl(*command.split(), "--help")
            self.assertTrue(help_text.startswith(
                f"Usage: parleyctl {command}"), help_text)

    def test_02_usage_errors_and_unreachable_servers(self):
        error = self.ctl_json("frobnicate", expect=2)["error"]
        self.assertEqual(error["message"], "unknown command 'frobnicate'")
        _, err = self.ctl("groups", "create", expect=2)
        self.assertIn("missing arguments", err)
        unreachable = subprocess.run(
            [PARLEYCTL, "--coordinator=127.0.0.1:1", "--timeout=5s", "status",
             "--json"], capture_output=True, text=True, timeout=60)
        self.assertEqual(unreachable.returncode, 3, unreachable.stderr)
        error = json.loads(unreachable.stdout)["error"]
        self.assertEqual(error["code"], "UNAVAILABLE")
        self.assertTrue(error["message"].startswith(
            "cannot reach the coordinator at 127.0.0.1:1"), error)
        self.assertIn("--coordinator=HOST:PORT", error["hint"])

    def test_03_groups(self):
        self.assert_golden("groups_create_default", self.created_default,
            volatile=("version",))
        self.assert_golden("groups_create", self.ctl_json(
            "groups", "create", "web", "--cache_type=LOCAL",
            "--session_timeout_seconds=120"), volatile=("version",))
        self.assert_golden("groups_create_again", self.ctl_json(
            "groups", "create", "web", expect=1), volatile=("version",))
        self.assert_golden("groups_list", self.ctl_json("groups", "list"),
            volatile=("version",))
        version = int(self.ctl_json("groups", "get", "web")["version"])
        self.assert_golden("groups_set", self.ctl_json(
            "groups", "set", "web", "--near_cache_max_entries=0",
            f"--expected_version={version}"), volatile=("version",))
        conflict = self.ctl_json("groups", "set", "web",
                                 "--session_timeout_seconds=30",
                                 f"--expected_version={version}", expect=1)
        self.assert_golden("groups_set_conflict", conflict)
        busy = self.ctl_json("groups", "delete", "default", expect=1)
        self.assertEqual(busy["error"]["code"], "FAILED_PRECONDITION")
        self.assertIn("stop the group's runtime servers",
                      busy["error"]["hint"])
        # Runtime-side commands need a live runtime server of the group.
        _, err = self.ctl("--group=web", "history", "export", expect=1)
        self.assertIn("no runtime server of group 'web' is live", err)
        self.assert_golden("groups_delete", self.ctl_json(
            "groups", "delete", "web"), volatile=("version",))
        self.assert_golden("groups_delete_missing", self.ctl_json(
            "groups", "delete", "web", expect=1), volatile=("version",))
        out, err = self.ctl("groups", "list")
        self.assertIn("default", out)
        self.assertNotIn("web", out)

    def test_04_config_compare_and_set(self):
        first = self.ctl_json("config", "set", "app/banner", "spring")
        self.assertEqual(first["value"], "spring")
        # Not there yet: --expected_version=0 succeeds once, then conflicts.
        self.ctl_json("config", "set", "app/theme", "dark",
                      "--expected_version=0")
        self.assert_golden("config_set_conflict", self.ctl_json(
            "config", "set", "app/theme", "light", "--expected_version=0",
            expect=1), volatile=("version",))
        _, err = self.ctl("config", "set", "app/theme", "light",
                          "--expected_version=0", expect=1)
        self.assertIn("hint: someone changed 'app/theme' first", err)
        current = self.ctl_json("config", "get", "app/banner")
        updated = self.ctl_json("config", "set", "app/banner", "summer",
                                f"--expected_version={current['version']}")
        self.assertGreater(updated["version"], current["version"])
        listed = self.ctl_json("config", "list", "app")
        self.assert_golden("config_list", listed, volatile=("version",))
        out, _ = self.ctl("config", "watch", "app", "--count=1", "--json")
        self.assert_golden("config_watch", json.loads(out),
            volatile=("version",))
        self.ctl("config", "delete", "app/theme")
        self.assert_golden("config_get_missing", self.ctl_json(
            "config", "get", "app/theme", expect=1), volatile=("version",))
        out, _ = self.ctl("config", "get", "app/banner", "--raw")
        self.assertEqual(out, "summer")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_05_deploy_and_deployments(self):
        self.assert_golden("deploy", self.ctl_json(
            "deploy", DEMO_CHANNEL, "--comment=first"))
        self.assert_golden("deploy_unchanged", self.ctl_json(
            "deploy", DEMO_CHANNEL))
        with open(DEMO_CHANNEL) as f:
            demo = f.read()
        broken = (demo.replace('"Age >= 18"', '"Agee >= 18"')
                  .replace('"offer": "Newsletter"', '"offer": "Newsleter"'))
        self.assertNotEqual(broken, demo)
        broken_json = self.write("broken_channel.json", broken)
        error = self.ctl_json("deploy", broken_json, expect=1)
        self.assert_golden("deploy_invalid_json", error)
        details = error["error"]["details"]
        self.assertRegex(details[0],
                         r"broken_channel\.json:\d+:\d+: treatment rule "
                         r"'Gold card': eligibility: .*Agee.*line 1, column 1")
        _, err = self.ctl("deploy", broken_json, expect=1)
        self.assertIn("treatment rule 'Young newsletter': offer 'Newsleter'",
                      err)
        # The same channel as YAML: positions come from the YAML file.
        yaml_text = self.to_yaml(json.loads(broken))
        broken_yaml = self.write("broken_channel.yaml", yaml_text)
        self.assert_golden("deploy_invalid_yaml", self.ctl_json(
            "deploy", broken_yaml, expect=1))
        good_yaml = self.write("demo_channel.yaml", self.to_yaml(json.loads(
            demo.replace('"maxPresentationsPerSession": 3',
                         '"maxPresentationsPerSession": 4'))))
        self.assertEqual(self.ctl_json("deploy", good_yaml,
                                       "--comment=from YAML")["version"], "2")
        self.assert_golden("deployments_list", self.ctl_json(
            "deployments", "list"))
        self.assert_golden("deployments_rollback", self.ctl_json(
            "deployments", "rollback", "1", "--comment=back to the first"))
        self.assert_golden("deployments_list_active", self.ctl_json(
            "deployments", "list", "--active"))
        self.assert_golden("deployments_rollback_missing", self.ctl_json(
            "deployments", "rollback", "9", expect=1))
        # `deployments get` prints a file that deploys as the same content.
        out, _ = self.ctl("deployments", "get")
        fetched = self.write("fetched.json", out)
        self.assertEqual(self.ctl_json("deploy", fetched)["version"], "3")

    @staticmethod
    def to_yaml(value, indent=0):
        """A small YAML writer (block style), so the test needs no PyYAML."""
        pad = " " * indent
        if isinstance(value, dict):
            lines = []
            for key, item in value.items():
                if isinstance(item, (dict, list)) and item:
                    lines.append(f"{pad}{key}:")
                    lines.append(ParleyctlEndToEndTest.to_yaml(item,
                                                               indent + 2))
                else:
                    lines.append(f"{pad}{key}: "
                                 f"{ParleyctlEndToEndTest.scalar(item)}")
            return "\n".join(lines)
        if isinstance(value, list):
            lines = []
            for item in value:
                if isinstance(item, (dict, list)) and item:
                    body = ParleyctlEndToEndTest.to_yaml(item, indent + 2)
                    lines.append(f"{pad}- {body.lstrip()}")
                else:
                    lines.append(f"{pad}- "
                                 f"{ParleyctlEndToEndTest.scalar(item)}")
            return "\n".join(lines)
        return pad + ParleyctlEndToEndTest.scalar(value)

    @staticmethod
    def scalar(value):
        if value == {}:
            return "{}"
        if value == []:
            return "[]"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return json.dumps(value)

    def test_06_test_run_and_profiles(self):
        visitors = self.write("visitors.csv", VISITORS)
        # The runtime servers pick the deployment up within moments.
        self.wait_for(lambda: self.run_ctl(["test-run", visitors])[0] == 0,
                      "the runtime servers to load the demo channel")
        self.assert_golden("test_run", self.ctl_json("test-run", visitors))
        out, _ = self.ctl("test-run", visitors, "--flowchart=Web")
        self.assertIn("Everyone", out)
        bad = self.write("bad_visitors.csv", "CustomerID,Age\n1,young\n")
        error = self.ctl_json("test-run", bad, expect=1)["error"]
        self.assertIn("line 2, column 'Age': 'young' is not a NUMBER",
                      error["details"])

        profiles = self.write("profiles.csv", DEMO_PROFILES)
        report = self.ctl_json("profiles", "load", profiles, "--chunk_kb=1",
                               expect=1)
        self.assert_golden("profiles_load", report)
        _, err = self.ctl("profiles", "load", profiles, "--level=Customer",
                          "--channel=demo", expect=1)
        self.assertIn("2 of 6 rows", err)
        good = self.write("good_profiles.csv", "\n".join(
            line for line in DEMO_PROFILES.splitlines()
            if ",old," not in line and "not-a-date" not in line) + "\n")
        out, _ = self.ctl("profiles", "load", good)
        self.assertIn("4 rows read, 4 stored, 0 rejected", out)

    def test_07_session_inspect_and_history(self):
        runtime = pb_grpc.InteractRuntimeStub(
            grpc.insecure_channel(self.runtimes[1].address))
        started = runtime.StartSession(pb.StartSessionRequest(
            session_id="ctl-visit", interactive_channel="demo",
            audience_level="Customer",
            audience_id=[pb.NameValue(name="CustomerID", number_value=1)],
            parameters=[pb.NameValue(name="CartValue", number_value=20)]),
            timeout=10)
        self.assertEqual(started.status, pb.SUCCESS, started)
        offers = runtime.GetOffers(pb.GetOffersRequest(
            session_id="ctl-visit", interaction_point="HomePageHero",
            number_requested=2), timeout=10)
        self.assertEqual([o.name for o in offers.offer_list.offers],
                         ["GoldCard", "WinterSale"])
        accepted = runtime.PostEvent(pb.PostEventRequest(
            session_id="ctl-visit", event_name="OfferAccepted",
            parameters=[pb.NameValue(
                name="UACIOfferTrackingCode",
                string_value=offers.offer_list.offers[0].treatment_code)]),
            timeout=10)
        self.assertEqual(accepted.status, pb.SUCCESS, accepted)

        self.assert_golden("session_inspect", self.ctl_json(
            "session", "inspect", "ctl-visit"))
        out, _ = self.ctl("session", "inspect", "ctl-visit",
                          f"--runtime={self.runtimes[0].address}")
        self.assertIn("Segments:     Gold, Everyone", out)
        self.assert_golden("session_inspect_missing", self.ctl_json(
            "session", "inspect", "no-such-visit", expect=1))

        output = os.path.join(self.dir, "history.jsonl")

        def exported():
            summary = self.ctl_json("history", "export", f"--output={output}")
            return summary["records"] >= 1
        self.wait_for(exported, "the acceptance to reach the history")
        summary = self.ctl_json("history", "export", f"--output={output}")
        self.assert_golden("history_export", summary)
        with open(output) as f:
            records = [json.loads(line) for line in f]
        self.assert_golden("history_records", records)
        out, _ = self.ctl("history", "export", "--format=csv",
                          "--since=2000-01-01")
        self.assertTrue(out.startswith("kind,time,session_id"), out)
        self.assertEqual(len(out.splitlines()), 2)
        out, _ = self.ctl("history", "export", "--since=2999-01-01")
        self.assertEqual(len(out.splitlines()), 1)  # The header alone.

    def test_08_cache_stats_and_status(self):
        stats = self.ctl_json("cache", "stats")
        nodes = stats["nodes"]
        self.assertEqual(sorted(n["stats"]["node_id"] for n in nodes),
                         ["cache-1", "cache-2", "cache-3"])
        self.assertEqual(sum(n["stats"]["primaries"] for n in nodes), 16)
        self.assertEqual(sum(n["stats"]["backups"] for n in nodes), 32)
        one = self.ctl_json("cache", "stats", self.caches[0].address,
                            "--partitions")
        self.assertEqual(len(one["nodes"]), 1)
        self.assertEqual(len(one["nodes"][0]["stats"]["partitions"]),
                         one["nodes"][0]["stats"]["primaries"] +
                         one["nodes"][0]["stats"]["backups"])

        status = self.ctl_json("status")
        for node in status["cache_nodes"]:
            self.assertIn(node["primaries"], (5, 6))
            self.assertEqual(node["replicas"], 16)
            node["primaries"] = "<5 or 6>"
        self.assert_golden("status", status)

    def test_09_cache_drain(self):
        drained = self.ctl_json("cache", "drain", "cache-3")
        self.assertIn(drained["partitions_handed_over"], (5, 6))
        drained["partitions_handed_over"] = "<5 or 6>"
        self.assert_golden("cache_drain", drained)

        def two_nodes():
            code, out, _ = self.run_ctl(["cache", "stats", "--json"])
            return code == 0 and len(json.loads(out)["nodes"]) == 2
        self.wait_for(two_nodes, "cache-3 to leave the tier")
        missing = self.ctl_json("cache", "drain", "cache-9", expect=1)
        self.assertIn("cache-1, cache-2", missing["error"]["hint"])
        # The tier still serves sessions.
        self.assertIn("Gold", self.ctl("session", "inspect", "ctl-visit")[0])


class ParleyctlAuthTest(unittest.TestCase):
    """parleyctl against a coordinator with authorization on: without a
    token it exits 1 with a hint to pass --auth_token_file; with a reader's
    token it reads but may not change; with an admin's it does both."""

    ADMIN = "ctl-adm1n-token"
    READER = "ctl-reader-token"

    @classmethod
    def setUpClass(cls):
        cls.dir = parley_testing.scratch_dir("parleyctl_auth")
        tokens = cls.write("tokens", f"# token principal roles\n"
                           f"{cls.ADMIN} ops admin\n"
                           f"{cls.READER} dashboards reader\n")
        cls.admin_file = cls.write("admin.token", cls.ADMIN + "\n")
        cls.reader_file = cls.write("reader.token", cls.READER + "\n")
        cls.unknown_file = cls.write("unknown.token", "not-a-known-token\n")
        cls.coordinator = parley_testing.ServerProcess(COORDINATOR, [
            f"--data_dir={cls.dir}/coordinator", "--partitions=4",
            f"--auth_tokens_file={tokens}"], cls.dir, "coordinator")
        cls.coordinator.start()

    @classmethod
    def tearDownClass(cls):
        cls.coordinator.stop()

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def ctl(self, *args, expect=0):
        result = subprocess.run(
            [PARLEYCTL, f"--coordinator={self.coordinator.address}",
             "--timeout=20s"] + list(args), capture_output=True, text=True,
            timeout=120)
        self.assertEqual(result.returncode, expect,
                         f"parleyctl {' '.join(args)} exited "
                         f"{result.returncode}\nstdout: {result.stdout}\n"
                         f"stderr: {result.stderr}")
        return result.stdout, result.stderr

    def test_without_a_token_the_hint_says_to_pass_one(self):
        _, err = self.ctl("groups", "list", expect=1)
        self.assertIn(f"parleyctl: the coordinator at "
                      f"{self.coordinator.address} refused the call: no "
                      f"credentials", err)
        self.assertIn("hint: the server has authorization on: pass "
                      "--auth_token_file with a token of role admin", err)
        out, _ = self.ctl("groups", "create", "web", "--json", expect=1)
        error = json.loads(out)["error"]
        self.assertEqual(error["code"], "UNAUTHENTICATED")
        self.assertEqual(error["exit_code"], 1)
        self.assertIn("--auth_token_file", error["hint"])
        # Runtime-side commands do not mistake it for a missing coordinator.
        _, err = self.ctl("history", "export", expect=1)
        self.assertIn("refused the call", err)
        self.assertNotIn("127.0.0.1:7601", err)

    def test_an_unknown_token_is_named_in_the_hint(self):
        _, err = self.ctl("groups", "list",
                          f"--auth_token_file={self.unknown_file}", expect=1)
        self.assertIn("unknown bearer token", err)
        self.assertIn(f"hint: the server does not know the token in "
                      f"--auth_token_file ({self.unknown_file}); pass "
                      f"--auth_token_file with a token of role admin", err)
        self.assertNotIn("not-a-known-token", err)

    def test_a_reader_reads_but_may_not_change(self):
        self.ctl("groups", "list", f"--auth_token_file={self.reader_file}")
        out, err = self.ctl("groups", "create", "by-reader", "--json",
                            f"--auth_token_file={self.reader_file}", expect=1)
        error = json.loads(out)["error"]
        self.assertEqual(error["code"], "PERMISSION_DENIED")
        self.assertIn("principal 'dashboards' may not call "
                      "parley.v1.Coordinator/CreateGroup", error["message"])
        self.assertIn("lacks the role this call needs; pass --auth_token_file "
                      "with a token of role admin", err)

    def test_an_admin_token_works(self):
        created = json.loads(self.ctl(
            "groups", "create", "ops-web", "--cache_type=LOCAL", "--json",
            f"--auth_token_file={self.admin_file}")[0])
        self.assertEqual(created["name"], "ops-web")
        listed = json.loads(self.ctl(
            "--auth_token_file", self.admin_file, "groups", "list",
            "--json")[0])
        self.assertIn("ops-web", [g["name"] for g in listed["groups"]])
        self.ctl("config", "set", "app/banner", "spring",
                 f"--auth_token_file={self.admin_file}")
        out, _ = self.ctl("config", "get", "app/banner", "--raw",
                          f"--auth_token_file={self.reader_file}")
        self.assertEqual(out, "spring")

    def test_an_unusable_token_file_is_a_usage_error(self):
        empty = self.write("empty.token", "\n")
        _, err = self.ctl("groups", "list", f"--auth_token_file={empty}",
                          expect=2)
        self.assertIn(f"--auth_token_file '{empty}' is empty", err)
        missing = os.path.join(self.dir, "missing.token")
        _, err = self.ctl("groups", "list", f"--auth_token_file={missing}",
                          expect=2)
        self.assertIn(f"cannot read --auth_token_file '{missing}'", err)


if __name__ == "__main__":
    parley_testing.run_tests("parleyctl_test")
