"""Checks deploy/envoy/envoy.yaml: it parses, hashes InteractRuntime calls on
the session-id header onto a ring of the local runtime servers over HTTP/2,
and health-checks them with grpc.health.v1. (Envoy is not packaged in
Debian, so the file is checked for what the docs promise, not run.)"""

import os
import sys
import unittest

import yaml

sys.path.insert(0, os.path.join(os.environ.get("TEST_SRCDIR", ""),
                                os.environ.get("TEST_WORKSPACE", "parley"),
                                "tests", "python"))
import parley_testing  # noqa: E402

CONFIG = parley_testing.runfile("deploy/envoy/envoy.yaml")


class EnvoyConfigTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(CONFIG) as f:
            cls.config = yaml.safe_load(f)
        resources = cls.config["static_resources"]
        cls.cluster = {c["name"]: c for c in resources["clusters"]}[
            "runtime_default"]
        manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]
        cls.routes = manager["typed_config"]["route_config"][
            "virtual_hosts"][0]["routes"]

    def test_session_calls_hash_on_the_session_header(self):
        session_routes = [r for r in self.routes if r["match"].get(
            "prefix") == "/parley.v1.InteractRuntime/"]
        self.assertEqual(len(session_routes), 1)
        route = session_routes[0]["route"]
        self.assertEqual(route["cluster"], "runtime_default")
        self.assertEqual(route["hash_policy"],
                         [{"header": {"header_name": "x-parley-session-id"}}])
        # The session route comes before the catch-all.
        self.assertEqual(self.routes[-1]["match"], {"prefix": "/"})

    def test_ring_of_the_local_runtime_servers_over_http2(self):
        self.assertEqual(self.cluster["lb_policy"], "RING_HASH")
        options = self.cluster["typed_extension_protocol_options"][
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        self.assertIn("http2_protocol_options",
                      options["explicit_http_config"])
        ports = sorted(
            e["endpoint"]["address"]["socket_address"]["port_value"]
            for group in self.cluster["load_assignment"]["endpoints"]
            for e in group["lb_endpoints"])
        self.assertEqual(ports, [7601, 7602])

    def test_servers_leave_the_ring_when_not_serving(self):
        checks = self.cluster["health_checks"]
        self.assertEqual(len(checks), 1)
        self.assertIn("grpc_health_check", checks[0])


if __name__ == "__main__":
    parley_testing.run_tests("envoy_config_test")
