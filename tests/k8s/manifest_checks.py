#!/usr/bin/python3
"""Checks Parley's Kubernetes manifests (deploy/k8s).

Three checks on what `kubectl kustomize OVERLAY` renders:
  - schemas: every object validates strictly (unknown fields fail) against
    the Kubernetes 1.32 JSON schemas; a kind/apiVersion without a schema file
    (a removed beta API, a typo) fails;
  - invariants: probes, resources, security contexts, PDBs, selectors,
    ports, mounts and flags agree (check_invariants below lists them);
  - the overlay renders at all.

By hand, from the repository root:
  /usr/bin/python3 tests/k8s/manifest_checks.py                 # every overlay
  /usr/bin/python3 tests/k8s/manifest_checks.py deploy/k8s/overlays/dev

Needs Debian's python3-yaml and python3-jsonschema, a kubectl whose built-in
kustomize is v5 or later (kubectl 1.27+) and the schema folder: the
environment variable PARLEY_K8S_SCHEMAS, else ../shared/k8s-schemas beside
the repository (found from this file's real path, so it works from Bazel's
runfiles too).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml  # Debian's python3-yaml
except ImportError as error:
    raise ImportError("python3-yaml is missing: apt-get install python3-yaml "
                      "(scripts/lib.sh lists it)") from error

SCHEMA_VERSION_DIR = "v1.32.6-strict"
# `labels: includeTemplates` in deploy/k8s needs kustomize v5 (kubectl 1.27).
MIN_KUSTOMIZE_MAJOR = 5
MIN_KUBECTL_MINOR = 27

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
# Flags naming a file the server reads at start (or re-reads): with a
# read-only root filesystem it must come from a mounted volume.
FILE_FLAGS = ("tls_cert_file", "tls_key_file", "tls_ca_file",
              "auth_tokens_file", "auth_token_file")
CERT_NAME_FLAGS = ("auth_admin_cert_names", "auth_node_cert_names")


class Unavailable(Exception):
    """A tool or data the check needs is missing here: the check skips."""


# --- Locating things -------------------------------------------------------

def repo_root():
    """The source tree this file belongs to (through Bazel's runfiles
    symlinks, which point back into it)."""
    here = os.path.dirname(os.path.realpath(__file__))
    return os.path.dirname(os.path.dirname(here))


def manifests_dir():
    """deploy/k8s: from the runfiles tree under Bazel, else the tree."""
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        path = os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "parley"),
                            "deploy", "k8s")
        if os.path.isdir(path):
            return path
    return os.path.join(repo_root(), "deploy", "k8s")


def overlays(root=None):
    """{name: directory} of every overlay under deploy/k8s/overlays."""
    root = root or manifests_dir()
    found = {}
    for kustomization in sorted(glob.glob(
            os.path.join(root, "overlays", "*", "kustomization.yaml"))):
        directory = os.path.dirname(kustomization)
        found[os.path.basename(directory)] = directory
    return found


def schema_dir():
    """The folder of <kind>-<group>-<version>.json files, or Unavailable."""
    override = os.environ.get("PARLEY_K8S_SCHEMAS")
    if override:
        candidates = [os.path.join(override, SCHEMA_VERSION_DIR), override]
        source = f"PARLEY_K8S_SCHEMAS={override}"
    else:
        base = os.path.normpath(os.path.join(repo_root(), "..", "shared",
                                             "k8s-schemas"))
        candidates = [os.path.join(base, SCHEMA_VERSION_DIR)]
        source = f"{base} (beside the repository; or set PARLEY_K8S_SCHEMAS)"
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "service-v1.json")):
            return candidate
    raise Unavailable(f"no Kubernetes {SCHEMA_VERSION_DIR} JSON schemas at "
                      f"{source}: schema validation skipped")


def find_kubectl():
    """Path of a kubectl that can build deploy/k8s, or Unavailable."""
    kubectl = os.environ.get("PARLEY_KUBECTL") or shutil.which(
        "kubectl", path=os.pathsep.join(
            [os.environ.get("PATH", ""), "/usr/local/bin", "/usr/bin"]))
    if not kubectl:
        raise Unavailable(
            "kubectl not found: rendering deploy/k8s skipped (Debian 12's "
            "kubernetes-client is kubectl 1.20 with kustomize v2.0.3, too old "
            f"for these overlays; install kubectl 1.{MIN_KUBECTL_MINOR}+ or "
            "set PARLEY_KUBECTL)")
    try:
        out = subprocess.run([kubectl, "version", "--client", "-o", "json"],
                             capture_output=True, text=True, timeout=60,
                             check=True).stdout
        version = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        raise Unavailable(f"{kubectl} version failed ({error}): rendering "
                          "deploy/k8s skipped")
    client = version.get("clientVersion", {})
    kustomize = version.get("kustomizeVersion", "")
    match = re.match(r"v?(\d+)", kustomize)
    minor = int(re.sub(r"\D", "", client.get("minor", "0")) or 0)
    too_old = (int(match.group(1)) < MIN_KUSTOMIZE_MAJOR if match
               else minor < MIN_KUBECTL_MINOR)
    if too_old:
        raise Unavailable(
            f"{kubectl} is kubectl {client.get('gitVersion', '?')} with "
            f"kustomize {kustomize or 'older than v5'}: deploy/k8s needs "
            f"kustomize v{MIN_KUSTOMIZE_MAJOR}+ (kubectl 1.{MIN_KUBECTL_MINOR}"
            "+); rendering skipped (Debian 12's kubernetes-client is 1.20)")
    return kubectl


# --- Rendering -------------------------------------------------------------

def render(kubectl, overlay_dir):
    """The objects `kubectl kustomize overlay_dir` prints."""
    result = subprocess.run([kubectl, "kustomize", overlay_dir],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {overlay_dir} failed:\n"
                           f"{result.stderr}")
    return [o for o in yaml.safe_load_all(result.stdout) if o]


def copy_tree(source, destination):
    """Copies deploy/k8s with symlinks resolved: kustomize refuses files
    whose real path is outside the kustomization's folder, which is what
    Bazel's runfiles symlinks look like."""
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination, symlinks=False)
    return destination


def load_yaml_files(paths):
    objects = []
    for path in paths:
        with open(path) as f:
            objects += [o for o in yaml.safe_load_all(f) if o]
    return objects


# --- Schemas ---------------------------------------------------------------

def schema_file_name(obj):
    """<kind>-<group>-<version>.json (core API: <kind>-<version>.json), the
    group cut at its first dot (networking.k8s.io -> networking)."""
    api_version = str(obj.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    kind = str(obj.get("kind", "")).lower()
    if group:
        return f"{kind}-{group.split('.')[0]}-{version}.json".lower()
    return f"{kind}-{version}.json".lower()


def describe(obj):
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "?")
    return f"{obj.get('kind', '?')} {namespace + '/' if namespace else ''}" \
           f"{name}"


class SchemaValidator:
    """Validates objects against the strict schema folder (draft 7)."""

    def __init__(self, directory):
        try:
            import jsonschema  # Debian's python3-jsonschema
        except ImportError as error:
            raise ImportError("python3-jsonschema is missing: apt-get install "
                              "python3-jsonschema (scripts/lib.sh lists it)") \
                from error
        self._jsonschema = jsonschema
        self.directory = directory
        self._validators = {}

    def _validator(self, file_name):
        if file_name not in self._validators:
            path = os.path.join(self.directory, file_name)
            if not os.path.isfile(path):
                self._validators[file_name] = None
            else:
                with open(path) as f:
                    self._validators[file_name] = \
                        self._jsonschema.Draft7Validator(json.load(f))
        return self._validators[file_name]

    def problems(self, objects):
        found = []
        for obj in objects:
            file_name = schema_file_name(obj)
            validator = self._validator(file_name)
            if validator is None:
                found.append(
                    f"{describe(obj)}: {obj.get('apiVersion')} "
                    f"{obj.get('kind')} is not served by Kubernetes 1.32 (no "
                    f"schema {file_name}): a removed API version or a typo")
                continue
            for error in sorted(validator.iter_errors(obj),
                                key=lambda e: list(e.absolute_path)):
                path = "/".join(str(p) for p in error.absolute_path)
                found.append(f"{describe(obj)}: at /{path}: {error.message}")
        return found


# --- Invariants ------------------------------------------------------------

def selector_matches(selector, labels):
    """A LabelSelector (matchLabels, matchExpressions) against labels; an
    empty or missing selector matches nothing here (we never want one)."""
    if not selector:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def namespace_of(obj):
    return (obj.get("metadata") or {}).get("namespace") or "default"


def name_of(obj):
    return (obj.get("metadata") or {}).get("name", "?")


def template_labels(workload):
    return (((workload.get("spec") or {}).get("template") or {})
            .get("metadata") or {}).get("labels") or {}


def pod_spec(workload):
    return ((workload.get("spec") or {}).get("template") or {}).get(
        "spec") or {}


class _Env:
    """A container's environment as the kubelet builds it, to expand
    $(VAR) in args: env values, ConfigMap keys (env and envFrom) from the
    rendered ConfigMaps; fieldRef and Secret values stay symbolic."""

    def __init__(self, container, config_maps, problems, where):
        self.values = {}
        for source in container.get("envFrom") or []:
            ref = source.get("configMapRef")
            if ref:
                data = config_maps.get(ref.get("name"))
                if data is None and not ref.get("optional"):
                    problems.append(f"{where}: envFrom names ConfigMap "
                                    f"'{ref.get('name')}', which is not "
                                    "rendered")
                prefix = source.get("prefix", "")
                for key, value in (data or {}).items():
                    self.values[prefix + key] = str(value)
        for var in container.get("env") or []:
            name = var.get("name")
            if "value" in var:
                self.values[name] = self.expand(str(var["value"]))
                continue
            source = var.get("valueFrom") or {}
            ref = source.get("configMapKeyRef")
            if ref:
                data = config_maps.get(ref.get("name"))
                if data is None or ref.get("key") not in data:
                    if not ref.get("optional"):
                        problems.append(
                            f"{where}: env {name} names ConfigMap key "
                            f"{ref.get('name')}/{ref.get('key')}, which is "
                            "not rendered")
                    continue
                self.values[name] = str(data[ref["key"]])
            elif source.get("fieldRef"):
                field = source["fieldRef"].get("fieldPath", "")
                self.values[name] = f"<{field}>"
            else:
                self.values[name] = f"<{name}>"

    def expand(self, text):
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                      lambda m: self.values.get(m.group(1), m.group(0)), text)


def parse_flags(args):
    """{flag: value} of --flag=value arguments."""
    flags = {}
    for arg in args:
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            flags[name] = value
    return flags


def expanded_flags(container, objects):
    """{flag: value} of a container's command and args with $(VAR)
    expanded from its env and the rendered ConfigMaps in `objects`."""
    config_maps = {name_of(o): o.get("data") or {} for o in objects
                   if o.get("kind") == "ConfigMap"}
    env = _Env(container, config_maps, [], "")
    return parse_flags([env.expand(str(a)) for a in
                        (container.get("command") or []) +
                        (container.get("args") or [])])


def port_of_address(address):
    _, _, port = address.rpartition(":")
    return int(port) if port.isdigit() else None


def _container_port(container, port):
    """The containerPort a probe's or Service's port (number or name)
    means, or None."""
    for declared in container.get("ports") or []:
        if port in (declared.get("containerPort"), declared.get("name")):
            return declared.get("containerPort")
    return port if isinstance(port, int) else None


def _check_container(workload, container, config_maps, problems):
    where = f"{describe(workload)} container {container.get('name')}"
    spec = pod_spec(workload)
    pod_security = spec.get("securityContext") or {}
    security = container.get("securityContext") or {}

    # Probes.
    for probe in ("livenessProbe", "readinessProbe"):
        if not container.get(probe):
            problems.append(f"{where}: no {probe}")

    # Resources.
    resources = container.get("resources") or {}
    for part in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not (resources.get(part) or {}).get(resource):
                problems.append(f"{where}: no {part}.{resource}")

    # Security: the container's settings win over the pod's.
    def effective(key):
        return security[key] if key in security else pod_security.get(key)

    if effective("runAsNonRoot") is not True:
        problems.append(f"{where}: runAsNonRoot is not true")
    if effective("runAsUser") == 0:
        problems.append(f"{where}: runAsUser is 0 (root)")
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: readOnlyRootFilesystem is not true")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation is not false")
    if security.get("privileged"):
        problems.append(f"{where}: privileged")
    if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
        problems.append(f"{where}: capabilities do not drop ALL")
    if (security.get("capabilities") or {}).get("add"):
        problems.append(f"{where}: adds capabilities")
    seccomp = (effective("seccompProfile") or {}).get("type")
    if seccomp != "RuntimeDefault":
        problems.append(f"{where}: seccompProfile is {seccomp}, not "
                        "RuntimeDefault")

    # Flags against ports and probes.
    env = _Env(container, config_maps, problems, where)
    args = [env.expand(str(a)) for a in
            (container.get("command") or []) + (container.get("args") or [])]
    for arg in args:
        for unresolved in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
            problems.append(f"{where}: $({unresolved}) in '{arg}' is not "
                            "defined (env, envFrom or the ConfigMap)")
    flags = parse_flags(args)
    ports = {p.get("name"): p.get("containerPort")
             for p in container.get("ports") or []}
    listen_port = port_of_address(flags.get("listen", ""))
    if listen_port is None:
        problems.append(f"{where}: no --listen=HOST:PORT")
    elif ports.get("grpc") != listen_port:
        problems.append(f"{where}: containerPort 'grpc' is "
                        f"{ports.get('grpc')} but --listen's port is "
                        f"{listen_port}")
    metrics = flags.get("metrics_port")
    annotations = ((workload.get("spec") or {}).get("template") or {}).get(
        "metadata", {}).get("annotations") or {}
    if metrics is not None and not metrics.lstrip("-").isdigit():
        pass  # an undefined $(VAR), reported above
    elif metrics is not None and metrics not in ("-1", "0"):
        if ports.get("metrics") != int(metrics):
            problems.append(f"{where}: containerPort 'metrics' is "
                            f"{ports.get('metrics')} but --metrics_port is "
                            f"{metrics}")
        if annotations.get("prometheus.io/scrape") != "true" or \
                annotations.get("prometheus.io/port") != metrics:
            problems.append(f"{where}: prometheus.io/scrape and "
                            f"prometheus.io/port={metrics} annotations "
                            "missing or different")
    elif "metrics" in ports or annotations.get("prometheus.io/port"):
        problems.append(f"{where}: a metrics port is declared but "
                        "--metrics_port does not serve one")

    # Probes go to the gRPC port: grpc.health.v1, or a TCP check when the
    # port speaks TLS (the kubelet's gRPC probe is plaintext only).
    tls = bool(flags.get("tls_cert_file"))
    for name in PROBES:
        probe = container.get(name)
        if not probe:
            continue
        if probe.get("grpc"):
            target = _container_port(container, probe["grpc"].get("port"))
            if tls:
                problems.append(f"{where}: {name} is a gRPC probe but the "
                                "server speaks TLS (kubelet probes are "
                                "plaintext): use tcpSocket")
        elif probe.get("tcpSocket") and tls:
            target = _container_port(container, probe["tcpSocket"].get("port"))
        else:
            problems.append(f"{where}: {name} is not a gRPC health probe")
            continue
        if listen_port is not None and target != listen_port:
            problems.append(f"{where}: {name} targets port {target}, not the "
                            f"gRPC port {listen_port}")

    _check_mounts(workload, container, flags, problems, where)
    return flags


def _check_mounts(workload, container, flags, problems, where):
    """Every mount names a volume; Secrets are mounted read-only and whole
    (a subPath mount never sees an update of the Secret, so a rotated token
    would not arrive); every file flag names a file a mount provides."""
    volumes = {v.get("name"): v for v in pod_spec(workload).get("volumes")
               or []}
    claims = {(t.get("metadata") or {}).get("name") for t in
              (workload.get("spec") or {}).get("volumeClaimTemplates") or []}
    mounts = container.get("volumeMounts") or []
    for mount in mounts:
        name = mount.get("name")
        volume = volumes.get(name)
        if volume is None:
            if name not in claims:
                problems.append(f"{where}: volumeMount '{name}' names no "
                                "volume of the pod")
            continue
        if "secret" in volume:
            if mount.get("readOnly") is not True:
                problems.append(f"{where}: Secret volume '{name}' is mounted "
                                "without readOnly: true")
            if mount.get("subPath") or mount.get("subPathExpr"):
                problems.append(f"{where}: Secret volume '{name}' is mounted "
                                "with subPath, which never sees an update of "
                                "the Secret")
    for flag in FILE_FLAGS:
        path = flags.get(flag)
        if not path:
            continue
        # The mount whose path is the longest prefix of the file's.
        best = None
        for mount in mounts:
            root = str(mount.get("mountPath", "")).rstrip("/")
            if path.startswith(root + "/") and (
                    best is None or len(root) > len(best[0])):
                best = (root, mount)
        if best is None:
            problems.append(f"{where}: --{flag}={path} is not under any "
                            "volumeMount (the root filesystem is the "
                            "image's)")
            continue
        root, mount = best
        volume = volumes.get(mount.get("name")) or {}
        source = volume.get("secret") or volume.get("configMap")
        if source is None or mount.get("subPath"):
            continue
        items = source.get("items")
        relative = path[len(root) + 1:]
        if items is not None and relative not in [
                i.get("path") for i in items]:
            problems.append(f"{where}: --{flag}={path}: volume "
                            f"'{mount.get('name')}' at {root} projects only "
                            f"{sorted(i.get('path') for i in items)}")


def _check_authorization(servers, problems):
    """Authorization is all or nothing within a namespace: a server that
    checks tokens refuses members that send none, and a server that does
    not check lets anyone in. `servers` holds (workload, container name,
    flags) of every container with --listen."""
    by_namespace = {}
    for server in servers:
        by_namespace.setdefault(namespace_of(server[0]), []).append(server)
    for group in by_namespace.values():
        checking = [s for s in group if s[2].get("auth_tokens_file")]
        for workload, name, flags in group:
            where = f"{describe(workload)} container {name}"
            if not flags.get("auth_tokens_file"):
                for flag in CERT_NAME_FLAGS:
                    if flags.get(flag):
                        problems.append(f"{where}: --{flag} without "
                                        "--auth_tokens_file (the server "
                                        "refuses to start)")
                if checking:
                    problems.append(
                        f"{where}: no --auth_tokens_file while "
                        f"{describe(checking[0][0])} checks tokens: turn "
                        "authorization on in every server or in none")
            elif flags.get("coordinator") and not flags.get("auth_token_file"):
                problems.append(f"{where}: calls the coordinator without "
                                "--auth_token_file while authorization is "
                                "on: its calls would be refused")


def check_invariants(objects):
    """Problems (strings) with a set of rendered objects; [] when fine.

    - every container: liveness and readiness probes; cpu and memory
      requests and limits; runAsNonRoot, not uid 0, readOnlyRootFilesystem,
      no privilege escalation, drops ALL capabilities, seccomp
      RuntimeDefault;
    - every $(VAR) in args resolves; containerPort 'grpc' is --listen's
      port and 'metrics' is --metrics_port (with matching prometheus.io
      annotations); every probe targets the gRPC port (grpc, or tcpSocket
      when --tls_cert_file is set);
    - every volumeMount names a volume; every Secret is mounted read-only
      and without subPath; every file flag (--tls_*_file,
      --auth_tokens_file, --auth_token_file) names a file that a mount
      provides (a projected key, when the volume lists items);
    - authorization is on in every server of a namespace or in none; where
      it is on, every member (a container with --coordinator) sends an
      --auth_token_file; certificate names only with --auth_tokens_file;
    - every StatefulSet has a PodDisruptionBudget selecting its pods, and a
      serviceName naming a rendered Service; an address advertised under a
      Service's DNS name needs that Service headless with
      publishNotReadyAddresses;
    - every Service and PodDisruptionBudget selects some workload's pods, and
      a Service's targetPort is a port of those pods;
    - every HorizontalPodAutoscaler targets a rendered workload that leaves
      spec.replicas to it;
    - every workload's pods are isolated by NetworkPolicies for ingress and
      egress, and each policy's ports are ports of the pods it is about.
    """
    problems = []
    config_maps = {name_of(o): o.get("data") or {} for o in objects
                   if o.get("kind") == "ConfigMap"}
    workloads = [o for o in objects if o.get("kind") in WORKLOAD_KINDS]
    services = [o for o in objects if o.get("kind") == "Service"]
    pdbs = [o for o in objects if o.get("kind") == "PodDisruptionBudget"]
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]

    def selected(selector, namespace):
        return [w for w in workloads if namespace_of(w) == namespace and
                selector_matches(selector, template_labels(w))]

    def pod_ports(workload):
        return [p for c in pod_spec(workload).get("containers") or []
                for p in c.get("ports") or []]

    servers = []

    for workload in workloads:
        if not selector_matches((workload.get("spec") or {}).get("selector"),
                                template_labels(workload)):
            problems.append(f"{describe(workload)}: spec.selector does not "
                            "match the pod template's labels")
        containers = pod_spec(workload).get("containers") or []
        if not containers:
            problems.append(f"{describe(workload)}: no containers")
        for container in containers:
            flags = _check_container(workload, container, config_maps,
                                     problems)
            _check_advertised_name(workload, flags, services, problems)
            if "listen" in flags:
                servers.append((workload, container.get("name"), flags))

        namespace = namespace_of(workload)
        if workload.get("kind") == "StatefulSet":
            if not any(namespace_of(p) == namespace and selector_matches(
                    (p.get("spec") or {}).get("selector"),
                    template_labels(workload)) for p in pdbs):
                problems.append(f"{describe(workload)}: no "
                                "PodDisruptionBudget selects its pods")
            service_name = (workload.get("spec") or {}).get("serviceName")
            if not any(namespace_of(s) == namespace and name_of(s) ==
                       service_name for s in services):
                problems.append(f"{describe(workload)}: serviceName "
                                f"'{service_name}' is not a rendered Service")
        for policy_type in ("Ingress", "Egress"):
            if not any(namespace_of(p) == namespace and policy_type in
                       ((p.get("spec") or {}).get("policyTypes") or []) and
                       selector_matches((p.get("spec") or {}).get(
                           "podSelector"), template_labels(workload))
                       for p in policies):
                problems.append(f"{describe(workload)}: no NetworkPolicy "
                                f"isolates its pods for {policy_type}")

    _check_authorization(servers, problems)

    for service in services:
        spec = service.get("spec") or {}
        targets = selected(spec.get("selector") and
                           {"matchLabels": spec["selector"]},
                           namespace_of(service))
        if not targets:
            problems.append(f"{describe(service)}: selector "
                            f"{spec.get('selector')} matches no workload's "
                            "pods")
            continue
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for workload in targets:
                if not any(target in (p.get("containerPort"), p.get("name"))
                           for p in pod_ports(workload)):
                    problems.append(f"{describe(service)}: targetPort "
                                    f"{target} is not a port of "
                                    f"{describe(workload)}")

    for pdb in pdbs:
        if not selected((pdb.get("spec") or {}).get("selector"),
                        namespace_of(pdb)):
            problems.append(f"{describe(pdb)}: selector matches no "
                            "workload's pods")

    for hpa in (o for o in objects
                if o.get("kind") == "HorizontalPodAutoscaler"):
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        target = [w for w in workloads if namespace_of(w) == namespace_of(hpa)
                  and w.get("kind") == ref.get("kind")
                  and name_of(w) == ref.get("name")]
        if not target:
            problems.append(f"{describe(hpa)}: scaleTargetRef {ref.get('kind')}"
                            f" {ref.get('name')} is not rendered")
        elif "replicas" in (target[0].get("spec") or {}):
            problems.append(f"{describe(target[0])}: sets spec.replicas, "
                            f"which {describe(hpa)} owns (every apply would "
                            "reset the scale)")

    for policy in policies:
        spec = policy.get("spec") or {}
        namespace = namespace_of(policy)
        subjects = selected(spec.get("podSelector"), namespace)
        if not subjects:
            problems.append(f"{describe(policy)}: podSelector matches no "
                            "workload's pods")
        for rule in spec.get("ingress") or []:
            _check_policy_ports(policy, rule, subjects, pod_ports, problems)
        for rule in spec.get("egress") or []:
            # Peers in this namespace, selected by labels: their ports are
            # known here.
            local = [peer["podSelector"] for peer in rule.get("to") or []
                     if peer.get("podSelector") and
                     "namespaceSelector" not in peer]
            if not local:
                continue
            peers = [w for s in local for w in selected(s, namespace)]
            if not peers:
                problems.append(f"{describe(policy)}: an egress rule's "
                                "podSelector matches no workload's pods")
            _check_policy_ports(policy, rule, peers, pod_ports, problems)
    return problems


def _check_policy_ports(policy, rule, pods_of, pod_ports, problems):
    declared = {p.get("containerPort") for w in pods_of for p in pod_ports(w)}
    declared |= {p.get("name") for w in pods_of for p in pod_ports(w)}
    for port in rule.get("ports") or []:
        if pods_of and port.get("port") not in declared:
            problems.append(f"{describe(policy)}: port {port.get('port')} is "
                            "not a port of the pods it is about")


def _check_advertised_name(workload, flags, services, problems):
    """--advertise_address=$(POD_NAME).SERVICE...: only a headless Service
    that publishes not-ready pods gives each pod that name at all times."""
    address = flags.get("advertise_address", "")
    match = re.match(r"<metadata\.name>\.([a-z0-9-]+)\.", address)
    if not match:
        return
    service = [s for s in services if name_of(s) == match.group(1) and
               namespace_of(s) == namespace_of(workload)]
    spec = (service[0].get("spec") or {}) if service else {}
    if not service or spec.get("clusterIP") != "None" or \
            spec.get("publishNotReadyAddresses") is not True:
        problems.append(f"{describe(workload)}: advertises pod names under "
                        f"Service '{match.group(1)}', which must be headless "
                        "(clusterIP: None) with publishNotReadyAddresses")


# --- NetworkPolicy evaluation ---------------------------------------------

class Pod:
    """A connection's end for network_allows: labels of the pod and of its
    namespace."""

    def __init__(self, namespace, labels, namespace_labels=None):
        self.namespace = namespace
        self.labels = dict(labels)
        self.namespace_labels = dict(namespace_labels or {})
        self.namespace_labels.setdefault("kubernetes.io/metadata.name",
                                         namespace)


def _peer_matches(peer, pod, policy_namespace):
    if "ipBlock" in peer:
        return False  # pods here are addressed by selectors only
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is None:
        namespace_ok = pod.namespace == policy_namespace
    else:
        namespace_ok = (namespace_selector == {} or selector_matches(
            namespace_selector, pod.namespace_labels))
    pod_selector = peer.get("podSelector")
    pod_ok = pod_selector is None or pod_selector == {} or selector_matches(
        pod_selector, pod.labels)
    return namespace_ok and pod_ok


def _rules_allow(policies, subject, other, port, direction):
    """None when no policy isolates `subject` in `direction`, else whether
    some rule lets `other` through on `port`."""
    isolating = [p for p in policies
                 if namespace_of(p) == subject.namespace and
                 direction in ((p.get("spec") or {}).get("policyTypes") or [])
                 and _pod_selected((p.get("spec") or {}).get("podSelector"),
                                   subject.labels)]
    if not isolating:
        return None
    key, peers_key = (("ingress", "from") if direction == "Ingress"
                      else ("egress", "to"))
    for policy in isolating:
        for rule in (policy.get("spec") or {}).get(key) or []:
            peers = rule.get(peers_key)
            if peers and not any(_peer_matches(peer, other,
                                               namespace_of(policy))
                                 for peer in peers):
                continue
            ports = rule.get("ports")
            if ports and not any(p.get("port") == port for p in ports):
                continue
            return True
    return False


def _pod_selected(selector, labels):
    return selector == {} or selector_matches(selector, labels)


def network_allows(objects, source, destination, port):
    """Whether the NetworkPolicies in `objects` let `source` open a TCP
    connection to `destination` on `port` (numeric)."""
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    egress = _rules_allow(policies, source, destination, port, "Egress")
    ingress = _rules_allow(policies, destination, source, port, "Ingress")
    return egress is not False and ingress is not False


# --- Command line ----------------------------------------------------------

def check_overlay(kubectl, validator, overlay_dir):
    objects = render(kubectl, overlay_dir)
    problems = check_invariants(objects)
    if validator is not None:
        problems += validator.problems(objects)
    return objects, problems


def main(argv):
    try:
        kubectl = find_kubectl()
    except Unavailable as reason:
        print(f"skipped: {reason}")
        return 0
    try:
        validator = SchemaValidator(schema_dir())
    except Unavailable as reason:
        print(f"note: {reason}")
        validator = None
    targets = argv or list(overlays().values())
    failed = False
    for overlay_dir in targets:
        objects, problems = check_overlay(kubectl, validator, overlay_dir)
        print(f"{overlay_dir}: {len(objects)} objects, "
              f"{len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
