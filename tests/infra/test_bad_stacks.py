"""Broken stack files: exit 2, the stack file and key path in the message, nothing written."""

import subprocess
import sys

import pytest

from infra import synth
from tests.conftest import ROOT, load_stack_file


def app(config):
    return config["webplatform:apps"]["web"]


def set_(path, value):
    def mutate(config):
        *parents, last = path
        node = config
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def delete(path):
    def mutate(config):
        *parents, last = path
        node = config
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


A = "webplatform:apps"
K = "webplatform:kubernetes"
CDN = "webplatform:cdn"
CASES = {
    "unknown-environment": (
        "dev",
        set_(["webplatform:environment"], "qa"),
        "webplatform:environment",
        "'dev', 'staging', 'uat' or 'production'",
    ),
    "zero-replicas": (
        "dev",
        set_([A, "web", "replicas"], 0),
        "webplatform:apps.web.replicas",
        "greater than or equal to 1",
    ),
    "replicas-not-a-number": (
        "dev",
        set_([A, "web", "replicas"], "three"),
        "webplatform:apps.web.replicas",
        "valid integer",
    ),
    "prod-single-replica": (
        "prod",
        set_([A, "web", "replicas"], 1),
        "webplatform:apps.web.replicas",
        "production needs at least 2 replicas",
    ),
    "untagged-image": (
        "dev",
        set_([A, "web", "image"], "ghcr.io/example/web"),
        "webplatform:apps.web.image",
        "name a tag or digest",
    ),
    "latest-in-staging": (
        "staging",
        set_([A, "web", "image"], "ghcr.io/example/web:latest"),
        "webplatform:apps.web.image",
        "only allowed in dev",
    ),
    "bad-cpu": (
        "dev",
        set_([A, "web", "resources", "requests", "cpu"], "lots"),
        "webplatform:apps.web.resources.requests.cpu",
        "not a CPU quantity",
    ),
    "request-over-limit": (
        "staging",
        set_([A, "web", "resources", "requests", "memory"], "1Gi"),
        "webplatform:apps.web.resources",
        "exceeds memory_limit",
    ),
    "unknown-app-key": (
        "dev",
        set_([A, "web", "replicaCount"], 2),
        "webplatform:apps.web.replicaCount",
        "unknown key; allowed: image, port",
    ),
    "unknown-top-level-key": (
        "dev",
        set_(["webplatform:replicas"], 3),
        "webplatform:replicas",
        "unknown key; allowed: environment",
    ),
    "old-kubernetes": (
        "prod",
        set_([K, "version"], "1.28"),
        "webplatform:kubernetes.version",
        "Kubernetes 1.30+",
    ),
    "missing-port": (
        "dev",
        delete([A, "web", "port"]),
        "webplatform:apps.web.port",
        "Field required",
    ),
    "port-out-of-range": (
        "dev",
        set_([A, "web", "port"], 70000),
        "webplatform:apps.web.port",
        "less than or equal to 65535",
    ),
    "two-cluster-targets": (
        "dev",
        set_([K, "context"], "kind-x"),
        "webplatform:kubernetes",
        "either context or renderYamlToDirectory",
    ),
    "bad-namespace": (
        "dev",
        set_(["webplatform:namespace"], "Web_Dev"),
        "webplatform:namespace",
        "should match pattern",
    ),
    "bad-app-name": (
        "dev",
        lambda c: c[A].update({"Web": c[A].pop("web")}),
        "webplatform:apps",
        "must be DNS labels",
    ),
    "no-apps": ("dev", set_([A], {}), "webplatform:apps", "at least 1 item"),
    "env-and-secret-overlap": (
        "dev",
        set_([A, "web", "env", "DATABASE_URL"], "x"),
        "webplatform:apps.web",
        "in both env and secretEnv",
    ),
    "secret-in-plain-text": (
        "dev",
        set_(["webplatform:webDatabaseUrl"], "postgres://plain"),
        "webplatform:webDatabaseUrl",
        "stored in plain text",
    ),
    "bad-env-name": (
        "dev",
        set_([A, "web", "env", "1BAD"], "x"),
        "webplatform:apps.web.env",
        "not environment variable names",
    ),
    # --- CDN (issue 7) ---
    "cdn-unknown-provider": (
        "prod",
        set_([CDN, "provider"], "akamai"),
        "webplatform:cdn.provider",
        "'cloudfront', 'cloudflare' or 'none'",
    ),
    "cdn-csp-missing": (
        "prod",
        delete([CDN, "contentSecurityPolicy"]),
        "webplatform:cdn.contentSecurityPolicy",
        "required when provider is cloudfront",
    ),
    "cdn-csp-without-default-src": (
        "staging",
        set_([CDN, "contentSecurityPolicy"], "script-src 'self'"),
        "webplatform:cdn.contentSecurityPolicy",
        "must set default-src",
    ),
    "cdn-certificate-domain-not-the-host": (
        "prod",
        set_([CDN, "cloudfront", "certificateDomain"], "*.example.org"),
        "webplatform:cdn.cloudfront.certificateDomain",
        "does not cover the host 'www.example.com'",
    ),
    "cdn-origin-is-the-host": (
        "prod",
        set_([CDN, "originHost"], "www.example.com"),
        "webplatform:cdn.originHost",
        "the origin must be another name",
    ),
    "cdn-host-is-a-url": (
        "staging",
        set_([CDN, "host"], "https://staging.example.com/"),
        "webplatform:cdn.host",
        "fully qualified host name",
    ),
    "cdn-cloudflare-without-zone": (
        "staging",
        delete([CDN, "cloudflare"]),
        "webplatform:cdn.cloudflare.zoneId",
        "required when provider is cloudflare",
    ),
    "cdn-bad-zone-id": (
        "staging",
        set_([CDN, "cloudflare", "zoneId"], "example.com"),
        "webplatform:cdn.cloudflare.zoneId",
        "Cloudflare zone ID",
    ),
    "cdn-cloudflare-keys-on-cloudfront": (
        "prod",
        set_([CDN, "cloudflare"], {"zoneId": "0123456789abcdef0123456789abcdef"}),
        "webplatform:cdn.cloudflare",
        "only allowed with provider cloudflare",
    ),
    "cdn-none-with-a-host": (
        "dev",
        set_([CDN, "host"], "dev.example.com"),
        "webplatform:cdn.provider",
        "is none, but host is set",
    ),
    "cdn-waf-rate-limit-too-low": (
        "prod",
        set_([CDN, "cloudfront", "wafRateLimit"], 5),
        "webplatform:cdn.cloudfront.wafRateLimit",
        "greater than or equal to 10",
    ),
    "cdn-unknown-price-class": (
        "prod",
        set_([CDN, "cloudfront", "priceClass"], "PriceClass_1"),
        "webplatform:cdn.cloudfront.priceClass",
        "'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'",
    ),
    "cdn-unknown-cloudfront-key": (
        "prod",
        set_([CDN, "cloudfront", "wafRateLimits"], 100),
        "webplatform:cdn.cloudfront.wafRateLimits",
        "unknown key; allowed: hostedZoneId, certificateDomain",
    ),
    "cdn-log-bucket-is-a-domain": (
        "prod",
        set_([CDN, "cloudfront", "accessLogs", "bucket"], "logs.s3.amazonaws.com"),
        "webplatform:cdn.cloudfront.accessLogs.bucket",
        "must be an S3 bucket name",
    ),
    "cloudflare-token-in-plain-text": (
        "staging",
        set_(["cloudflare:apiToken"], "plain-token"),
        "cloudflare:apiToken",
        "stored in plain text",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_stack_file_exits_2_naming_file_and_key(case, write_stack, tmp_path, capsys):
    stack, mutate, key_path, allowed = CASES[case]
    document = load_stack_file(stack)
    mutate(document["config"])
    path = write_stack(stack, document)
    out = tmp_path / "out"
    code = synth.main(["--stack", stack, "--config-file", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"Pulumi.{stack}.yaml: invalid stack configuration" in err
    line = next((ln for ln in err.splitlines() if ln.strip().startswith(f"{key_path}:")), None)
    assert line is not None, err
    assert allowed in line, line
    assert not out.exists(), "nothing may be written for an invalid stack"


def test_unreadable_stack_files_exit_2(write_stack, tmp_path, capsys):
    broken = tmp_path / "Pulumi.dev.yaml"
    broken.write_text("config: [unclosed\n")
    assert (
        synth.main(["--stack", "dev", "--config-file", str(broken), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "Pulumi.dev.yaml: not valid YAML" in capsys.readouterr().err
    assert synth.main(["--stack", "nope", "--out", str(tmp_path / "o")]) == 2
    assert "Pulumi.nope.yaml: no such stack file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_exit_code_and_message_from_a_real_process(write_stack, tmp_path):
    document = load_stack_file("prod")
    document["config"]["webplatform:apps"]["web"]["replicas"] = 1
    path = write_stack("prod", document)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.synth",
            "--stack",
            "prod",
            "--config-file",
            str(path),
            "--out",
            str(tmp_path / "o"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Pulumi.prod.yaml" in result.stderr and "webplatform:apps.web.replicas" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
