"""The deployment files agree with the code: every command they run names a module that
exists in this repository, and the containers run as a non-root user.

Static checks only (no container engine or cluster is needed): the compose file, the
Kubernetes manifests and the Dockerfile are parsed and compared with the source tree.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from porchlight.kit import grants
from porchlight.runtime.settings import Settings, SettingsError, env_name, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "k8s" / "base"  # the overlays (tests/unit/test_manifests.py) build on it

SERVICES = ("identity", "sharing", "documents", "signatures", "notifications")
WORKERS = ("worker",)
# Compose publishes each gateway on its own port; in Kubernetes each pod has its own
# address, so both listen on 8000 there.
GATEWAYS = {"portal": 8000, "admin": 8001}
K8S_GATEWAY_PORT = 8000
APPLICATIONS = (*SERVICES, *GATEWAYS, *WORKERS)
# Kubernetes also runs the scheduler: a worker pod that alone runs beat (compose's one
# worker runs beat itself).
SCHEDULER = "scheduler"
DEPLOYMENTS = (*APPLICATIONS, SCHEDULER)
INFRASTRUCTURE = ("mongodb", "rabbitmq")
# One-shot jobs of the compose stack (the per-component broker users).
JOBS = ("broker-users",)


# -- helpers ----------------------------------------------------------------------------
@dataclass
class EntryPoint:
    program: str
    module: str
    attribute: str  # the gateway's app factory, or the nameko service class
    config: str


def argv(command: Any) -> list[str]:
    if isinstance(command, str):
        return shlex.split(command)
    assert isinstance(command, list) and all(isinstance(a, str) for a in command), command
    return list(command)


# Options of nameko run / gunicorn that take a separate value.
VALUE_OPTIONS = {"--config", "-c", "--broker", "--backdoor-port", "--bind", "-b", "--workers",
                 "-w", "--worker-class", "-k", "--threads", "--timeout", "--chdir"}


def entry_point(command: Any) -> EntryPoint:
    """What a container command would import: nameko's service module or gunicorn's app."""
    args = argv(command)
    program, rest = args[0], args[1:]
    if program == "nameko":
        assert rest[:1] == ["run"], f"expected 'nameko run ...', got {args}"
        rest = rest[1:]
    else:
        assert program == "gunicorn", f"unexpected program {program!r} in {args}"
    positional, options, i = [], {}, 0
    while i < len(rest):
        arg = rest[i]
        if arg.startswith("-"):
            name, eq, value = arg.partition("=")
            if not eq and name in VALUE_OPTIONS:
                i += 1
                value = rest[i]
            options[name] = value
        else:
            positional.append(arg)
        i += 1
    assert len(positional) == 1, f"expected exactly one module or app in {args}"
    config = options.get("--config", options.get("-c"))
    assert config, f"{args} passes no --config"
    module, _, attribute = positional[0].partition(":")
    # nameko run must name its class: scanning a whole module would touch mongoengine
    # models' ``objects`` before the service has opened its database.
    assert attribute, f"expected 'module:{'factory()' if program == 'gunicorn' else 'Class'}'"
    return EntryPoint(program, module, attribute.removesuffix("()"), config)


def module_file(module: str) -> Path:
    """The repository file a dotted module name imports, failing if it is not in the repo."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"module {module!r} does not resolve"
    path = Path(spec.origin).resolve()
    assert path.is_file() and path.is_relative_to(ROOT), f"{module} is {path}, not in the repo"
    return path


def top_level(path: Path) -> list[ast.stmt]:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body


def defines_function(path: Path, name: str) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in top_level(path))


def nameko_service_names(path: Path, class_name: str) -> set[str]:
    """Values of ``name = "..."`` in the module's top-level class ``class_name``."""
    names = set()
    for node in top_level(path):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for stmt in node.body:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else (
                    [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
                value = getattr(stmt, "value", None)
                if (any(isinstance(t, ast.Name) and t.id == "name" for t in targets)
                        and isinstance(value, ast.Constant) and isinstance(value.value, str)):
                    names.add(value.value)
    return names


def check_entry_point(app: str, command: Any) -> EntryPoint | None:
    """The command runs the right code for ``app`` and that code exists in the repo."""
    if app in (*WORKERS, SCHEDULER):
        # The Celery worker starts as ``python -m workers``: its __main__ must exist and
        # start a worker, with beat where the settings ask for it.
        assert argv(command) == ["python", "-m", "workers"], command
        main = module_file("workers.__main__").read_text(encoding="utf-8")
        assert "worker_main" in main and "--beat" in main
        return None
    ep = entry_point(command)
    path = module_file(ep.module)
    if app in SERVICES:
        assert ep.program == "nameko"
        assert ep.module == f"services.{app}.service"
        assert app in nameko_service_names(path, ep.attribute), (
            f"{path} has no class {ep.attribute} serving nameko service {app!r}"
        )
    else:
        assert ep.program == "gunicorn"
        assert ep.module == f"gateway.{app}.app"
        assert defines_function(path, ep.attribute), f"{path} has no {ep.attribute}()"
    return ep


def interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set in the environment."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: interpolate(str(value)) for key, value in env.items()}


@pytest.fixture(autouse=True)
def repo_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve modules from this checkout, whatever the current directory."""
    monkeypatch.syspath_prepend(str(ROOT))


# -- Dockerfile -------------------------------------------------------------------------
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return instructions[last_from:]


def copied_files() -> dict[str, str]:
    """Destination -> source of the final stage's plain COPY lines (from the context)."""
    copies = {}
    for keyword, rest in final_stage():
        parts = rest.split()
        if keyword == "COPY" and not any(p.startswith("--from") for p in parts):
            sources, destination = [p for p in parts[:-1] if not p.startswith("--")], parts[-1]
            if len(sources) == 1:
                copies[destination] = sources[0]
    return copies


def test_dockerfile_is_multi_stage_and_builds_wheels_in_an_earlier_stage():
    instructions = dockerfile_instructions()
    froms = [rest for kw, rest in instructions if kw == "FROM"]
    assert len(froms) >= 2
    earlier = instructions[: len(instructions) - len(final_stage())]
    assert any(kw == "RUN" and "pip wheel" in rest for kw, rest in earlier)
    assert any(kw == "RUN" and "--find-links" in rest for kw, rest in final_stage())


def test_dockerfile_runs_as_a_non_root_user():
    users = [rest for kw, rest in final_stage() if kw == "USER"]
    assert users, "the final stage sets no USER, so it runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert user == "10001"


def test_dockerfile_has_no_default_service_and_copies_what_commands_need():
    stage = final_stage()
    assert ("WORKDIR", "/app") in stage
    assert not any(kw == "ENTRYPOINT" for kw, _ in stage)
    for keyword, rest in stage:
        if keyword == "CMD":  # allowed only if it starts no service
            program = json.loads(rest)[0] if rest.startswith("[") else rest.split()[0]
            assert program not in ("nameko", "gunicorn")
    copies = copied_files()
    for destination in ("/app/config.yml", "/app/gateway/gunicorn_conf.py"):
        assert destination in copies, f"{destination} is not copied into the image"
        assert (ROOT / copies[destination]).is_file()


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    patterns = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in (".venv", ".git", "tests/output", "bench/results", ".stack"):
        assert required in patterns
    assert any("__pycache__" in p for p in patterns)
    # Nothing the wheel build needs may be excluded.
    assert not patterns & {"pyproject.toml", "porchlight", "services", "gateway", "config.yml"}


# -- docker compose ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def test_compose_names_every_service(compose):
    assert set(compose["services"]) == {*INFRASTRUCTURE, *APPLICATIONS, *JOBS}


def test_every_application_uses_the_same_build_of_the_dockerfile(compose):
    builds = [compose["services"][app].get("build") for app in APPLICATIONS]
    images = {compose["services"][app].get("image") for app in APPLICATIONS}
    assert all(isinstance(b, dict) for b in builds), builds
    assert all(b == builds[0] for b in builds)
    assert len(images) == 1
    context = (COMPOSE.parent / builds[0]["context"]).resolve()
    assert context == ROOT
    assert (context / builds[0]["dockerfile"]).resolve() == DOCKERFILE.resolve()


@pytest.mark.parametrize("app", APPLICATIONS)
def test_compose_command_imports_code_that_exists(compose, app):
    ep = check_entry_point(app, compose["services"][app].get("command"))
    assert ep is None or ep.config in copied_files(), f"{ep.config} is not in the image"


@pytest.mark.parametrize("app", APPLICATIONS)
def test_compose_applications_reach_the_broker_once_it_is_healthy(compose, app):
    # Each as its own user, created by broker-users once the broker is healthy
    # (tests/unit/test_manifests.py checks the users and passwords).
    service = compose["services"][app]
    address = environment(service)["PORCHLIGHT_AMQP_URI"]
    assert address.startswith(f"amqp://porchlight-{app}:") and address.endswith("@rabbitmq:5672/porchlight")
    assert service["depends_on"]["broker-users"]["condition"] == "service_completed_successfully"
    job = compose["services"]["broker-users"]
    assert job["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert compose["services"]["rabbitmq"].get("healthcheck", {}).get("test")


@pytest.mark.parametrize("app", SERVICES)
def test_compose_services_always_get_a_real_database_each_as_its_own_user(compose, app):
    # Without MONGODB_URI a service falls back to a per-process in-memory store; with the
    # administrator's, a leaked service credential would read every service's data.
    address = environment(compose["services"][app])["PORCHLIGHT_MONGODB_URI"]
    variable = f"MONGODB_PASSWORD_{app.upper()}"
    assert address.startswith(f"mongodb://porchlight-{app}:${{{variable}:?")
    assert address.endswith(f"@mongodb:27017/porchlight_{app}?authSource=porchlight_{app}")
    # The database makes that user with its volume, from the same password.
    mongodb = compose["services"]["mongodb"]
    assert variable in environment(mongodb)
    mounted = "./mongodb/init-users.js:/docker-entrypoint-initdb.d/10-porchlight-users.js:ro"
    assert mounted in mongodb["volumes"]
    script = (COMPOSE.parent / "mongodb" / "init-users.js").read_text(encoding="utf-8")
    assert f'"{app}"' in script and '"porchlight-" + service' in script
    assert 'role: "readWrite", db: name' in script


def test_the_database_users_script_is_javascript_mongosh_can_read() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs node to check the script's syntax")
    checked = subprocess.run([node, "--check", str(COMPOSE.parent / "mongodb" / "init-users.js")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(("app", "port"), GATEWAYS.items())
def test_compose_gateways_listen_publish_and_check_their_port(compose, app, port):
    service = compose["services"][app]
    env = environment(service)
    assert env["PORCHLIGHT_GATEWAY_PORT"] == str(port)
    assert env["PORCHLIGHT_PORTAL_BASE_URL"] == "http://localhost:8000"
    published = [interpolate(str(p)) for p in service.get("ports", [])]
    assert any(p.endswith(f":{port}") for p in published), published
    probe = " ".join(argv(service["healthcheck"]["test"]))
    assert f"127.0.0.1:{port}/readyz" in probe and "urllib" in probe


# -- Kubernetes -------------------------------------------------------------------------
def k8s_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    documents = []
    for path in k8s_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is None:
                continue
            assert {"apiVersion", "kind", "metadata"} <= set(doc), path
            assert doc["metadata"].get("name"), path
            documents.append(doc)
    return documents


def of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def only_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [p.name for p in k8s_files()]


def test_every_application_has_a_deployment(manifests):
    assert set(of_kind(manifests, "Deployment")) == set(DEPLOYMENTS)
    assert set(of_kind(manifests, "Namespace")) == {"porchlight"}


@pytest.mark.parametrize("app", DEPLOYMENTS)
def test_deployment_command_imports_code_that_exists(manifests, app):
    container = only_container(of_kind(manifests, "Deployment")[app])
    command = [*container.get("command", []), *container.get("args", [])]
    ep = check_entry_point(app, command)
    assert ep is None or ep.config in copied_files(), f"{ep.config} is not in the image"


@pytest.mark.parametrize("app", DEPLOYMENTS)
def test_deployment_runs_non_root_read_only_and_bounded(manifests, app):
    deployment = of_kind(manifests, "Deployment")[app]
    pod = deployment["spec"]["template"]["spec"]
    container = only_container(deployment)
    pod_sc, sc = pod.get("securityContext", {}), container.get("securityContext", {})
    assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True
    assert sc.get("runAsUser", pod_sc.get("runAsUser", 10001)) != 0
    assert sc.get("readOnlyRootFilesystem") is True
    assert sc.get("allowPrivilegeEscalation") is False
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound])
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("app", DEPLOYMENTS)
def test_deployment_settings_come_from_the_configmap_and_secret(manifests, app):
    container = only_container(of_kind(manifests, "Deployment")[app])
    configmaps, secrets = of_kind(manifests, "ConfigMap"), of_kind(manifests, "Secret")
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] in configmaps
    env = {e["name"]: e for e in container.get("env", [])}
    needed = (("PORCHLIGHT_AMQP_URI", "PORCHLIGHT_MONGODB_URI") if app in SERVICES
              else ("PORCHLIGHT_AMQP_URI",))
    for name in needed:
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["key"] in secrets[ref["name"]]["stringData"]


@pytest.mark.parametrize("app", DEPLOYMENTS)
def test_only_the_services_that_sign_and_check_grants_get_their_key(manifests, compose, app):
    """A portal holding the key could sign itself any customer's grant (porchlight.kit.grants)."""
    container = only_container(of_kind(manifests, "Deployment")[app])
    env = {e["name"]: e for e in container.get("env", [])}
    assert ("PORCHLIGHT_GRANT_KEY" in env) == (app in grants.HOLDERS)
    assert not container.get("envFrom") or all("secretRef" not in s for s in container["envFrom"])
    if app in compose["services"]:
        in_compose = "PORCHLIGHT_GRANT_KEY" in (compose["services"][app].get("environment") or {})
        assert in_compose == (app in grants.HOLDERS)


def test_secret_template_holds_placeholders_only(manifests):
    for secret in of_kind(manifests, "Secret").values():
        assert secret.get("stringData") and not secret.get("data")
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, f"{key} looks like a real credential"


@pytest.mark.parametrize("app", GATEWAYS)
def test_gateway_deployment_probes_its_port_behind_a_service(manifests, app):
    port = K8S_GATEWAY_PORT
    deployment = of_kind(manifests, "Deployment")[app]
    container = only_container(deployment)
    ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
    assert port in ports.values()
    assert {e["name"]: e.get("value") for e in container["env"]}["PORCHLIGHT_GATEWAY_PORT"] == str(port)
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        http = container[probe]["httpGet"]
        assert http["path"] == path
        assert ports.get(http["port"], http["port"]) == port
    service = of_kind(manifests, "Service")[app]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert all(ports.get(p["targetPort"], p["targetPort"]) == port
               for p in service["spec"]["ports"])


# -- settings ---------------------------------------------------------------------------
SETTING_NAMES = {env_name(field): field for field in Settings.model_fields}


def settings_from(env: dict[str, str]) -> Settings:
    """What a process given ``env`` would run with (values that are still placeholders or
    compose's required-variable errors left out)."""
    return load_settings(**{
        SETTING_NAMES[name]: value for name, value in env.items()
        if "CHANGE-ME" not in value and "${" not in value
    })


@pytest.mark.parametrize("app", APPLICATIONS)
def test_compose_sets_only_porchlight_settings_and_valid_ones(compose, app):
    env = environment(compose["services"][app])
    assert set(env) <= set(SETTING_NAMES), f"not Porchlight settings: {set(env) - set(SETTING_NAMES)}"
    settings = settings_from(env)
    assert settings.amqp_uri.startswith("amqp://") and settings.log_level == "INFO"


@pytest.mark.parametrize("app", DEPLOYMENTS)
def test_deployments_set_only_porchlight_settings_and_valid_ones(manifests, app):
    pod = of_kind(manifests, "Deployment")[app]["spec"]["template"]["spec"]
    container = only_container(of_kind(manifests, "Deployment")[app])
    env = dict(next(iter(of_kind(manifests, "ConfigMap").values()))["data"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = of_kind(manifests, "Secret")[ref["name"]]["stringData"][ref["key"]]
    assert set(env) <= set(SETTING_NAMES), f"not Porchlight settings: {set(env) - set(SETTING_NAMES)}"
    settings_from(env)
    # Services in the namespace must not inject PORCHLIGHT_<NAME>_PORT-style variables.
    assert pod.get("enableServiceLinks") is False


def test_the_secret_template_would_stop_the_portal_until_it_is_filled_in(manifests):
    secret = next(iter(of_kind(manifests, "Secret").values()))["stringData"]
    with pytest.raises(SettingsError, match="PORCHLIGHT_SECRET_KEY"):
        load_settings(secret_key=secret["PORCHLIGHT_SECRET_KEY"])
