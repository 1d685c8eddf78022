"""Broken stack files: exit 2, the stack file and key path in the message, nothing written."""

import subprocess
import sys

import pytest

from infra import synth
from tests.conftest import ROOT, load_stack_file


def app(config):
    return config["webplatform:apps"]["web"]


def _parent(config, path):
    node = config
    for key in path[:-1]:
        node = node[key]
    return node


def set_(path, value):
    return lambda config: _parent(config, path).__setitem__(path[-1], value)


def delete(path):
    return lambda config: _parent(config, path).pop(path[-1])


A = "webplatform:apps"
K = "webplatform:kubernetes"
BGK = [A, "web", "blueGreen"]
S = "webplatform:secrets"
CDN = "webplatform:cdn"
CASES = {
    "secrets-cluster-name-is-the-stacks-own": (
        "prod",
        set_(["webplatform:secrets", "clusterName"], "webplatform-staging"),
        "webplatform:secrets.clusterName",
        "unknown key; allowed: delivery",
    ),
    "ingress-issuer-not-installed": (
        "prod",
        set_([A, "web", "ingress", "issuer"], "letsencrypt-prod"),
        "webplatform:apps.web.ingress.issuer",
        "installs the ClusterIssuer 'letsencrypt'",
    ),
    "argo-without-controller": (
        "prod",
        lambda c: (
            c[A]["web"].pop("blueGreen"),
            c[A]["web"].update(
                {
                    "image": "ghcr.io/example/web:1.4.2",
                    "strategy": "argoCanary",
                    "argo": {"analysis": {"prometheusAddress": "http://p:9090"}},
                }
            ),
        ),
        "webplatform:cluster.addons.argoRollouts.enabled",
        "use an Argo Rollouts strategy",
    ),
    "colour-replicas-with-autoscaling": (
        "prod",
        set_([*BGK, "green", "replicas"], 2),
        "webplatform:apps.web.blueGreen.green.replicas",
        "with autoscaling each colour has its own autoscaler",
    ),
    "unknown-colour": (
        "prod",
        set_([*BGK, "activeColor"], "red"),
        "webplatform:apps.web.blueGreen.activeColor",
        "'blue' or 'green'",
    ),
    "active-colour-scaled-to-zero": (
        "prod",
        set_([*BGK, "blue", "replicas"], 0),
        "webplatform:apps.web.blueGreen.blue.replicas",
        "blue is the active colour and receives traffic",
    ),
    "argo-options-on-blue-green": (
        "prod",
        set_([A, "web", "argo"], {"analysis": {"prometheusAddress": "http://p:9090"}}),
        "webplatform:apps.web.argo",
        "need strategy argoBlueGreen or argoCanary",
    ),
    "argo-options-on-rolling": (
        "dev",
        set_([A, "web", "argo"], {"analysis": {"prometheusAddress": "http://p:9090"}}),
        "webplatform:apps.web.argo",
        "need strategy argoBlueGreen or argoCanary (strategy is rolling)",
    ),
    "single-image-on-blue-green": (
        "prod",
        set_([A, "web", "image"], "ghcr.io/example/web:1.4.2"),
        "webplatform:apps.web.image",
        "names its images per colour",
    ),
    "blue-green-without-colours": (
        "prod",
        delete([*BGK]),
        "webplatform:apps.web.blueGreen",
        "needs blueGreen: {activeColor, blue, green}",
    ),
    "argo-without-analysis": (
        "dev",
        set_([A, "web", "strategy"], "argoCanary"),
        "webplatform:apps.web.argo",
        "needs argo: {analysis: {prometheusAddress}}",
    ),
    "unknown-strategy": (
        "dev",
        set_([A, "web", "strategy"], "recreate"),
        "webplatform:apps.web.strategy",
        "'rolling', 'blueGreen', 'argoBlueGreen' or 'argoCanary'",
    ),
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
        set_([A, "web", "blueGreen", "green", "image"], "ghcr.io/example/web:latest"),
        "webplatform:apps.web.blueGreen.green.image",
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
        "must be '1.30' to '1.37'",
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
        "webplatform:kubernetes.context",
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
    # Guardrails (issue 5).
    "hpa-max-below-replicas": (
        "prod",
        set_([A, "web", "autoscaling", "maxReplicas"], 2),
        "webplatform:apps.web.autoscaling.maxReplicas",
        "below replicas 3",
    ),
    "hpa-min-is-replicas": (
        "prod",
        set_([A, "web", "autoscaling", "minReplicas"], 3),
        "webplatform:apps.web.autoscaling.minReplicas",
        "unknown key; allowed: maxReplicas",
    ),
    "hpa-target-over-100": (
        "prod",
        set_([A, "web", "autoscaling", "cpuUtilization"], 150),
        "webplatform:apps.web.autoscaling.cpuUtilization",
        "less than or equal to 100",
    ),
    "hpa-period-too-long": (
        "prod",
        set_([A, "web", "autoscaling", "scaleDown", "policies", 0, "periodSeconds"], 3600),
        "webplatform:apps.web.autoscaling.scaleDown.policies.0.periodSeconds",
        "less than or equal to 1800",
    ),
    "hpa-no-policies": (
        "prod",
        set_([A, "web", "autoscaling", "scaleUp", "policies"], []),
        "webplatform:apps.web.autoscaling.scaleUp",
        "at least one is required unless select_policy is 'Disabled'",
    ),
    "pdb-blocks-every-drain": (
        "prod",
        set_([A, "web", "disruptionBudget", "minAvailable"], 3),
        "webplatform:apps.web.disruptionBudget",
        "block every voluntary eviction",
    ),
    "pdb-max-unavailable-zero": (
        "staging",
        set_([A, "web", "disruptionBudget", "maxUnavailable"], 0),
        "webplatform:apps.web.disruptionBudget",
        "0 blocks every voluntary eviction",
    ),
    "pdb-both-limits": (
        "staging",
        set_([A, "web", "disruptionBudget", "minAvailable"], 1),
        "webplatform:apps.web.disruptionBudget",
        "not both",
    ),
    "second-app-without-network-policy": (
        "dev",
        lambda c: c[A].update(
            {
                "api": {
                    k: v for k, v in c[A]["web"].items() if k not in ("networkPolicy", "secretEnv")
                }
            }
        ),
        "webplatform:apps.api.networkPolicy",
        "denies all traffic by default",
    ),
    "backend-without-destination": (
        "prod",
        set_([A, "web", "networkPolicy", "backends"], [{"port": 8080}]),
        "webplatform:apps.web.networkPolicy.backends.0",
        "set exactly one",
    ),
    "backend-namespace-not-a-label": (
        "prod",
        set_([A, "web", "networkPolicy", "backends"], [{"namespace": "Back_End", "port": 80}]),
        "webplatform:apps.web.networkPolicy.backends.0.namespace",
        "should match pattern",
    ),
    "monitoring-without-metrics-port": (
        "staging",
        delete([A, "web", "metricsPort"]),
        "webplatform:apps.web.metricsPort",
        "required by monitoring",
    ),
    "ingress-host-not-lowercase": (
        "prod",
        set_([A, "web", "ingress", "host"], "Web.Example.com"),
        "webplatform:apps.web.ingress",
        "fully qualified, lowercase DNS name",
    ),
    "ingress-without-issuer": (
        "prod",
        delete([A, "web", "ingress", "issuer"]),
        "webplatform:apps.web.ingress.issuer",
        "Field required",
    ),
    "monitoring-bad-interval": (
        "staging",
        set_([A, "web", "monitoring", "scrapeInterval"], "often"),
        "webplatform:apps.web.monitoring",
        "Prometheus duration",
    ),
    # Secrets (issue 8).
    "unknown-secret-delivery": (
        "dev",
        set_(["webplatform:secrets", "delivery"], "vault"),
        "webplatform:secrets.delivery",
        "'kubernetes-secret' or 'external-secrets'",
    ),
    "prod-recovery-window-zero": (
        "prod",
        set_([S, "recoveryWindowDays"], 0),
        "webplatform:secrets.recoveryWindowDays",
        "0 deletes a production secret at once",
    ),
    "recovery-window-out-of-range": (
        "staging",
        set_([S, "recoveryWindowDays"], 3),
        "webplatform:secrets.recoveryWindowDays",
        "must be 0 (delete at once) or 7 to 30",
    ),
    "rotation-without-function": (
        "prod",
        set_([S, "rotation"], {"scheduleExpression": "rate(30 days)"}),
        "webplatform:secrets.rotation.lambdaArn",
        "Field required",
    ),
    "rotation-bad-schedule": (
        "prod",
        set_(
            [S, "rotation"],
            {
                "lambdaArn": "arn:aws:lambda:us-west-2:123456789012:function:rotate",
                "scheduleExpression": "monthly",
            },
        ),
        "webplatform:secrets.rotation.scheduleExpression",
        "must be 'rate(N days)', 'rate(N hours)' or 'cron(...)'",
    ),
    "aws-options-in-kubernetes-secret-mode": (
        "dev",
        set_([S, "recoveryWindowDays"], 7),
        "webplatform:secrets.recoveryWindowDays",
        "only with delivery external-secrets",
    ),
    "external-secrets-without-an-eks-cluster": (
        "dev",
        set_([S], {"delivery": "external-secrets", "operator": {"chartVersion": "2.10.0"}}),
        "webplatform:secrets.delivery",
        "external-secrets needs this stack's EKS cluster",
    ),
    "operator-chart-version-range": (
        "staging",
        set_([S, "operator", "chartVersion"], "^2.8"),
        "webplatform:secrets.operator.chartVersion",
        "must be an exact version",
    ),
    "unknown-value-source": (
        "staging",
        set_([S, "valueSource"], "vault"),
        "webplatform:secrets.valueSource",
        "'config' or 'outOfBand'",
    ),
    "value-version-out-of-band": (
        "prod",
        set_([S, "valueVersion"], 2),
        "webplatform:secrets.valueVersion",
        "only with valueSource config",
    ),
    "out-of-band-value-set-in-config": (
        "prod",
        set_(["webplatform:webDatabaseUrl"], {"secure": "v1:AAAA"}),
        "webplatform:webDatabaseUrl",
        "valueSource is outOfBand",
    ),
    "unknown-secrets-key": (
        "staging",
        set_([S, "recoveryDays"], 7),
        "webplatform:secrets.recoveryDays",
        "unknown key; allowed: delivery, valueSource",
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

C = "webplatform:cluster"
CASES.update(
    {
        "eks-kubernetes-below-1-30": (
            "staging",
            set_([K, "version"], "1.29"),
            "webplatform:kubernetes.version",
            "must be '1.30' to '1.37'",
        ),
        "prod-endpoint-open-to-internet": (
            "prod",
            set_([C, "endpoint", "publicAccessCidrs"], ["203.0.113.0/24", "0.0.0.0/0"]),
            "webplatform:cluster.endpoint.publicAccessCidrs",
            "opens the Kubernetes API endpoint to the whole internet",
        ),
        "endpoint-cidr-not-a-cidr": (
            "staging",
            set_([C, "endpoint", "publicAccessCidrs"], ["office"]),
            "webplatform:cluster.endpoint.publicAccessCidrs",
            "is not an IPv4 CIDR",
        ),
        "eks-with-a-kubeconfig-context": (
            "staging",
            set_([K, "context"], "webplatform-staging"),
            "webplatform:kubernetes.context",
            "must not be set when cluster.mode is 'eks'",
        ),
        "eks-rendering-yaml": (
            "prod",
            set_([K, "renderYamlToDirectory"], "build/x"),
            "webplatform:kubernetes.renderYamlToDirectory",
            "must not be set when cluster.mode is 'eks'",
        ),
        "eks-without-vpc": (
            "staging",
            delete([C, "vpc"]),
            "webplatform:cluster.vpc",
            "required when mode is 'eks'",
        ),
        "eks-without-region": (
            "staging",
            delete(["aws:region"]),
            "aws:region",
            "must be set when webplatform:cluster.mode is 'eks'",
        ),
        "existing-with-eks-settings": (
            "dev",
            set_([C, "name"], "webplatform-dev"),
            "webplatform:cluster.name",
            "applies only to mode 'eks'",
        ),
        "unknown-cluster-mode": (
            "dev",
            set_([C, "mode"], "gke"),
            "webplatform:cluster.mode",
            "'existing' or 'eks'",
        ),
        "four-zones": (
            "prod",
            set_([C, "vpc", "availabilityZones"], 4),
            "webplatform:cluster.vpc.availabilityZones",
            "less than or equal to 3",
        ),
        "unknown-nat-mode": (
            "prod",
            set_([C, "vpc", "natGateways"], "none"),
            "webplatform:cluster.vpc.natGateways",
            "'single' or 'perAz'",
        ),
        "public-vpc-cidr": (
            "staging",
            set_([C, "vpc", "cidr"], "8.8.0.0/16"),
            "webplatform:cluster.vpc.cidr",
            "must be a private range from /16 to /20",
        ),
        "node-pool-reserve-over-its-limit": (
            "prod",
            set_([C, "nodePool", "reservedCpu"], "32"),
            "webplatform:cluster.nodePool.reservedCpu",
            "leaves nothing of cpuLimit",
        ),
        "admin-not-a-role": (
            "staging",
            set_([C, "access", "adminRoleArns"], ["arn:aws:iam::111122223333:user/alice"]),
            "webplatform:cluster.access.adminRoleArns.0",
            "must be an IAM role ARN",
        ),
        "chart-version-range": (
            "staging",
            set_([C, "addons", "envoyGateway", "version"], "1.x"),
            "webplatform:cluster.addons.envoyGateway.version",
            "must be an exact chart version",
        ),
        "log-retention-cloudwatch-refuses": (
            "prod",
            set_([C, "logRetentionDays"], 45),
            "webplatform:cluster.logRetentionDays",
            "CloudWatch Logs accepts only",
        ),
        "argo-enabled-without-version": (
            "staging",
            set_([C, "addons", "argoRollouts"], {"enabled": True}),
            "webplatform:cluster.addons.argoRollouts.version",
            "required when enabled is true",
        ),
        "unknown-cluster-key": (
            "prod",
            set_([C, "nodes"], 3),
            "webplatform:cluster.nodes",
            "unknown key; allowed: mode, name, vpc, nodePool, access, endpoint",
        ),
    }
)


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
