"""The deployment files: no container engine runs here, so check what can be checked: they parse, name real
settings, real `kg` commands and real routes, and the env example lists every setting with its default."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT
from starlette.routing import Route

from kg.app import create_app
from kg.cli import app as cli
from kg.settings import Settings

DEPLOY = ROOT / "deploy"
SETTINGS = {f"KG_{name.upper()}" for name in Settings.model_fields}


def kg_variables(text: str) -> set[str]:
    return set(re.findall(r"\bKG_[A-Z_]+\b", text))


def test_env_example_lists_every_setting_with_its_default() -> None:
    text = (DEPLOY / "kg.env.example").read_text()
    assert kg_variables(text) == SETTINGS
    values = dict(line.split("=", 1) for line in text.splitlines() if line.startswith("KG_"))
    assert values["KG_QUERY_TIMEOUT"] == "10.0" and values["KG_PORT"] == "8000" and values["KG_CORS_ORIGINS"] == '["*"]'


def test_every_file_names_only_real_settings() -> None:
    for path in [
        DEPLOY / "Dockerfile",
        DEPLOY / "compose.yaml",
        *sorted((DEPLOY / "k8s").glob("*.yaml")),
        DEPLOY / "README.md",
    ]:
        unknown = kg_variables(path.read_text()) - SETTINGS
        assert unknown == set(), (path.name, unknown)


def test_compose_profiles_and_services() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    profiles = {name: set(s.get("profiles", [])) for name, s in services.items()}
    assert profiles["api-single"] == {"single"}
    assert {"api", "oxigraph", "proxy", "store"} <= {n for n, p in profiles.items() if "scaled" in p}
    assert services["api"]["environment"]["KG_SPARQL_URL"].startswith("http://oxigraph:7878")
    assert services["api"]["deploy"]["replicas"] >= 2
    mounted = {v.split(":")[0] for v in services["proxy"]["volumes"]}
    assert mounted == {"./nginx/nginx.conf", "./nginx/kg-proxy.conf"}
    assert "include /etc/nginx/kg-proxy.conf;" in (DEPLOY / "nginx" / "nginx.conf").read_text()
    assert (DEPLOY / "nginx" / "kg-proxy.conf").read_text().count("proxy_pass http://kg;") == 1


def test_kubernetes_manifests_probe_real_routes() -> None:
    documents = {p.stem: yaml.safe_load(p.read_text()) for p in (DEPLOY / "k8s").glob("*.yaml")}
    kinds = {d["kind"] for d in documents.values()}
    assert kinds == {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "NetworkPolicy"}
    container = documents["deployment"]["spec"]["template"]["spec"]["containers"][0]
    routes = {r.path for r in create_app(Settings()).routes if isinstance(r, Route)}
    assert container["readinessProbe"]["httpGet"]["path"] in routes
    assert container["livenessProbe"]["httpGet"]["path"] in routes
    assert set(documents["configmap"]["data"]) <= SETTINGS


def test_dockerfile_runs_the_commands_the_tests_run() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    commands = {c.name for c in cli.registered_commands} | {g.name for g in cli.registered_groups}
    used = set(re.findall(r"\bkg (\w[\w-]*)", text)) | set(re.findall(r'"kg", "(\w+)"', text))
    assert used <= commands and {"validate", "build", "assets", "serve"} <= used
    assert "kg assets fetch --dir /srv/assets" in text and "KG_ASSETS_DIR=/srv/assets" in text
    assert "USER kg" in text and "HEALTHCHECK" in text and text.count("FROM ") == 2
    assert "/readyz" in text


def memory_bytes(value: str) -> int:
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 10**3, "m": 1 << 20, "g": 1 << 30}
    number = re.fullmatch(r"(\d+)([A-Za-z]*)", value)
    assert number is not None, value
    return int(number.group(1)) * units.get(number.group(2), 1)


def sized(variables: dict[str, str]) -> Settings:
    """The settings that size a container's memory, from its KG_ variables (the defaults where they are unset)."""
    names = ("workers", "sandboxes", "query_memory")
    return Settings(**{n: variables[f"KG_{n.upper()}"] for n in names if f"KG_{n.upper()}" in variables})


def test_the_containers_hold_the_sandboxes_memory_caps() -> None:
    """Each container's memory limit holds its workers and their sandboxes at their caps, so a query that reaches its
    cap fails alone (the sandbox's RLIMIT_DATA) before the container's limit is reached."""
    documents = {p.stem: yaml.safe_load(p.read_text()) for p in (DEPLOY / "k8s").glob("*.yaml")}
    config = sized(documents["configmap"]["data"])
    limit = documents["deployment"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    assert config.workers * (150_000_000 + config.sandboxes * config.query_memory) <= memory_bytes(limit)
    single = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["api-single"]
    composed = sized(single["environment"])
    assert composed.workers * (150_000_000 + composed.sandboxes * composed.query_memory) <= memory_bytes(
        single["mem_limit"]
    )


def test_the_api_pods_may_not_open_connections() -> None:
    documents = {p.stem: yaml.safe_load(p.read_text()) for p in (DEPLOY / "k8s").glob("*.yaml")}
    policy = documents["networkpolicy"]
    pods = documents["deployment"]["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pods.items()
    assert "Egress" in policy["spec"]["policyTypes"] and policy["spec"]["egress"] == []
