"""The deployment manifests are valid and keep the rules that make Porchlight scale, stay
available and stay isolated (deploy/README.md).

Validity: every Kubernetes object, in the files and in the rendered overlays, is checked
against the schemas of a real Kubernetes version by the ``kubernetes-validate`` package
(strict: an unknown field is an error, so a typo cannot slip through). KEDA's and the
Prometheus Operator's objects are custom resources that package has no schema for; they
are checked against the small schemas below, which hold the fields Porchlight relies on.
Rendering uses ``kubectl kustomize`` (or ``kustomize build``); without either, only the
rendering tests are skipped. ``deploy/docker-compose.yml`` is checked against the Compose
Specification's schema (vendored in deploy/schemas/) with ``jsonschema``.

The rules are then asserted on the objects themselves: probes, resources, disruption
budgets, autoscalers, per-component broker credentials, network policies and compose's
refusal to start without passwords.
"""

from __future__ import annotations

import ast
import ipaddress
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from nameko.rpc import RPC_QUEUE_TEMPLATE

from porchlight.runtime.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAYS = ("dev", "prod")
COMPONENTS_DIRS = ("keda", "monitoring")  # Kustomize Components: optional additions
COMPOSE = DEPLOY / "docker-compose.yml"
COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"

# A Kubernetes version kubernetes-validate ships schemas for, and that the manifests target.
KUBERNETES_VERSION = "1.31"

SERVICES = ("identity", "sharing", "documents", "signatures", "notifications")
WORKER = "worker"
# One worker pod that alone runs beat: never scaled, never two at once.
SCHEDULER = "scheduler"
GATEWAYS = ("portal", "admin")
COMPONENTS = (*SERVICES, WORKER, SCHEDULER, *GATEWAYS)
SCALED = tuple(c for c in COMPONENTS if c != SCHEDULER)
IN_COMPOSE = SCALED  # compose runs one worker, which runs beat itself
# The scheduler is the worker's program: it connects as the worker's broker user.
BROKER_USER = {SCHEDULER: WORKER}
OPS_PORT = 9100
GATEWAY_PORT = 8000
MONGODB_KEY = "PORCHLIGHT_MONGODB_URI"

DNS_PORT, AMQP_PORTS, MONGODB_PORT, SMTP_PORTS = 53, {5671, 5672}, 27017, {25, 465, 587}


# -- reading the manifests ----------------------------------------------------------------
def documents_in(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def manifest_files() -> list[Path]:
    """Every file of Kubernetes objects (the kustomization files themselves excluded)."""
    files = [p for d in (BASE, *(K8S / c for c in COMPONENTS_DIRS)) for p in sorted(d.glob("*.yaml"))]
    return [p for p in files if p.name != "kustomization.yaml"]


def base_objects() -> list[dict[str, Any]]:
    base = yaml.safe_load((BASE / "kustomization.yaml").read_text(encoding="utf-8"))
    objects = [doc for name in base["resources"] for doc in documents_in(BASE / name)]
    for doc in objects:  # as kustomize would: the base's namespace on every namespaced object
        if doc["kind"] != "Namespace":
            doc["metadata"].setdefault("namespace", base["namespace"])
    return objects


def kustomize_command() -> list[str] | None:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


NO_RENDERER = "neither kubectl nor kustomize is installed: the overlays cannot be rendered here " \
              "(the manifest files are still validated one by one)"


@cache
def render(directory: Path) -> tuple[dict[str, Any], ...]:
    command = kustomize_command()
    if command is None:
        pytest.skip(NO_RENDERER)
    result = subprocess.run([*command, str(directory)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, f"{' '.join(command)} {directory} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc is not None)


def render_with_components(tmp_dir: Path, overlay: str) -> tuple[dict[str, Any], ...]:
    """``overlay`` with the optional components added, as deploy/README.md tells a team to.
    Kustomize wants relative paths, so the temporary kustomization points back by one."""
    relative = Path(os.path.relpath(K8S, tmp_dir))
    (tmp_dir / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [str(relative / "overlays" / overlay)],
        "components": [str(relative / c) for c in COMPONENTS_DIRS],
    }), encoding="utf-8")
    return render(tmp_dir)


def of_kind(objects: Any, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container(deployment).get("env", [])}


def secret_keys_used(deployment: dict[str, Any]) -> set[str]:
    """Every key of the Secret the pod can see, by env or envFrom."""
    c = container(deployment)
    keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in c.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})}
    assert not any("secretRef" in source for source in c.get("envFrom", [])), (
        "envFrom a Secret would hand the pod every key, the database's included")
    return keys


# -- schemas of the custom resources --------------------------------------------------------
# kubernetes-validate knows the built-in kinds only. These hold what a ScaledObject,
# TriggerAuthentication and PodMonitor need to work as Porchlight uses them (KEDA's and the
# Prometheus Operator's CRDs are far larger); additionalProperties false at the levels we
# write catches misspelt fields.
_METADATA = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
_SELECTOR = {"type": "object", "required": ["matchLabels"],
             "properties": {"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}}}
CUSTOM_RESOURCE_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("keda.sh/v1alpha1", "ScaledObject"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["scaleTargetRef", "triggers"],
                "additionalProperties": False,
                "properties": {
                    "scaleTargetRef": {
                        "type": "object", "required": ["name"], "additionalProperties": False,
                        "properties": {"apiVersion": {"type": "string"}, "kind": {"const": "Deployment"},
                                       "name": {"type": "string"}},
                    },
                    "minReplicaCount": {"type": "integer", "minimum": 0},
                    "maxReplicaCount": {"type": "integer", "minimum": 1},
                    "pollingInterval": {"type": "integer", "minimum": 1},
                    "cooldownPeriod": {"type": "integer", "minimum": 0},
                    "triggers": {
                        "type": "array", "minItems": 1,
                        "items": {
                            "type": "object", "required": ["type", "metadata"], "additionalProperties": False,
                            "properties": {
                                "type": {"const": "rabbitmq"},
                                "metadata": {
                                    "type": "object",
                                    "required": ["protocol", "mode", "queueName", "value"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "protocol": {"enum": ["amqp", "http", "auto"]},
                                        "mode": {"enum": ["QueueLength", "MessageRate"]},
                                        "queueName": {"type": "string", "minLength": 1},
                                        # KEDA reads trigger metadata as strings only.
                                        "value": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
                                    },
                                },
                                "authenticationRef": {
                                    "type": "object", "required": ["name"], "additionalProperties": False,
                                    "properties": {"name": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    ("keda.sh/v1alpha1", "TriggerAuthentication"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object", "required": ["secretTargetRef"], "additionalProperties": False,
                "properties": {"secretTargetRef": {
                    "type": "array", "minItems": 1,
                    "items": {"type": "object", "required": ["parameter", "name", "key"],
                              "additionalProperties": False,
                              "properties": {"parameter": {"type": "string"}, "name": {"type": "string"},
                                             "key": {"type": "string"}}},
                }},
            },
        },
    },
    ("monitoring.coreos.com/v1", "PodMonitor"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object", "required": ["selector", "podMetricsEndpoints"],
                "additionalProperties": False,
                "properties": {
                    "selector": _SELECTOR,
                    "jobLabel": {"type": "string"},
                    "podMetricsEndpoints": {
                        "type": "array", "minItems": 1,
                        "items": {"type": "object", "required": ["port"], "additionalProperties": False,
                                  "properties": {"port": {"type": "string"}, "path": {"type": "string"},
                                                 "interval": {"type": "string",
                                                              "pattern": "^[0-9]+(ms|s|m|h)$"}}},
                    },
                },
            },
        },
    },
}


def validate_object(obj: dict[str, Any]) -> None:
    """Raise if ``obj`` is not a valid object of its kind."""
    schema = CUSTOM_RESOURCE_SCHEMAS.get((obj.get("apiVersion"), obj.get("kind")))
    if schema is not None:
        jsonschema.Draft202012Validator(schema).validate(obj)
    else:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def assert_all_valid(objects: Any, where: str) -> None:
    problems = []
    for obj in objects:
        try:
            validate_object(obj)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
        except kubernetes_validate.utils.SchemaNotFoundError:
            problems.append(f"{obj['kind']} {obj['apiVersion']}: not in Kubernetes {KUBERNETES_VERSION}")
    assert not problems, f"{where}:\n" + "\n".join(problems)


# -- validity -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_file_is_valid(path):
    objects = documents_in(path)
    assert objects, f"{path} holds no object"
    assert_all_valid(objects, str(path))


def test_the_validation_rejects_a_broken_object():
    """The checks above can fail: a misspelt field and a wrong type are both caught."""
    deployment = json.loads(json.dumps(of_kind(base_objects(), "Deployment")["identity"]))
    container(deployment)["livenessProbes"] = container(deployment).pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_object(deployment)
    scaled = json.loads(json.dumps(next(iter(of_kind(documents_in(K8S / "keda" / "scaledobjects.yaml"),
                                                     "ScaledObject").values()))))
    scaled["spec"]["triggers"][0]["metadata"]["value"] = 5
    with pytest.raises(jsonschema.ValidationError):
        validate_object(scaled)


def test_kustomizations_list_every_file_of_their_directory():
    for directory, key in ((BASE, "resources"), *((K8S / c, "resources") for c in COMPONENTS_DIRS)):
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
        files = sorted(p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml")
        assert sorted(kustomization[key]) == files, directory
    for name in COMPONENTS_DIRS:
        kustomization = yaml.safe_load((K8S / name / "kustomization.yaml").read_text(encoding="utf-8"))
        assert kustomization["kind"] == "Component", f"{name} must stay optional: a Kustomize Component"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlay_is_valid_and_names_a_real_image(overlay):
    objects = render(K8S / "overlays" / overlay)
    assert_all_valid(objects, f"overlays/{overlay}")
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {"porchlight"}
    for deployment in of_kind(objects, "Deployment").values():
        image = container(deployment)["image"]
        assert "/" in image and ":" in image, f"the images: stanza did not name {image!r}'s registry and tag"


def test_rendered_overlay_with_the_optional_components_is_valid(tmp_path):
    objects = render_with_components(tmp_path, "prod")
    assert_all_valid(objects, "overlays/prod + keda + monitoring")
    assert len(of_kind(objects, "ScaledObject")) == len(SERVICES) + 1
    assert len(of_kind(objects, "PodMonitor")) == 1


# -- the rules on every Deployment --------------------------------------------------------
SOURCES = ("base", *OVERLAYS)


def objects_of(source: str) -> Any:
    return base_objects() if source == "base" else render(K8S / "overlays" / source)


@pytest.fixture(params=SOURCES)
def objects(request):
    return objects_of(request.param)


def test_there_is_one_deployment_per_component(objects):
    assert set(of_kind(objects, "Deployment")) == set(COMPONENTS)


@pytest.mark.parametrize("component", COMPONENTS)
def test_deployment_has_requests_and_limits(objects, component):
    resources = container(of_kind(objects, "Deployment")[component]).get("resources", {})
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{component} has no {bound}"


def port_number(c: dict[str, Any], port: int | str) -> int:
    named = {p["name"]: p["containerPort"] for p in c.get("ports", []) if "name" in p}
    return named[port] if isinstance(port, str) else port


@pytest.mark.parametrize("component", COMPONENTS)
def test_deployment_probes_the_ops_conventions(objects, component):
    deployment = of_kind(objects, "Deployment")[component]
    c = container(deployment)
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    assert ports.get("ops") == OPS_PORT, "every pod exposes its /metrics as container port ops"
    assert env_of(deployment)["PORCHLIGHT_OPS_PORT"].get("value") == str(OPS_PORT)
    expected_port = "http" if component in GATEWAYS else "ops"
    if component in GATEWAYS:
        assert ports.get("http") == GATEWAY_PORT
    probes = (("livenessProbe", "/livez"), ("readinessProbe", "/readyz"), ("startupProbe", "/livez"))
    for probe, path in probes:
        assert probe in c, f"{component} has no {probe}"
        http = c[probe]["httpGet"]
        assert http["path"] == path, f"{component} {probe}"
        assert http["port"] == expected_port, f"{component} {probe} probes port {http['port']}"
        assert port_number(c, http["port"]) == ports[expected_port]


def gunicorn_graceful_timeout() -> int:
    """The gateways' graceful_timeout, read from gateway/gunicorn_conf.py."""
    tree = ast.parse((ROOT / "gateway" / "gunicorn_conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        named = isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "graceful_timeout"
                                                     for t in node.targets)
        if named and isinstance(node.value, ast.Constant):
            return int(node.value.value)
    raise AssertionError("gateway/gunicorn_conf.py sets no graceful_timeout")


def pre_stop_sleep(c: dict[str, Any]) -> int:
    command = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    assert command[:1] == ["sleep"] and len(command) == 2, f"preStop is not a sleep: {command}"
    return int(command[1])


@pytest.mark.parametrize("component", COMPONENTS)
def test_deployment_stops_gracefully(objects, component):
    deployment = of_kind(objects, "Deployment")[component]
    grace = deployment["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    c = container(deployment)
    if component in GATEWAYS:
        # The endpoint is removed during the sleep; then gunicorn drains within its
        # graceful_timeout; the kubelet must not kill it before both are over.
        sleep = pre_stop_sleep(c)
        assert 2 <= sleep <= 10
        assert grace == 30 and grace > sleep + gunicorn_graceful_timeout()
    elif component in (WORKER, SCHEDULER):
        assert grace >= 120, "Celery's warm shutdown waits for running PDF and email tasks"
    else:
        assert grace >= 30


@pytest.mark.parametrize("component", SCALED)
def test_deployment_has_a_disruption_budget_and_an_autoscaler(objects, component):
    deployment = of_kind(objects, "Deployment")[component]
    labels = pod_labels(deployment)
    budgets = [p for p in of_kind(objects, "PodDisruptionBudget").values()
               if selects(p["spec"]["selector"], labels)]
    assert len(budgets) == 1, f"{component}: {len(budgets)} PodDisruptionBudgets select its pods"
    spec = budgets[0]["spec"]
    assert spec.get("maxUnavailable") == 1 or spec.get("minAvailable") == 1
    autoscalers = [h for h in of_kind(objects, "HorizontalPodAutoscaler").values()
                   if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                      "name": component}]
    assert len(autoscalers) == 1, f"{component}: {len(autoscalers)} HPAs"
    hpa = autoscalers[0]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"] == ["cpu"]
    assert hpa["spec"]["minReplicas"] == deployment["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_deployment_maps_its_own_broker_credentials(objects, component):
    deployment = of_kind(objects, "Deployment")[component]
    user = BROKER_USER.get(component, component)
    key = f"PORCHLIGHT_AMQP_URI_{user.upper()}"
    ref = env_of(deployment)["PORCHLIGHT_AMQP_URI"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] == key
    secret = of_kind(objects, "Secret")[ref["name"]]["stringData"]
    address = urlsplit(secret[key])
    assert address.username == f"porchlight-{user}" and address.scheme == "amqps"
    assert "CHANGE-ME" in secret[key], "the template must hold placeholders only"
    # No other component's broker key is in reach.
    assert {k for k in secret_keys_used(deployment) if k.startswith("PORCHLIGHT_AMQP_URI")} == {key}


def worker_uses_mongodb() -> bool:
    """Whether any module of workers/ imports a MongoDB client or the services' storage."""
    for path in (ROOT / "workers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in ("pymongo", "mongoengine") or n.startswith("porchlight.kit.storage")
                   for n in names):
                return True
    return False


@pytest.mark.parametrize("component", COMPONENTS)
def test_only_the_services_get_the_database_each_as_its_own_user(objects, component):
    """A service reaches MongoDB with its own key of the Secret (its own database user,
    allowed its own database only); no other pod sees any database key."""
    deployment = of_kind(objects, "Deployment")[component]
    wants = component in SERVICES or (component in (WORKER, SCHEDULER) and worker_uses_mongodb())
    database_keys = {k for k in secret_keys_used(deployment) if k.startswith(MONGODB_KEY)}
    own = f"{MONGODB_KEY}_{component.upper()}"
    assert database_keys == ({own} if wants else set())
    if wants:
        assert env_of(deployment)[MONGODB_KEY]["valueFrom"]["secretKeyRef"]["key"] == own
        [secret] = of_kind(objects, "Secret").values()
        uri = secret["stringData"][own]
        assert f"porchlight-{component}:" in uri
        assert f"/porchlight_{component}?authSource=porchlight_{component}" in uri


def test_exactly_one_pod_runs_beat(objects):
    """Beat queues the timed sweeps: the scheduler's one pod runs it (replaced, never
    doubled, on a rollout; scaled by nothing) and every other worker pod runs without it."""
    beats = []
    for name, deployment in of_kind(objects, "Deployment").items():
        if container(deployment).get("command") == ["python", "-m", "workers"]:
            value = env_of(deployment).get("PORCHLIGHT_WORKER_BEAT", {}).get("value")
            if load_settings(**({"worker_beat": value} if value is not None else {})).worker_beat:
                beats.append(name)
    assert beats == [SCHEDULER]
    scheduler = of_kind(objects, "Deployment")[SCHEDULER]["spec"]
    assert scheduler["replicas"] == 1 and scheduler["strategy"] == {"type": "Recreate"}
    assert all(h["spec"]["scaleTargetRef"]["name"] != SCHEDULER
               for h in of_kind(objects, "HorizontalPodAutoscaler").values())


# -- sizes per overlay ---------------------------------------------------------------------
@pytest.mark.parametrize(("overlay", "check"), [("dev", lambda n: n == 1), ("prod", lambda n: n >= 2)],
                         ids=["dev-one-of-each", "prod-at-least-two"])
def test_overlay_sizes(overlay, check):
    objects = render(K8S / "overlays" / overlay)
    for name, deployment in of_kind(objects, "Deployment").items():
        replicas = deployment["spec"]["replicas"]
        wanted = replicas == 1 if name == SCHEDULER else check(replicas)
        assert wanted, f"{overlay}: {name} has {replicas} replicas"
    for name, hpa in of_kind(objects, "HorizontalPodAutoscaler").items():
        assert check(hpa["spec"]["minReplicas"]), f"{overlay}: HPA {name} min {hpa['spec']['minReplicas']}"


# -- network policies -----------------------------------------------------------------------
def policies_for(objects: Any, labels: dict[str, str], direction: str) -> list[dict[str, Any]]:
    kind = direction.capitalize()
    return [p for p in of_kind(objects, "NetworkPolicy").values()
            if kind in p["spec"].get("policyTypes", []) and selects(p["spec"]["podSelector"], labels)]


def allowed_ports(objects: Any, labels: dict[str, str], direction: str) -> set[int | str]:
    """Ports the policies selecting a pod open in one direction; "any" for a rule without
    ports (every port)."""
    ports: set[int | str] = set()
    for policy in policies_for(objects, labels, direction):
        for rule in policy["spec"].get(direction, []):
            if not rule.get("ports"):
                ports.add("any")
            ports.update(p.get("port", "any") for p in rule.get("ports", []))
    return ports


def test_everything_starts_denied(objects):
    deny = [p for p in of_kind(objects, "NetworkPolicy").values()
            if p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny, "no default-deny NetworkPolicy for ingress and egress"


EXPECTED_EGRESS = {
    **{s: {DNS_PORT, *AMQP_PORTS, MONGODB_PORT} for s in SERVICES},
    WORKER: {DNS_PORT, *AMQP_PORTS, *SMTP_PORTS} | ({MONGODB_PORT} if worker_uses_mongodb() else set()),
    SCHEDULER: {DNS_PORT, *AMQP_PORTS, *SMTP_PORTS} | ({MONGODB_PORT} if worker_uses_mongodb() else set()),
    **{g: {DNS_PORT, *AMQP_PORTS} for g in GATEWAYS},
}


@pytest.mark.parametrize("component", COMPONENTS)
def test_network_policies_open_only_what_the_component_needs(objects, component):
    labels = pod_labels(of_kind(objects, "Deployment")[component])
    egress = allowed_ports(objects, labels, "egress")
    assert egress == EXPECTED_EGRESS[component]
    if component in GATEWAYS:
        assert MONGODB_PORT not in egress and "any" not in egress
    ingress = allowed_ports(objects, labels, "ingress")
    assert ingress == ({GATEWAY_PORT, OPS_PORT} if component in GATEWAYS else {OPS_PORT})


def test_only_prometheus_may_scrape_the_ops_port(objects):
    for policy in of_kind(objects, "NetworkPolicy").values():
        for rule in policy["spec"].get("ingress", []):
            if OPS_PORT in {p.get("port") for p in rule.get("ports", [])}:
                sources = rule.get("from", [])
                monitoring = {"kubernetes.io/metadata.name": "monitoring"}
                assert sources and all(s.get("namespaceSelector", {}).get("matchLabels") == monitoring
                                       for s in sources), policy["metadata"]["name"]


def test_external_addresses_are_placeholders_that_route_nowhere(objects):
    """Until a team sets its broker's and database's addresses, nothing is reachable
    rather than everything: the placeholders are documentation ranges (RFC 5737)."""
    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    for name in ("allow-rabbitmq", "allow-mongodb-from-services"):
        for rule in of_kind(objects, "NetworkPolicy")[name]["spec"]["egress"]:
            for peer in rule["to"]:
                network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
                assert any(network.subnet_of(d) for d in documentation), f"{name}: {network}"


# -- KEDA and Prometheus ---------------------------------------------------------------------
def expected_queue(component: str) -> str:
    if component == WORKER:
        from workers.celery_app import celery
        return celery.conf.task_default_queue
    return RPC_QUEUE_TEMPLATE.format(component)


def test_keda_scales_each_queue_driven_component_on_its_own_queue():
    objects = documents_in(K8S / "keda" / "scaledobjects.yaml")
    scaled, auths = of_kind(objects, "ScaledObject"), of_kind(objects, "TriggerAuthentication")
    assert set(scaled) == {*SERVICES, WORKER}
    for name, obj in scaled.items():
        assert obj["spec"]["scaleTargetRef"]["name"] == name
        assert obj["spec"]["minReplicaCount"] >= 2, "one pod may be drained at a time"
        (trigger,) = obj["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq" and trigger["metadata"]["mode"] == "QueueLength"
        assert trigger["metadata"]["queueName"] == expected_queue(name)
        (ref,) = auths[trigger["authenticationRef"]["name"]]["spec"]["secretTargetRef"]
        assert ref == {"parameter": "host", "name": "porchlight-secrets",
                       "key": f"PORCHLIGHT_AMQP_URI_{name.upper()}"}


def test_keda_component_leaves_no_deployment_with_two_autoscalers(tmp_path):
    objects = render_with_components(tmp_path, "prod")
    hpas, scaled = of_kind(objects, "HorizontalPodAutoscaler"), of_kind(objects, "ScaledObject")
    hpa_targets = [h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()]
    keda_targets = [s["spec"]["scaleTargetRef"]["name"] for s in scaled.values()]
    assert not set(hpa_targets) & set(keda_targets)
    assert sorted(hpa_targets + keda_targets) == sorted(SCALED), "each scaled Deployment keeps one autoscaler"


def test_pod_monitor_scrapes_the_ops_port_of_every_pod():
    (monitor,) = documents_in(K8S / "monitoring" / "podmonitor.yaml")
    for deployment in of_kind(base_objects(), "Deployment").values():
        assert selects(monitor["spec"]["selector"], pod_labels(deployment))
    assert [(e["port"], e.get("path", "/metrics")) for e in monitor["spec"]["podMetricsEndpoints"]] == [
        ("ops", "/metrics")]


def test_prometheus_scrape_config_keeps_porchlight_pods_on_the_ops_port():
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "porchlight"]
    assert [sd["role"] for sd in job["kubernetes_sd_configs"]] == ["pod"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    keeps = {(tuple(r["source_labels"]), r["regex"])
             for r in job["relabel_configs"] if r.get("action") == "keep"}
    assert (("__meta_kubernetes_pod_label_app_kubernetes_io_name",), "porchlight") in keeps
    assert (("__meta_kubernetes_pod_container_port_name",), "ops") in keeps
    # What it keeps exists: every pod carries the label and a port of that name.
    for deployment in of_kind(base_objects(), "Deployment").values():
        assert pod_labels(deployment)["app.kubernetes.io/name"] == "porchlight"
        assert "ops" in {p.get("name") for p in container(deployment)["ports"]}


# -- docker compose -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text) -> dict[str, Any]:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_compose_file_follows_the_compose_specification(compose, compose_validator):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in compose_validator.iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_compose_schema_rejects_a_broken_file(compose, compose_validator):
    broken = json.loads(json.dumps(compose))
    broken["services"]["identity"]["depends_on"]["mongodb"]["condition"] = "service_ready"
    assert not compose_validator.is_valid(broken)


REQUIRED = re.compile(r"\$\{(?P<name>\w+):\?[^}]+\}")


def test_compose_refuses_to_start_without_passwords(compose_text, compose):
    assert "guest" not in compose_text.lower()
    # Every variable that holds a password is required: ${NAME:?message}, never a default.
    for match in re.finditer(r"\$\{(\w*PASSWORD\w*)([^}]*)\}", compose_text):
        assert match.group(2).startswith(":?") and len(match.group(2)) > 2, match.group(0)
    rabbitmq = compose["services"]["rabbitmq"]
    assert rabbitmq["image"] == "rabbitmq:3-management"
    for name in ("RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"):
        assert REQUIRED.fullmatch(rabbitmq["environment"][name]), name
    assert REQUIRED.fullmatch(compose["services"]["mongodb"]["environment"]["MONGO_INITDB_ROOT_PASSWORD"])


@pytest.mark.parametrize("component", IN_COMPOSE)
def test_compose_component_connects_as_its_own_broker_user(compose, component):
    service = compose["services"][component]
    address = service["environment"]["PORCHLIGHT_AMQP_URI"]
    user, _, rest = address.removeprefix("amqp://").partition(":")
    assert user == f"porchlight-{component}"
    password = REQUIRED.match(rest)
    assert password and password["name"] == f"PORCHLIGHT_BROKER_PASSWORD_{component.upper()}"
    assert service["depends_on"]["broker-users"]["condition"] == "service_completed_successfully"
    assert (MONGODB_KEY in service["environment"]) is (component in SERVICES)


def test_compose_creates_the_broker_users_once_before_anything_connects(compose):
    job = compose["services"]["broker-users"]
    assert job["command"][:3] == ["porchlight", "broker-users", "apply"]
    assert job["command"][job["command"].index("--management-url") + 1] == "http://rabbitmq:15672"
    assert job["restart"] == "no", "a one-shot job must not be restarted after it succeeds"
    assert job["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    env = job["environment"]
    for name in ("RABBITMQ_ADMIN_USER", "RABBITMQ_ADMIN_PASSWORD",
                 *(f"PORCHLIGHT_BROKER_PASSWORD_{c.upper()}" for c in IN_COMPOSE)):
        assert REQUIRED.fullmatch(env[name])["name"] == name


def seconds(duration: str) -> int:
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, duration
    return int(parts[1] or 0) * 60 + int(parts[2] or 0)


@pytest.mark.parametrize("component", IN_COMPOSE)
def test_compose_checks_health_and_stops_like_kubernetes(compose, component):
    service = compose["services"][component]
    port = service["environment"].get("PORCHLIGHT_GATEWAY_PORT", str(OPS_PORT))
    assert service["environment"]["PORCHLIGHT_OPS_PORT"] == str(OPS_PORT)
    probe = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/readyz" in probe
    pod = of_kind(base_objects(), "Deployment")[component]["spec"]["template"]["spec"]
    assert seconds(service["stop_grace_period"]) == pod["terminationGracePeriodSeconds"]


def test_dockerfile_logs_json_and_exposes_the_ops_port():
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    env = " ".join(line for line in lines if line.startswith("ENV "))
    assert re.search(r"\bPORCHLIGHT_LOG_FORMAT=json\b", env)
    exposed = {p for line in lines if line.startswith("EXPOSE ") for p in line.split()[1:]}
    assert str(OPS_PORT) in exposed
