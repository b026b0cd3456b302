"""deploy/k8s: every overlay renders with `kubectl kustomize`, validates
strictly against the Kubernetes 1.32 schemas and keeps the invariants of
manifest_checks.check_invariants; each overlay has the shape it promises.

Skips (reported as skipped in the JUnit XML) where kubectl (1.27+) or the
schema folder is missing; see manifest_checks.py for how both are found.
"""

import copy
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
import manifest_checks  # noqa: E402
import parley_testing  # noqa: E402

EXPECTED_OVERLAYS = ("dev", "prod", "prod-tls", "prod-secure")
SERVERS = (("StatefulSet", "parley-coordinator"),
           ("StatefulSet", "parley-cache-node"),
           ("Deployment", "parley-runtime"))
AUTH_KEYS = ("PARLEY_AUTH_TOKENS_FILE", "PARLEY_AUTH_ADMIN_CERT_NAMES",
             "PARLEY_AUTH_NODE_CERT_NAMES", "PARLEY_AUTH_NODE_TOKEN_FILE",
             "PARLEY_AUTH_RUNTIME_TOKEN_FILE")
# The Secret keys each server's pod gets from components/auth, and the
# token file it sends (None: it calls no other server).
AUTH_ITEMS = {"parley-coordinator": (["tokens"], None),
              "parley-cache-node": (["tokens", "node.token"],
                                    "/etc/parley/auth/node.token"),
              "parley-runtime": (["tokens", "runtime.token"],
                                 "/etc/parley/auth/runtime.token")}


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


def config_map(objects):
    maps = [o for o in objects if o["kind"] == "ConfigMap"]
    if len(maps) != 1:
        raise AssertionError(f"{len(maps)} ConfigMaps")
    return maps[0]


def volume(workload, name):
    found = [v for v in workload["spec"]["template"]["spec"]["volumes"]
             if v["name"] == name]
    return found[0] if found else None


def mount(workload, name):
    found = [m for m in container(workload).get("volumeMounts", [])
             if m["name"] == name]
    return found[0] if found else None


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
        # components/auth on a plaintext overlay, where the kubelet's gRPC
        # probes stay (grpc.health.v1 is not checked by the servers).
        extra = os.path.join(tree, "test-overlays", "dev-auth")
        os.makedirs(extra)
        with open(os.path.join(extra, "kustomization.yaml"), "w") as f:
            f.write("apiVersion: kustomize.config.k8s.io/v1beta1\n"
                    "kind: Kustomization\n"
                    "resources: [../../overlays/dev]\n"
                    "components: [../../components/auth]\n")
        cls.rendered["dev+auth"] = manifest_checks.render(kubectl, extra)

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

    def assert_authorization_on(self, objects):
        data = config_map(objects)["data"]
        self.assertEqual(data["PARLEY_AUTH_TOKENS_FILE"],
                         "/etc/parley/auth/tokens")
        self.assertEqual(data["PARLEY_AUTH_NODE_TOKEN_FILE"],
                         "/etc/parley/auth/node.token")
        self.assertEqual(data["PARLEY_AUTH_RUNTIME_TOKEN_FILE"],
                         "/etc/parley/auth/runtime.token")
        # One certificate for every pod (components/tls): naming it would
        # make every runtime server admin or node.
        self.assertEqual(data["PARLEY_AUTH_ADMIN_CERT_NAMES"], "")
        self.assertEqual(data["PARLEY_AUTH_NODE_CERT_NAMES"], "")
        for kind, name in SERVERS:
            workload = find(objects, kind, name)
            keys, token_file = AUTH_ITEMS[name]
            self.assertEqual(volume(workload, "auth"), {
                "name": "auth", "secret": {
                    "secretName": "parley-auth",
                    "items": [{"key": k, "path": k} for k in keys]}}, name)
            self.assertEqual(mount(workload, "auth"), {
                "name": "auth", "mountPath": "/etc/parley/auth",
                "readOnly": True}, name)
            expanded = manifest_checks.expanded_flags(container(workload),
                                                      objects)
            self.assertEqual(expanded["auth_tokens_file"],
                             "/etc/parley/auth/tokens", name)
            self.assertEqual(expanded.get("auth_token_file"), token_file,
                             name)
            for flag in manifest_checks.CERT_NAME_FLAGS:
                self.assertEqual(expanded[flag], "", name)
        # No Secret is rendered: an apply must not overwrite the real one.
        self.assertFalse([o for o in objects if o["kind"] == "Secret"])

    def test_prod_secure_shape(self):
        objects = self.objects("prod-secure")
        self.assertEqual(len(objects), 18)
        self.assert_authorization_on(objects)
        for kind, name in SERVERS:
            workload = find(objects, kind, name)
            self.assertEqual(mount(workload, "tls")["mountPath"],
                             "/etc/parley/tls")
            for probe in manifest_checks.PROBES:
                self.assertEqual(container(workload)[probe]["tcpSocket"],
                                 {"port": "grpc"})

    def test_prod_secure_is_prod_tls_plus_auth(self):
        """Nothing but the auth pieces differs: same objects, same
        NetworkPolicies, same args (the values come from the ConfigMap)."""
        secure = copy.deepcopy(self.objects("prod-secure"))
        tls = self.objects("prod-tls")
        config = config_map(secure)
        config["metadata"]["name"] = config_map(tls)["metadata"]["name"]
        for key in AUTH_KEYS:
            config["data"][key] = ""
        for workload in secure:
            if workload["kind"] not in manifest_checks.WORKLOAD_KINDS:
                continue
            spec = workload["spec"]["template"]["spec"]
            spec["volumes"].remove(volume(workload, "auth"))
            main = container(workload)
            main["volumeMounts"].remove(mount(workload, "auth"))
            main["envFrom"][0]["configMapRef"]["name"] = \
                config["metadata"]["name"]
        self.assertEqual(secure, tls)

    def test_auth_component_keeps_grpc_probes_on_plaintext(self):
        objects = self.objects("dev+auth")
        self.assert_authorization_on(objects)
        for kind, name in SERVERS:
            for probe in manifest_checks.PROBES:
                self.assertIn("grpc", container(find(objects, kind,
                                                     name))[probe])
        problems = manifest_checks.check_invariants(objects)
        try:
            problems += manifest_checks.SchemaValidator(
                manifest_checks.schema_dir()).problems(objects)
        except manifest_checks.Unavailable:
            pass  # the invariants still count; test_*_schemas says why
        self.assertEqual(problems, [], "\n".join(problems))

    def test_authorization_is_off_without_the_component(self):
        for overlay in ("dev", "prod", "prod-tls"):
            objects = self.objects(overlay)
            data = config_map(objects)["data"]
            self.assertEqual({k: data[k] for k in AUTH_KEYS},
                             dict.fromkeys(AUTH_KEYS, ""), overlay)
            for kind, name in SERVERS:
                workload = find(objects, kind, name)
                self.assertIsNone(volume(workload, "auth"), overlay)
                expanded = manifest_checks.expanded_flags(
                    container(workload), objects)
                self.assertEqual(expanded["auth_tokens_file"], "", overlay)

    def test_every_server_takes_the_auth_flags(self):
        """Every overlay passes the auth flags from the ConfigMap, so the
        component only changes values and mounts."""
        for overlay in EXPECTED_OVERLAYS:
            objects = self.objects(overlay)
            for kind, name in SERVERS:
                args = container(find(objects, kind, name))["args"]
                for flag, key in (
                        ("auth_tokens_file", "TOKENS_FILE"),
                        ("auth_admin_cert_names", "ADMIN_CERT_NAMES"),
                        ("auth_node_cert_names", "NODE_CERT_NAMES")):
                    self.assertIn(f"--{flag}=$(PARLEY_AUTH_{key})", args,
                                  f"{overlay} {name}")
            self.assertIn("--auth_token_file=$(PARLEY_AUTH_NODE_TOKEN_FILE)",
                          container(find(objects, "StatefulSet",
                                         "parley-cache-node"))["args"])
            self.assertIn(
                "--auth_token_file=$(PARLEY_AUTH_RUNTIME_TOKEN_FILE)",
                container(find(objects, "Deployment",
                               "parley-runtime"))["args"])
            self.assertNotIn("auth_token_file", flags(find(
                objects, "StatefulSet", "parley-coordinator")))

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
