"""deploy/k8s: every overlay renders with `kubectl kustomize`, validates
strictly against the Kubernetes 1.32 schemas and keeps the invariants of
manifest_checks.check_invariants; each overlay has the shape it promises.

Skips (reported as skipped in the JUnit XML) where kubectl (1.27+) or the
schema folder is missing; see manifest_checks.py for how both are found.
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
import manifest_checks  # noqa: E402
import parley_testing  # noqa: E402

EXPECTED_OVERLAYS = ("dev", "prod", "prod-tls")


def find(objects, kind, name):
    matches = [o for o in objects if o["kind"] == kind and
               o["metadata"]["name"] == name]
    if len(matches) != 1:
        raise AssertionError(f"{len(matches)} {kind} named {name}")
    return matches[0]


def container(workload):
    return workload["spec"]["template"]["spec"]["containers"][0]


def flags(workload):
    return manifest_checks.parse_flags(container(workload)["args"])


class RenderedOverlays(unittest.TestCase):
    rendered = {}
    skip_reason = None

    @classmethod
    def setUpClass(cls):
        try:
            kubectl = manifest_checks.find_kubectl()
        except manifest_checks.Unavailable as reason:
            cls.skip_reason = str(reason)
            return
        base = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
        tree = manifest_checks.copy_tree(manifest_checks.manifests_dir(),
                                         os.path.join(base, "k8s"))
        for name, directory in manifest_checks.overlays(tree).items():
            cls.rendered[name] = manifest_checks.render(kubectl, directory)

    def objects(self, overlay):
        if self.skip_reason:
            self.skipTest(self.skip_reason)
        self.assertIn(overlay, self.rendered)
        return self.rendered[overlay]

    def test_every_overlay_is_checked(self):
        found = manifest_checks.overlays()
        self.assertEqual(sorted(found), sorted(EXPECTED_OVERLAYS),
                         "add a new overlay to EXPECTED_OVERLAYS and give it "
                         "tests of its shape")

    def test_dev_shape(self):
        objects = self.objects("dev")
        self.assertEqual(len(objects), 17)
        self.assertEqual(find(objects, "StatefulSet",
                              "parley-coordinator")["spec"]["replicas"], 1)
        self.assertEqual(find(objects, "StatefulSet",
                              "parley-cache-node")["spec"]["replicas"], 3)
        self.assertEqual(find(objects, "Deployment",
                              "parley-runtime")["spec"]["replicas"], 2)
        self.assertFalse([o for o in objects
                          if o["kind"] == "HorizontalPodAutoscaler"])
        self.assertTrue(all(o["metadata"].get("namespace") == "parley-dev"
                            for o in objects if o["kind"] != "Namespace"))
        self.assertEqual(container(find(objects, "Deployment",
                                        "parley-runtime"))["image"],
                         "parley:dev")

    def test_prod_shape(self):
        objects = self.objects("prod")
        self.assertEqual(len(objects), 18)
        cache = find(objects, "StatefulSet", "parley-cache-node")
        self.assertGreater(cache["spec"]["replicas"], 3)
        anti = cache["spec"]["template"]["spec"]["affinity"][
            "podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        self.assertEqual(anti[0]["topologyKey"], "kubernetes.io/hostname")
        self.assertTrue(manifest_checks.selector_matches(
            anti[0]["labelSelector"], manifest_checks.template_labels(cache)))
        runtime = find(objects, "Deployment", "parley-runtime")
        self.assertIn("podAntiAffinity",
                      runtime["spec"]["template"]["spec"]["affinity"])
        hpa = find(objects, "HorizontalPodAutoscaler", "parley-runtime")
        self.assertEqual(hpa["apiVersion"], "autoscaling/v2")
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"],
                         "parley-runtime")
        self.assertGreaterEqual(hpa["spec"]["maxReplicas"],
                                hpa["spec"]["minReplicas"])
        self.assertNotIn("replicas", runtime["spec"])

    def test_prod_tls_shape(self):
        objects = self.objects("prod-tls")
        self.assertEqual(len(objects), 18)
        for kind, name in (("StatefulSet", "parley-coordinator"),
                           ("StatefulSet", "parley-cache-node"),
                           ("Deployment", "parley-runtime")):
            workload = find(objects, kind, name)
            self.assertIn({"name": "tls", "secret": {"secretName":
                                                     "parley-tls"}},
                          workload["spec"]["template"]["spec"]["volumes"])
            for probe in manifest_checks.PROBES:
                self.assertEqual(container(workload)[probe]["tcpSocket"],
                                 {"port": "grpc"})
        config = [o for o in objects if o["kind"] == "ConfigMap"][0]
        self.assertEqual(config["data"]["PARLEY_TLS_CA_FILE"],
                         "/etc/parley/tls/ca.crt")
        # No Secret is rendered: an apply must not overwrite the real one.
        self.assertFalse([o for o in objects if o["kind"] == "Secret"])

    def test_cache_nodes_have_stable_identities(self):
        for overlay in EXPECTED_OVERLAYS:
            objects = self.objects(overlay)
            cache = find(objects, "StatefulSet", "parley-cache-node")
            args = container(cache)["args"]
            self.assertIn("--node_id=$(POD_NAME)", args)
            self.assertIn("--advertise_address=$(POD_NAME).parley-cache-node."
                          "$(POD_NAMESPACE).svc.$(PARLEY_CLUSTER_DOMAIN):7500",
                          args)
            # SIGTERM drains: the grace period covers the hand-over and the
            # in-flight calls, each bounded by --shutdown_grace_seconds.
            grace = int(flags(cache)["shutdown_grace_seconds"])
            self.assertGreater(
                cache["spec"]["template"]["spec"][
                    "terminationGracePeriodSeconds"], 2 * grace)


    def test_dev_network_connections(self):
        """Who reaches whom: members, clients, administration and
        Prometheus as deploy/k8s/base/networkpolicies.yaml lists them,
        nothing else."""
        objects = self.objects("dev")
        ns = "parley-dev"

        def pod(component):
            return manifest_checks.Pod(ns, manifest_checks.template_labels(
                find(objects, "StatefulSet" if component != "runtime" else
                     "Deployment", f"parley-{component}")))

        coordinator, cache, runtime = (pod("coordinator"), pod("cache-node"),
                                       pod("runtime"))
        client = manifest_checks.Pod("shop", {"parley.io/client": "true"})
        stranger = manifest_checks.Pod("shop", {"app": "web"})
        stranger_here = manifest_checks.Pod(ns, {"app": "debug"})
        admin = manifest_checks.Pod(ns, {"parley.io/admin": "true"})
        admin_elsewhere = manifest_checks.Pod("shop",
                                              {"parley.io/admin": "true"})
        prometheus = manifest_checks.Pod(
            "monitoring", {"app": "prometheus"},
            {"parley.io/monitoring": "true"})
        expected = [
            # (source, destination, port, allowed)
            (client, runtime, 7600, True),
            (client, coordinator, 7400, True),
            (client, cache, 7500, False),
            (client, runtime, 9600, False),
            (stranger, runtime, 7600, False),
            (stranger_here, runtime, 7600, False),
            (stranger_here, coordinator, 7400, False),
            (runtime, cache, 7500, True),
            (runtime, coordinator, 7400, True),
            (runtime, runtime, 7600, False),
            (cache, cache, 7500, True),
            (cache, coordinator, 7400, True),
            (cache, runtime, 7600, False),
            (coordinator, cache, 7500, False),
            (coordinator, runtime, 7600, False),
            (admin, cache, 7500, True),
            (admin, coordinator, 7400, True),
            (admin, runtime, 7600, True),
            (admin_elsewhere, cache, 7500, False),
            (prometheus, coordinator, 9400, True),
            (prometheus, cache, 9500, True),
            (prometheus, runtime, 9600, True),
            (prometheus, runtime, 7600, False),
            (prometheus, cache, 7500, False),
        ]
        wrong = [(s.namespace, s.labels, d.labels.get(
            "app.kubernetes.io/component"), port, allowed)
            for s, d, port, allowed in expected
            if manifest_checks.network_allows(objects, s, d, port) != allowed]
        self.assertEqual(wrong, [], "connections whose outcome is not the "
                         "expected one (last field: expected)")
        # DNS leaves every pod; nothing else leaves to the outside.
        dns = manifest_checks.Pod("kube-system", {"k8s-app": "kube-dns"})
        for source in (coordinator, cache, runtime):
            self.assertTrue(manifest_checks.network_allows(objects, source,
                                                           dns, 53))
            self.assertFalse(manifest_checks.network_allows(
                objects, source, stranger, 443))


def _add_overlay_checks():
    """test_<overlay>_renders_valid / _invariants for each overlay."""
    for overlay in EXPECTED_OVERLAYS:
        def invariants(self, overlay=overlay):
            problems = manifest_checks.check_invariants(self.objects(overlay))
            self.assertEqual(problems, [], "\n".join(problems))

        def schemas(self, overlay=overlay):
            objects = self.objects(overlay)
            try:
                directory = manifest_checks.schema_dir()
            except manifest_checks.Unavailable as reason:
                self.skipTest(str(reason))
            problems = manifest_checks.SchemaValidator(directory).problems(
                objects)
            self.assertEqual(problems, [], "\n".join(problems))

        key = overlay.replace("-", "_")
        setattr(RenderedOverlays, f"test_{key}_invariants", invariants)
        setattr(RenderedOverlays, f"test_{key}_schemas", schemas)


_add_overlay_checks()


class ExampleFiles(unittest.TestCase):
    def test_examples_validate_against_schemas(self):
        try:
            directory = manifest_checks.schema_dir()
        except manifest_checks.Unavailable as reason:
            self.skipTest(str(reason))
        examples = []
        for root, _, files in os.walk(manifest_checks.manifests_dir()):
            examples += [os.path.join(root, f) for f in files
                         if f.endswith(".example.yaml")]
        self.assertTrue(examples)
        objects = manifest_checks.load_yaml_files(examples)
        problems = manifest_checks.SchemaValidator(directory).problems(objects)
        self.assertEqual(problems, [], "\n".join(problems))


if __name__ == "__main__":
    parley_testing.run_tests("k8s_manifests")
