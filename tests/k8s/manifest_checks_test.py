"""Unit tests of tests/k8s/manifest_checks.py: each invariant fails when the
manifests break it, schema validation rejects unknown fields and removed API
versions, and the tools are found (or skipped) as documented."""

import copy
import os
import stat
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
import manifest_checks  # noqa: E402
import parley_testing  # noqa: E402

DB = {"app": "db"}
WEB = {"app": "web"}


def container(name, args, ports, env=None):
    return {
        "name": name,
        "image": "parley:test",
        "args": args,
        "env": env or [],
        "envFrom": [{"configMapRef": {"name": "flags-abc123"}}],
        "ports": [{"name": n, "containerPort": p} for n, p in ports],
        "livenessProbe": {"grpc": {"port": ports[0][1]}},
        "readinessProbe": {"grpc": {"port": ports[0][1]}},
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                      "limits": {"cpu": "1", "memory": "128Mi"}},
        "securityContext": {"runAsNonRoot": True,
                            "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
    }


def pod_template(labels, main, metrics_port):
    return {
        "metadata": {"labels": dict(labels),
                     "annotations": {"prometheus.io/scrape": "true",
                                     "prometheus.io/port": str(metrics_port)}},
        "spec": {"securityContext": {"runAsUser": 10001,
                                     "seccompProfile": {
                                         "type": "RuntimeDefault"}},
                 "containers": [main]},
    }


def meta(name):
    return {"name": name, "namespace": "ns"}


def valid_objects():
    """A small set that keeps every invariant: a StatefulSet with a
    headless Service and a PDB, a Deployment with a Service and an HPA,
    a ConfigMap with flags, NetworkPolicies."""
    pod_name = [{"name": "POD_NAME",
                 "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    db = container("db", ["--listen=0.0.0.0:7500",
                          "--metrics_port=$(METRICS_PORT)",
                          "--node_id=$(POD_NAME)",
                          "--advertise_address=$(POD_NAME).db.ns.svc:7500"],
                   [("grpc", 7500), ("metrics", 9500)], env=pod_name)
    web = container("web", ["--listen=0.0.0.0:7600", "--metrics_port=9600",
                            "--group=$(GROUP)"],
                    [("grpc", 7600), ("metrics", 9600)])
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(
            "flags-abc123"), "data": {"METRICS_PORT": "9500",
                                      "GROUP": "default"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("db"),
         "spec": {"clusterIP": "None", "publishNotReadyAddresses": True,
                  "selector": dict(DB),
                  "ports": [{"name": "grpc", "port": 7500,
                             "targetPort": "grpc"}]}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("db"),
         "spec": {"serviceName": "db", "replicas": 3,
                  "selector": {"matchLabels": dict(DB)},
                  "template": pod_template(DB, db, 9500)}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
         "metadata": meta("db"),
         "spec": {"maxUnavailable": 1,
                  "selector": {"matchLabels": dict(DB)}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
         "spec": {"selector": dict(WEB),
                  "ports": [{"name": "grpc", "port": 7600,
                             "targetPort": 7600}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"),
         "spec": {"selector": {"matchLabels": dict(WEB)},
                  "template": pod_template(WEB, web, 9600)}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
         "metadata": meta("web"),
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1",
                                     "kind": "Deployment", "name": "web"},
                  "minReplicas": 2, "maxReplicas": 4}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": meta("deny"),
         "spec": {"podSelector": {"matchExpressions": [
             {"key": "app", "operator": "In", "values": ["db", "web"]}]},
             "policyTypes": ["Ingress", "Egress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": meta("db"),
         "spec": {"podSelector": {"matchLabels": dict(DB)},
                  "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"podSelector": {
                      "matchLabels": dict(WEB)}}],
                      "ports": [{"protocol": "TCP", "port": 7500}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": meta("web"),
         "spec": {"podSelector": {"matchLabels": dict(WEB)},
                  "policyTypes": ["Egress"],
                  "egress": [{"to": [{"podSelector": {
                      "matchLabels": dict(DB)}}],
                      "ports": [{"protocol": "TCP", "port": 7500}]}]}},
    ]


def get(objects, kind, name):
    return [o for o in objects if o["kind"] == kind and
            o["metadata"]["name"] == name][0]


def main_container(objects, kind, name):
    return get(objects, kind, name)["spec"]["template"]["spec"][
        "containers"][0]


def add_secret(objects, kind, name, volume, path, items=None,
               read_only=True):
    """Mounts a Secret volume into a workload's main container."""
    secret = {"secretName": f"secret-{volume}"}
    if items is not None:
        secret["items"] = [{"key": i, "path": i} for i in items]
    spec = get(objects, kind, name)["spec"]["template"]["spec"]
    spec.setdefault("volumes", []).append({"name": volume, "secret": secret})
    mount = {"name": volume, "mountPath": path}
    if read_only:
        mount["readOnly"] = True
    spec["containers"][0].setdefault("volumeMounts", []).append(mount)
    return mount


def turn_authorization_on(objects):
    """--auth_tokens_file on both servers, a token for the one that calls
    the coordinator (db), the files from a Secret."""
    db = main_container(objects, "StatefulSet", "db")
    db["args"] += ["--coordinator=coordinator:7400",
                   "--auth_tokens_file=/etc/auth/tokens",
                   "--auth_token_file=/etc/auth/node.token"]
    add_secret(objects, "StatefulSet", "db", "auth", "/etc/auth",
               ["tokens", "node.token"])
    main_container(objects, "Deployment", "web")["args"].append(
        "--auth_tokens_file=/etc/auth/tokens")
    add_secret(objects, "Deployment", "web", "auth", "/etc/auth/",
               ["tokens"])


class Invariants(unittest.TestCase):
    def setUp(self):
        self.objects = valid_objects()

    def problems(self):
        return manifest_checks.check_invariants(self.objects)

    def assertProblem(self, fragment):
        problems = self.problems()
        self.assertTrue(any(fragment in p for p in problems),
                        f"no problem containing {fragment!r} in {problems}")

    def test_valid_set_has_no_problems(self):
        self.assertEqual(self.problems(), [])

    def test_missing_liveness_probe(self):
        del main_container(self.objects, "StatefulSet", "db")["livenessProbe"]
        self.assertProblem("StatefulSet ns/db container db: no livenessProbe")

    def test_missing_readiness_probe(self):
        del main_container(self.objects, "Deployment", "web")[
            "readinessProbe"]
        self.assertProblem("container web: no readinessProbe")

    def test_probe_on_the_metrics_port(self):
        main_container(self.objects, "Deployment", "web")["livenessProbe"] = \
            {"grpc": {"port": 9600}}
        self.assertProblem("livenessProbe targets port 9600, not the gRPC "
                           "port 7600")

    def test_probe_by_port_name(self):
        main_container(self.objects, "StatefulSet", "db")["readinessProbe"] = \
            {"grpc": {"port": "metrics"}}
        self.assertProblem("readinessProbe targets port 9500")

    def test_http_probe_is_not_a_grpc_health_probe(self):
        main_container(self.objects, "StatefulSet", "db")["livenessProbe"] = \
            {"httpGet": {"port": 9500, "path": "/metrics"}}
        self.assertProblem("livenessProbe is not a gRPC health probe")

    def test_tls_needs_tcp_probes_on_the_grpc_port(self):
        web = main_container(self.objects, "Deployment", "web")
        web["args"].append("--tls_cert_file=/etc/tls/tls.crt")
        add_secret(self.objects, "Deployment", "web", "tls", "/etc/tls")
        self.assertProblem("readinessProbe is a gRPC probe but the server "
                           "speaks TLS")
        for probe in ("livenessProbe", "readinessProbe"):
            web[probe] = {"tcpSocket": {"port": "grpc"}}
        self.assertEqual(self.problems(), [])
        web["readinessProbe"] = {"tcpSocket": {"port": "metrics"}}
        self.assertProblem("readinessProbe targets port 9600")

    def test_empty_tls_flag_is_plaintext(self):
        main_container(self.objects, "Deployment", "web")["args"].append(
            "--tls_cert_file=")
        self.assertEqual(self.problems(), [])

    def test_missing_limits(self):
        del main_container(self.objects, "StatefulSet", "db")["resources"][
            "limits"]
        self.assertProblem("no limits.cpu")
        self.assertProblem("no limits.memory")

    def test_missing_memory_request(self):
        del main_container(self.objects, "Deployment", "web")["resources"][
            "requests"]["memory"]
        self.assertProblem("no requests.memory")

    def test_root(self):
        main_container(self.objects, "Deployment", "web")["securityContext"][
            "runAsNonRoot"] = False
        self.assertProblem("runAsNonRoot is not true")

    def test_run_as_non_root_from_the_pod(self):
        del main_container(self.objects, "Deployment", "web")[
            "securityContext"]["runAsNonRoot"]
        self.assertProblem("runAsNonRoot is not true")
        get(self.objects, "Deployment", "web")["spec"]["template"]["spec"][
            "securityContext"]["runAsNonRoot"] = True
        self.assertEqual(self.problems(), [])

    def test_uid_zero(self):
        main_container(self.objects, "StatefulSet", "db")["securityContext"][
            "runAsUser"] = 0
        self.assertProblem("runAsUser is 0")

    def test_writable_root_filesystem(self):
        del main_container(self.objects, "StatefulSet", "db")[
            "securityContext"]["readOnlyRootFilesystem"]
        self.assertProblem("readOnlyRootFilesystem is not true")

    def test_privilege_escalation(self):
        main_container(self.objects, "StatefulSet", "db")["securityContext"][
            "allowPrivilegeEscalation"] = True
        self.assertProblem("allowPrivilegeEscalation is not false")

    def test_capabilities(self):
        security = main_container(self.objects, "StatefulSet", "db")[
            "securityContext"]
        security["capabilities"] = {"drop": ["NET_RAW"]}
        self.assertProblem("capabilities do not drop ALL")
        security["capabilities"] = {"drop": ["ALL"], "add": ["NET_ADMIN"]}
        self.assertProblem("adds capabilities")

    def test_seccomp(self):
        del get(self.objects, "StatefulSet", "db")["spec"]["template"]["spec"][
            "securityContext"]["seccompProfile"]
        self.assertProblem("seccompProfile is None, not RuntimeDefault")

    def test_statefulset_without_pdb(self):
        self.objects.remove(get(self.objects, "PodDisruptionBudget", "db"))
        self.assertProblem("StatefulSet ns/db: no PodDisruptionBudget selects "
                           "its pods")

    def test_pdb_selector_that_selects_nothing(self):
        get(self.objects, "PodDisruptionBudget", "db")["spec"]["selector"] = \
            {"matchLabels": {"app": "dbb"}}
        self.assertProblem("PodDisruptionBudget ns/db: selector matches no "
                           "workload's pods")
        self.assertProblem("StatefulSet ns/db: no PodDisruptionBudget")

    def test_pdb_in_another_namespace(self):
        get(self.objects, "PodDisruptionBudget", "db")["metadata"][
            "namespace"] = "other"
        self.assertProblem("StatefulSet ns/db: no PodDisruptionBudget")

    def test_listen_port_differs_from_container_port(self):
        main_container(self.objects, "StatefulSet", "db")["args"][0] = \
            "--listen=0.0.0.0:7501"
        self.assertProblem("containerPort 'grpc' is 7500 but --listen's port "
                           "is 7501")

    def test_metrics_port_from_the_config_map(self):
        get(self.objects, "ConfigMap", "flags-abc123")["data"][
            "METRICS_PORT"] = "9999"
        self.assertProblem("containerPort 'metrics' is 9500 but "
                           "--metrics_port is 9999")
        self.assertProblem("prometheus.io/port=9999 annotations")

    def test_scrape_annotation_missing(self):
        del get(self.objects, "Deployment", "web")["spec"]["template"][
            "metadata"]["annotations"]["prometheus.io/scrape"]
        self.assertProblem("container web: prometheus.io/scrape")

    def test_undefined_variable(self):
        main_container(self.objects, "Deployment", "web")["args"].append(
            "--worker_threads=$(THREADS)")
        self.assertProblem("$(THREADS) in '--worker_threads=$(THREADS)' is "
                           "not defined")

    def test_config_map_not_rendered(self):
        get(self.objects, "ConfigMap", "flags-abc123")["metadata"]["name"] = \
            "flags"
        self.assertProblem("envFrom names ConfigMap 'flags-abc123', which is "
                           "not rendered")

    def test_service_selector_matches_nothing(self):
        get(self.objects, "Service", "web")["spec"]["selector"] = \
            {"app": "webb"}
        self.assertProblem("Service ns/web: selector {'app': 'webb'} matches "
                           "no workload's pods")

    def test_workload_selector_differs_from_template(self):
        get(self.objects, "Deployment", "web")["spec"]["selector"] = \
            {"matchLabels": {"app": "other"}}
        self.assertProblem("Deployment ns/web: spec.selector does not match")

    def test_service_target_port(self):
        get(self.objects, "Service", "db")["spec"]["ports"][0][
            "targetPort"] = "gprc"
        self.assertProblem("targetPort gprc is not a port of StatefulSet "
                           "ns/db")

    def test_statefulset_service_name(self):
        get(self.objects, "StatefulSet", "db")["spec"]["serviceName"] = "dbs"
        self.assertProblem("serviceName 'dbs' is not a rendered Service")

    def test_advertised_name_needs_headless_service(self):
        service = get(self.objects, "Service", "db")
        del service["spec"]["publishNotReadyAddresses"]
        self.assertProblem("advertises pod names under Service 'db'")
        service["spec"]["publishNotReadyAddresses"] = True
        del service["spec"]["clusterIP"]
        self.assertProblem("must be headless")

    def test_hpa_target_must_leave_replicas_alone(self):
        get(self.objects, "Deployment", "web")["spec"]["replicas"] = 2
        self.assertProblem("Deployment ns/web: sets spec.replicas, which "
                           "HorizontalPodAutoscaler ns/web owns")

    def test_hpa_target_missing(self):
        get(self.objects, "HorizontalPodAutoscaler", "web")["spec"][
            "scaleTargetRef"]["name"] = "webs"
        self.assertProblem("scaleTargetRef Deployment webs is not rendered")

    def test_pods_without_network_isolation(self):
        self.objects.remove(get(self.objects, "NetworkPolicy", "deny"))
        self.assertProblem("StatefulSet ns/db: no NetworkPolicy isolates its "
                           "pods for Egress")
        self.assertProblem("Deployment ns/web: no NetworkPolicy isolates its "
                           "pods for Ingress")

    def test_network_policy_port_drift(self):
        get(self.objects, "NetworkPolicy", "db")["spec"]["ingress"][0][
            "ports"][0]["port"] = 7501
        self.assertProblem("NetworkPolicy ns/db: port 7501 is not a port of "
                           "the pods it is about")
        get(self.objects, "NetworkPolicy", "db")["spec"]["ingress"][0][
            "ports"][0]["port"] = 7500
        get(self.objects, "NetworkPolicy", "web")["spec"]["egress"][0][
            "ports"][0]["port"] = 7600
        self.assertProblem("NetworkPolicy ns/web: port 7600 is not a port")

    def test_secret_mounted_read_only(self):
        mount = add_secret(self.objects, "Deployment", "web", "certs",
                           "/etc/certs", read_only=False)
        self.assertProblem("container web: Secret volume 'certs' is mounted "
                           "without readOnly: true")
        mount["readOnly"] = False
        self.assertProblem("without readOnly: true")
        mount["readOnly"] = True
        self.assertEqual(self.problems(), [])

    def test_secret_mounted_with_sub_path(self):
        mount = add_secret(self.objects, "Deployment", "web", "certs",
                           "/etc/certs/tls.crt")
        mount["subPath"] = "tls.crt"
        self.assertProblem("Secret volume 'certs' is mounted with subPath, "
                           "which never sees an update")

    def test_mount_of_a_missing_volume(self):
        add_secret(self.objects, "Deployment", "web", "certs", "/etc/certs")
        get(self.objects, "Deployment", "web")["spec"]["template"]["spec"][
            "volumes"] = []
        self.assertProblem("container web: volumeMount 'certs' names no "
                           "volume of the pod")

    def test_volume_claim_template_is_a_volume(self):
        get(self.objects, "StatefulSet", "db")["spec"][
            "volumeClaimTemplates"] = [{"metadata": {"name": "data"}}]
        main_container(self.objects, "StatefulSet", "db")[
            "volumeMounts"] = [{"name": "data", "mountPath": "/var/lib/db"}]
        self.assertEqual(self.problems(), [])

    def test_file_flag_outside_every_mount(self):
        main_container(self.objects, "Deployment", "web")["args"].append(
            "--tls_ca_file=/etc/tls/ca.crt")
        self.assertProblem("container web: --tls_ca_file=/etc/tls/ca.crt is "
                           "not under any volumeMount")
        # A mount at /etc/tl is not a prefix of the folder /etc/tls.
        add_secret(self.objects, "Deployment", "web", "tl", "/etc/tl")
        self.assertProblem("--tls_ca_file=/etc/tls/ca.crt is not under")
        add_secret(self.objects, "Deployment", "web", "tls", "/etc/tls")
        self.assertEqual(self.problems(), [])

    def test_file_flag_needs_a_projected_key(self):
        turn_authorization_on(self.objects)
        self.assertEqual(self.problems(), [])
        get(self.objects, "StatefulSet", "db")["spec"]["template"]["spec"][
            "volumes"][0]["secret"]["items"].pop()
        self.assertProblem("StatefulSet ns/db container db: "
                           "--auth_token_file=/etc/auth/node.token: volume "
                           "'auth' at /etc/auth projects only ['tokens']")

    def test_file_flag_from_the_config_map(self):
        get(self.objects, "ConfigMap", "flags-abc123")["data"][
            "TOKENS"] = "/etc/auth/tokens"
        main_container(self.objects, "Deployment", "web")["args"].append(
            "--auth_token_file=$(TOKENS)")
        self.assertProblem("--auth_token_file=/etc/auth/tokens is not under")

    def test_empty_file_flags_need_no_mount(self):
        main_container(self.objects, "Deployment", "web")["args"] += [
            "--auth_tokens_file=", "--auth_token_file=",
            "--auth_admin_cert_names=", "--tls_key_file="]
        self.assertEqual(self.problems(), [])

    def test_authorization_in_every_server_or_none(self):
        turn_authorization_on(self.objects)
        web = main_container(self.objects, "Deployment", "web")
        web["args"].remove("--auth_tokens_file=/etc/auth/tokens")
        web["args"].append("--auth_tokens_file=")
        self.assertProblem("Deployment ns/web container web: no "
                           "--auth_tokens_file while StatefulSet ns/db "
                           "checks tokens")

    def test_authorization_per_namespace(self):
        turn_authorization_on(self.objects)
        main_container(self.objects, "Deployment", "web")["args"].remove(
            "--auth_tokens_file=/etc/auth/tokens")
        for obj in self.objects:
            if obj["kind"] in ("Deployment", "Service",
                               "HorizontalPodAutoscaler"):
                obj["metadata"]["namespace"] = "other"
        problems = self.problems()
        self.assertFalse([p for p in problems if "turn authorization on" in
                          p], problems)

    def test_member_without_token(self):
        turn_authorization_on(self.objects)
        main_container(self.objects, "StatefulSet", "db")["args"].remove(
            "--auth_token_file=/etc/auth/node.token")
        self.assertProblem("StatefulSet ns/db container db: calls the "
                           "coordinator without --auth_token_file")

    def test_cert_names_need_a_tokens_file(self):
        web = main_container(self.objects, "Deployment", "web")
        web["args"].append("--auth_node_cert_names=parley-node")
        self.assertProblem("container web: --auth_node_cert_names without "
                           "--auth_tokens_file")
        web["args"].append("--auth_tokens_file=/etc/auth/tokens")
        add_secret(self.objects, "Deployment", "web", "auth", "/etc/auth")
        main_container(self.objects, "StatefulSet", "db")["args"].append(
            "--auth_tokens_file=/etc/auth/tokens")
        add_secret(self.objects, "StatefulSet", "db", "auth", "/etc/auth")
        self.assertEqual(self.problems(), [])

    def test_selector_expressions(self):
        match = manifest_checks.selector_matches
        labels = {"app": "db", "tier": "cache"}
        self.assertTrue(match({"matchExpressions": [
            {"key": "tier", "operator": "Exists"},
            {"key": "app", "operator": "NotIn", "values": ["web"]}]}, labels))
        self.assertFalse(match({"matchExpressions": [
            {"key": "tier", "operator": "DoesNotExist"}]}, labels))
        self.assertFalse(match({}, labels))
        self.assertFalse(match({"matchLabels": {"app": "db", "x": "y"}},
                               labels))


class RenderedMutations(unittest.TestCase):
    """The real dev overlay passes, and fails once a probe is removed."""

    def setUp(self):
        try:
            kubectl = manifest_checks.find_kubectl()
        except manifest_checks.Unavailable as reason:
            self.skipTest(str(reason))
        tree = manifest_checks.copy_tree(
            manifest_checks.manifests_dir(),
            os.path.join(os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(),
                         "mutations"))
        self.objects = manifest_checks.render(
            kubectl, os.path.join(tree, "overlays", "dev"))

    def test_removing_a_probe_fails(self):
        self.assertEqual(manifest_checks.check_invariants(self.objects), [])
        broken = copy.deepcopy(self.objects)
        del main_container(broken, "Deployment", "parley-runtime")[
            "readinessProbe"]
        self.assertIn("Deployment parley-dev/parley-runtime container runtime: "
                      "no readinessProbe",
                      manifest_checks.check_invariants(broken))

    def test_changing_the_listen_port_in_args_fails(self):
        broken = copy.deepcopy(self.objects)
        args = main_container(broken, "StatefulSet", "parley-cache-node")[
            "args"]
        args[args.index("--listen=0.0.0.0:7500")] = "--listen=0.0.0.0:7501"
        problems = manifest_checks.check_invariants(broken)
        self.assertTrue(any("--listen's port is 7501" in p for p in problems),
                        problems)
        self.assertTrue(any("startupProbe targets port 7500, not the gRPC "
                            "port 7501" in p for p in problems), problems)

    def test_dropping_a_config_map_key_fails(self):
        broken = copy.deepcopy(self.objects)
        config = [o for o in broken if o["kind"] == "ConfigMap"][0]
        del config["data"]["PARLEY_COORDINATOR"]
        problems = manifest_checks.check_invariants(broken)
        self.assertTrue(any("$(PARLEY_COORDINATOR)" in p for p in problems),
                        problems)


class RenderedAuthMutations(unittest.TestCase):
    """The real prod-secure overlay passes, and fails once its auth mounts
    or values drift."""

    def setUp(self):
        try:
            kubectl = manifest_checks.find_kubectl()
        except manifest_checks.Unavailable as reason:
            self.skipTest(str(reason))
        tree = manifest_checks.copy_tree(
            manifest_checks.manifests_dir(),
            os.path.join(os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(),
                         "auth-mutations"))
        self.objects = manifest_checks.render(
            kubectl, os.path.join(tree, "overlays", "prod-secure"))
        self.assertEqual(manifest_checks.check_invariants(self.objects), [])

    def auth_mount(self, objects, kind, name):
        return [m for m in main_container(objects, kind, name)[
            "volumeMounts"] if m["name"] == "auth"][0]

    def test_writable_auth_mount_fails(self):
        broken = copy.deepcopy(self.objects)
        del self.auth_mount(broken, "Deployment", "parley-runtime")[
            "readOnly"]
        self.assertIn("Deployment parley/parley-runtime container runtime: "
                      "Secret volume 'auth' is mounted without readOnly: "
                      "true", manifest_checks.check_invariants(broken))

    def test_token_file_not_projected_fails(self):
        broken = copy.deepcopy(self.objects)
        config = [o for o in broken if o["kind"] == "ConfigMap"][0]
        config["data"]["PARLEY_AUTH_RUNTIME_TOKEN_FILE"] = \
            "/etc/parley/auth/node.token"
        problems = manifest_checks.check_invariants(broken)
        self.assertTrue(any(
            "container runtime: --auth_token_file=/etc/parley/auth/node.token"
            ": volume 'auth' at /etc/parley/auth projects only "
            "['runtime.token', 'tokens']" in p for p in problems), problems)

    def test_missing_auth_volume_fails(self):
        broken = copy.deepcopy(self.objects)
        spec = get(broken, "StatefulSet", "parley-coordinator")["spec"][
            "template"]["spec"]
        spec["volumes"] = [v for v in spec["volumes"] if v["name"] != "auth"]
        spec["containers"][0]["volumeMounts"] = [
            m for m in spec["containers"][0]["volumeMounts"]
            if m["name"] != "auth"]
        problems = manifest_checks.check_invariants(broken)
        self.assertTrue(any(
            "container coordinator: --auth_tokens_file=/etc/parley/auth/"
            "tokens is not under any volumeMount" in p for p in problems),
            problems)

    def test_member_without_token_fails(self):
        broken = copy.deepcopy(self.objects)
        args = main_container(broken, "StatefulSet", "parley-cache-node")[
            "args"]
        args.remove("--auth_token_file=$(PARLEY_AUTH_NODE_TOKEN_FILE)")
        self.assertIn("StatefulSet parley/parley-cache-node container "
                      "cache-node: calls the coordinator without "
                      "--auth_token_file while authorization is on: its "
                      "calls would be refused",
                      manifest_checks.check_invariants(broken))


class Schemas(unittest.TestCase):
    def setUp(self):
        try:
            self.validator = manifest_checks.SchemaValidator(
                manifest_checks.schema_dir())
        except manifest_checks.Unavailable as reason:
            self.skipTest(str(reason))

    def test_valid_objects_pass(self):
        self.assertEqual(self.validator.problems(valid_objects()), [])

    def test_unknown_field_fails(self):
        objects = valid_objects()
        probe = main_container(objects, "StatefulSet", "db")["livenessProbe"]
        probe["grpcc"] = probe.pop("grpc")
        problems = self.validator.problems(objects)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("StatefulSet ns/db: at /spec/template/spec/containers/0/"
                      "livenessProbe: Additional properties are not allowed "
                      "('grpcc' was unexpected)", problems[0])

    def test_unknown_top_level_spec_field_fails(self):
        objects = valid_objects()
        get(objects, "Service", "web")["spec"]["selectors"] = {"app": "web"}
        self.assertTrue(self.validator.problems(objects))

    def test_wrong_type_fails(self):
        objects = valid_objects()
        get(objects, "StatefulSet", "db")["spec"]["replicas"] = "3"
        problems = self.validator.problems(objects)
        self.assertTrue(any("/spec/replicas" in p for p in problems),
                        problems)

    def test_removed_api_versions_fail(self):
        objects = valid_objects()
        get(objects, "PodDisruptionBudget", "db")["apiVersion"] = \
            "policy/v1beta1"
        get(objects, "HorizontalPodAutoscaler", "web")["apiVersion"] = \
            "autoscaling/v2beta2"
        problems = self.validator.problems(objects)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("no schema poddisruptionbudget-policy-v1beta1.json",
                      problems[0] + problems[1])
        self.assertIn("no schema horizontalpodautoscaler-autoscaling-"
                      "v2beta2.json", problems[0] + problems[1])

    def test_missing_required_field_fails(self):
        objects = valid_objects()
        del get(objects, "StatefulSet", "db")["spec"]["selector"]
        problems = self.validator.problems(objects)
        self.assertTrue(any("'selector' is a required property" in p
                            for p in problems), problems)


class Locating(unittest.TestCase):
    def test_schema_file_names(self):
        name = manifest_checks.schema_file_name
        self.assertEqual(name({"apiVersion": "v1", "kind": "Service"}),
                         "service-v1.json")
        self.assertEqual(name({"apiVersion": "networking.k8s.io/v1",
                               "kind": "NetworkPolicy"}),
                         "networkpolicy-networking-v1.json")
        self.assertEqual(name({"apiVersion": "autoscaling/v2",
                               "kind": "HorizontalPodAutoscaler"}),
                         "horizontalpodautoscaler-autoscaling-v2.json")

    def test_repo_root_is_the_source_tree(self):
        root = manifest_checks.repo_root()
        self.assertTrue(os.path.isfile(os.path.join(root, "WORKSPACE")), root)
        self.assertTrue(os.path.isfile(
            os.path.join(root, "tests", "k8s", "manifest_checks.py")))

    def test_schema_dir_override(self):
        base = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
        versioned = os.path.join(base, "schemas",
                                 manifest_checks.SCHEMA_VERSION_DIR)
        os.makedirs(versioned, exist_ok=True)
        open(os.path.join(versioned, "service-v1.json"), "w").close()
        for value in (os.path.join(base, "schemas"), versioned):
            with mock.patch.dict(os.environ, {"PARLEY_K8S_SCHEMAS": value}):
                self.assertEqual(manifest_checks.schema_dir(), versioned)
        with mock.patch.dict(os.environ, {"PARLEY_K8S_SCHEMAS":
                                          os.path.join(base, "nowhere")}):
            with self.assertRaisesRegex(manifest_checks.Unavailable,
                                        "nowhere.*schema validation skipped"):
                manifest_checks.schema_dir()

    def fake_kubectl(self, version_json):
        path = os.path.join(os.environ.get("TEST_TMPDIR") or
                            tempfile.mkdtemp(), "kubectl")
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\ncat <<'EOF'\n{version_json}\nEOF\n")
        os.chmod(path, stat.S_IRWXU)
        return path

    def test_old_kubectl_skips(self):
        debian = self.fake_kubectl('{"clientVersion": {"major": "1", '
                                   '"minor": "20", "gitVersion": "v1.20.2"}}')
        with mock.patch.dict(os.environ, {"PARLEY_KUBECTL": debian}):
            with self.assertRaisesRegex(manifest_checks.Unavailable,
                                        "v1.20.2.*needs kustomize v5"):
                manifest_checks.find_kubectl()

    def test_old_kustomize_skips(self):
        path = self.fake_kubectl('{"clientVersion": {"minor": "26", '
                                 '"gitVersion": "v1.26.0"}, '
                                 '"kustomizeVersion": "v4.5.7"}')
        with mock.patch.dict(os.environ, {"PARLEY_KUBECTL": path}):
            with self.assertRaisesRegex(manifest_checks.Unavailable,
                                        "kustomize v4.5.7"):
                manifest_checks.find_kubectl()

    def test_recent_kubectl_is_used(self):
        path = self.fake_kubectl('{"clientVersion": {"minor": "32", '
                                 '"gitVersion": "v1.32.4"}, '
                                 '"kustomizeVersion": "v5.5.0"}')
        with mock.patch.dict(os.environ, {"PARLEY_KUBECTL": path}):
            self.assertEqual(manifest_checks.find_kubectl(), path)

    def test_missing_kubectl_skips(self):
        with mock.patch.dict(os.environ, {"PARLEY_KUBECTL": "",
                                          "PATH": "/nonexistent"}), \
                mock.patch.object(manifest_checks.shutil, "which",
                                  return_value=None):
            with self.assertRaisesRegex(manifest_checks.Unavailable,
                                        "kubectl not found"):
                manifest_checks.find_kubectl()


if __name__ == "__main__":
    parley_testing.run_tests("k8s_manifest_checks")
