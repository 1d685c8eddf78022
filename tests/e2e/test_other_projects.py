"""The dev stack rendered by the real engine, and the consumer example, on the same cluster."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT, Engine, Kube, pulumi_env

CONSUMER = ROOT / "examples" / "consumer"


def test_dev_stack_renders_and_the_api_server_accepts_the_files(
    engine: Engine, kube: Kube, tmp_path: Path
) -> None:
    out = tmp_path / "rendered"
    engine.cli("stack", "init", "dev")
    engine.cli("config", "set", "--stack", "dev", "--secret", "webDatabaseUrl", "postgres://dev")
    engine.cli(
        "config",
        "set",
        "--stack",
        "dev",
        "--path",
        "webplatform:kubernetes.renderYamlToDirectory",
        str(out),
    )
    engine.up("dev")
    files = sorted(out.rglob("*.yaml"))
    assert len(files) >= 8, files
    namespaces = [f for f in files if "namespace" in f.name.lower() and "-web-dev" in f.name]
    # Namespaced objects need their namespace to exist even for a dry run: create it for real.
    kube("apply", "--server-side", "-f", str(namespaces[0]))
    try:
        result = kube("apply", "--server-side", "--dry-run=server", "-R", "-f", str(out))
        assert "(server dry run)" in result.stdout
        assert result.stdout.count("(server dry run)") == len(files), result.stdout
    finally:
        kube("delete", "namespace", "web-dev", "--wait=true")
    engine.destroy("dev")


def _consumer_program() -> None:
    if str(CONSUMER) not in sys.path:
        sys.path.insert(0, str(CONSUMER))
    from shop import ShopConfig, build

    build(ShopConfig.from_pulumi())


def test_consumer_example_up_against_the_same_cluster(
    engine: Engine, kube: Kube, tmp_path: Path
) -> None:
    work = tmp_path / "consumer"
    work.mkdir()
    shutil.copy(CONSUMER / "Pulumi.yaml", work / "Pulumi.yaml")
    env = pulumi_env(engine.bindir, kube.kubeconfig, tmp_path / "pulumi")
    shop = Engine(engine.bindir, env, work, "shop", _consumer_program, transcript=engine.transcript)
    shop.cli("stack", "init", "e2e")
    for key, value in {
        "namespace": "shop-e2e",
        "kubeContext": "webplatform-local",
        "activeColor": "blue",
        "blueImage": "ghcr.io/acme/shop-web:2.3.1",
        "greenImage": "ghcr.io/acme/shop-web:2.3.1",
    }.items():
        shop.cli("config", "set", "--stack", "e2e", f"shop:{key}", value)
    result = shop.up("e2e")
    assert result.summary.result == "succeeded"
    deployments = kube.json("get", "deployments", "-n", "shop-e2e")["items"]
    assert len(deployments) == 2
    assert all(d["status"].get("availableReplicas", 0) >= 1 for d in deployments)
    shop.destroy("e2e")
    assert kube("get", "namespace", "shop-e2e", check=False).returncode != 0
