"""Broken stack files: exit 2, the file and the key path in the message, no traceback, no
secret value printed, nothing written by synth, and nothing registered by the program.

Each case runs twice: through ``infra.synth`` (in-process, as ``python3 dev.py synth``), and
through the program itself (``infra/__main__.py`` under the recording mocks, reading the stack
file next to ``Pulumi.yaml`` as ``pulumi up`` does, with the engine's config built from the
same file and every ``secure:`` value decrypted to :data:`CANARY`). A case is a mutation of a
committed stack file, or an edit of its text (:class:`Text`) for what a parsed document
cannot hold: duplicate keys, unquoted dates, YAML 1.1 spellings.
"""

import re
import runpy
import subprocess
import sys
from dataclasses import dataclass

import pytest
import yaml

from infra import synth
from infra.config import StackConfigError
from infra.config._source import SourceError, from_file
from tests._edit import delete, set_
from tests.conftest import ROOT, load_stack_file, synth_process
from webplatform import testing

#: What every ``secure:`` value of a case decrypts to in the program run: must never be printed.
CANARY = "c4n4ry-s3cret-value-91f2"
#: A plain value given to credential-like keys: must never be printed either.
PLAIN_CREDENTIAL = "plain-cr3dential-77ab"


@dataclass(frozen=True)
class Text:
    """A case that edits the committed file's text: ``pattern`` (first match) -> ``repl``."""

    pattern: str
    repl: str

    def apply(self, text: str) -> str:
        edited, count = re.subn(self.pattern, self.repl, text, count=1, flags=re.MULTILINE)
        assert count == 1, f"pattern {self.pattern!r} not in the stack file"
        return edited


def app(config):
    return config["webplatform:apps"]["web"]


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
    "route-issuer-not-installed": (
        "prod",
        set_([A, "web", "route", "issuer"], "letsencrypt-prod"),
        "webplatform:apps.web.route.issuer",
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
        "only with strategy argoBlueGreen or argoCanary (not blueGreen)",
    ),
    "argo-options-on-rolling": (
        "dev",
        set_([A, "web", "argo"], {"analysis": {"prometheusAddress": "http://p:9090"}}),
        "webplatform:apps.web.argo",
        "only with strategy argoBlueGreen or argoCanary (not rolling)",
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
        "required by strategy blueGreen: {activeColor, blue, green}",
    ),
    "argo-without-analysis": (
        "dev",
        set_([A, "web", "strategy"], "argoCanary"),
        "webplatform:apps.web.argo",
        "required by strategy argoCanary: {analysis: {prometheusAddress}}",
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
        lambda c: (c[A]["web"].update({"replicas": 1}), c[A]["web"].pop("disruptionBudget")),
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
        "webplatform:apps.web.resources.requests.memory",
        "exceeds limits.memory",
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
        "webplatform:apps.Web",
        "DNS-1035 label",
    ),
    "no-apps": ("dev", set_([A], {}), "webplatform:apps", "at least 1 item"),
    "env-and-secret-overlap": (
        "dev",
        set_([A, "web", "env", "DATABASE_URL"], "x"),
        "webplatform:apps.web.secretEnv",
        "['DATABASE_URL'] are also in env",
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
        "webplatform:apps.web.env.1BAD",
        "should match pattern",
    ),
    # Guardrails (issue 5).
    "hpa-max-below-replicas": (
        "prod",
        set_([A, "web", "autoscaling", "maxReplicas"], 2),
        "webplatform:apps.web.autoscaling.maxReplicas",
        "is below replicas (the autoscaler's minReplicas)",
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
        "webplatform:apps.web.autoscaling.scaleDown.policies[0].periodSeconds",
        "less than or equal to 1800",
    ),
    "hpa-no-policies": (
        "prod",
        set_([A, "web", "autoscaling", "scaleUp", "policies"], []),
        "webplatform:apps.web.autoscaling.scaleUp.policies",
        "at least one is required unless selectPolicy is 'Disabled'",
    ),
    "pdb-blocks-every-drain": (
        "prod",
        set_([A, "web", "disruptionBudget", "minAvailable"], 3),
        "webplatform:apps.web.disruptionBudget.minAvailable",
        "block every voluntary eviction",
    ),
    "pdb-max-unavailable-zero": (
        "staging",
        set_([A, "web", "disruptionBudget", "maxUnavailable"], 0),
        "webplatform:apps.web.disruptionBudget.maxUnavailable",
        "0 blocks every voluntary eviction",
    ),
    "pdb-both-limits": (
        "staging",
        set_([A, "web", "disruptionBudget", "minAvailable"], 1),
        "webplatform:apps.web.disruptionBudget.maxUnavailable",
        "not both",
    ),
    "second-app-without-network-policy": (
        "dev",
        lambda c: c[A].update(
            {
                "api": {
                    k: v
                    for k, v in c[A]["web"].items()
                    if k not in ("networkPolicy", "secretEnv", "route")
                }
            }
        ),
        "webplatform:apps.api.networkPolicy",
        "denies all traffic by default",
    ),
    "backend-without-destination": (
        "prod",
        set_([A, "web", "networkPolicy", "backends"], [{"port": 8080}]),
        "webplatform:apps.web.networkPolicy.backends[0].namespace",
        "set exactly one",
    ),
    "backend-namespace-not-a-label": (
        "prod",
        set_([A, "web", "networkPolicy", "backends"], [{"namespace": "Back_End", "port": 80}]),
        "webplatform:apps.web.networkPolicy.backends[0].namespace",
        "should match pattern",
    ),
    "monitoring-without-metrics-port": (
        "staging",
        delete([A, "web", "metricsPort"]),
        "webplatform:apps.web.metricsPort",
        "required by monitoring",
    ),
    "route-host-not-lowercase": (
        "prod",
        set_([A, "web", "route", "hosts"], ["Web.Example.com"]),
        "webplatform:apps.web.route.hosts[0]",
        "should match pattern",
    ),
    "route-without-issuer": (
        "prod",
        delete([A, "web", "route", "issuer"]),
        "webplatform:apps.web.route.issuer",
        "Field required",
    ),
    "route-without-hosts": (
        "staging",
        set_([A, "web", "route", "hosts"], []),
        "webplatform:apps.web.route.hosts",
        "at least 1 item",
    ),
    "route-host-twice": (
        "staging",
        set_([A, "web", "route", "hosts"], ["a.example.com", "a.example.com"]),
        "webplatform:apps.web.route.hosts",
        "each host may appear once",
    ),
    "route-host-on-two-apps": (
        "staging",
        lambda c: c[A].update({"api": {**c[A]["web"], "secretEnv": {}}}),
        "webplatform:apps.api.route.hosts[0]",
        "staging.example.com is already a host of app web",
    ),
    "route-issuers-disagree": (
        "staging",
        lambda c: c[A].update(
            {
                "api": {
                    **c[A]["web"],
                    "secretEnv": {},
                    "route": {
                        "hosts": ["api.staging.example.com"],
                        "issuer": "other",
                        "issuerKind": "Issuer",
                    },
                }
            }
        ),
        "webplatform:apps.api.route.issuer",
        "the stack's one Gateway has one certificate issuer",
    ),
    "route-old-ingress-key": (
        "prod",
        set_([A, "web", "ingress"], {"host": "web.example.com", "issuer": "letsencrypt"}),
        "webplatform:apps.web.ingress",
        "unknown key; allowed: image, port, replicas, resources, strategy, blueGreen",
    ),
    "route-rate-limit-zero": (
        "prod",
        set_([A, "web", "route", "rateLimit"], {"requests": 0}),
        "webplatform:apps.web.route.rateLimit.requests",
        "greater than or equal to 1",
    ),
    "route-policy-denies-the-gateway": (
        "prod",
        set_([A, "web", "networkPolicy", "gatewayNamespace"], "ingress-nginx"),
        "webplatform:apps.web.networkPolicy.gatewayNamespace",
        "must be envoy-gateway-system",
    ),
    "old-ingress-controller-namespace-key": (
        "dev",
        set_([A, "web", "networkPolicy", "ingressControllerNamespace"], "ingress-nginx"),
        "webplatform:apps.web.networkPolicy.ingressControllerNamespace",
        "unknown key; allowed: gatewayNamespace, monitoringNamespace",
    ),
    "rolling-update-both-zero": (
        "dev",
        set_([A, "web", "rollingUpdate"], {"maxSurge": 0, "maxUnavailable": 0}),
        "webplatform:apps.web.rollingUpdate.maxSurge",
        "cannot both be 0",
    ),
    "rolling-update-surge-not-a-percentage": (
        "dev",
        set_([A, "web", "rollingUpdate"], {"maxSurge": "150"}),
        "webplatform:apps.web.rollingUpdate.maxSurge",
        "percentage string like '25%'",
    ),
    "rolling-update-surge-negative": (
        "dev",
        set_([A, "web", "rollingUpdate"], {"maxSurge": -1}),
        "webplatform:apps.web.rollingUpdate.maxSurge",
        "whole number of pods >= 0",
    ),
    "service-port-is-metrics-port": (
        "prod",
        set_([A, "web", "servicePort"], 9090),
        "webplatform:apps.web.servicePort",
        "must differ from metricsPort",
    ),
    "app-name-starts-with-a-digit": (
        "dev",
        lambda c: c[A].update({"1web": c[A].pop("web")}),
        "webplatform:apps.1web",
        "DNS-1035",
    ),
    "blue-green-derived-name-too-long": (
        "prod",
        lambda c: c[A].update({"w" * 56: c[A].pop("web")}),
        f"webplatform:apps.{'w' * 56}",
        "shorten the app name to at most",
    ),
    "image-with-capitals": (
        "dev",
        set_([A, "web", "image"], "ghcr.io/Example/web:1.4.2"),
        "webplatform:apps.web.image",
        "must be lowercase",
    ),
    "monitoring-bad-interval": (
        "staging",
        set_([A, "web", "monitoring", "scrapeInterval"], "often"),
        "webplatform:apps.web.monitoring.scrapeInterval",
        "should match pattern",
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
    # --- CDN (issue 7; keys of issue 14/15; many more in tests/infra/test_cdn.py) ---
    "cdn-unknown-provider": (
        "prod",
        set_([CDN, "provider"], "akamai"),
        "webplatform:cdn.provider",
        "must be cloudfront, cloudflare or none",
    ),
    "cdn-csp-missing": (
        "prod",
        delete([CDN, "contentSecurityPolicy"]),
        "webplatform:cdn.contentSecurityPolicy",
        "Field required",
    ),
    "cdn-csp-without-default-src": (
        "staging",
        set_([CDN, "contentSecurityPolicy"], "script-src 'self'"),
        "webplatform:cdn.contentSecurityPolicy",
        "must set default-src",
    ),
    "cdn-certificate-domain-not-the-host": (
        "prod",
        set_([CDN, "certificateDomain"], "*.example.org"),
        "webplatform:cdn.certificateDomain",
        "does not cover the host 'www.example.com'",
    ),
    "cdn-origin-is-the-host": (
        "prod",
        set_([CDN, "host"], "origin.example.com"),
        "webplatform:cdn.app",
        "the CDN would be its own origin",
    ),
    "cdn-app-without-route": (
        "prod",
        delete([A, "web", "route"]),
        "webplatform:cdn.app",
        "has no public route",
    ),
    "cdn-host-is-a-url": (
        "prod",
        set_([CDN, "host"], "https://www.example.com/"),
        "webplatform:cdn.host",
        "fully qualified host name",
    ),
    "cdn-cloudflare-without-zone": (
        "staging",
        delete([CDN, "zoneId"]),
        "webplatform:cdn.zoneId",
        "Field required",
    ),
    "cdn-bad-zone-id": (
        "staging",
        set_([CDN, "zoneId"], "example.com"),
        "webplatform:cdn.zoneId",
        "Cloudflare zone ID",
    ),
    "cdn-cloudflare-keys-on-cloudfront": (
        "prod",
        set_([CDN, "zoneId"], "0123456789abcdef0123456789abcdef"),
        "webplatform:cdn.zoneId",
        "unknown key for provider cloudfront",
    ),
    "cdn-none-with-a-host": (
        "dev",
        set_([CDN, "host"], "dev.example.com"),
        "webplatform:cdn.host",
        "unknown key for provider none; allowed: provider",
    ),
    "cdn-waf-rate-limit-too-low": (
        "prod",
        set_([CDN, "wafRateLimit"], 5),
        "webplatform:cdn.wafRateLimit",
        "greater than or equal to 10",
    ),
    "cdn-unknown-price-class": (
        "prod",
        set_([CDN, "priceClass"], "PriceClass_1"),
        "webplatform:cdn.priceClass",
        "'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'",
    ),
    "cdn-unknown-cloudfront-key": (
        "prod",
        set_([CDN, "wafRateLimits"], 100),
        "webplatform:cdn.wafRateLimits",
        "unknown key for provider cloudfront; allowed: app, provider",
    ),
    "cdn-log-bucket-is-a-domain": (
        "prod",
        set_([CDN, "accessLogs", "bucket"], "logs.s3.amazonaws.com"),
        "webplatform:cdn.accessLogs.bucket",
        "not an S3 bucket name",
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
            "webplatform:cluster.access.adminRoleArns[0]",
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


# --- The classes of issue 14's "Why" -------------------------------------------------------
AW = [A, "web"]
SECURE = {"secure": "v1:c2VjcmV0LWNpcGhlcnRleHQ="}
CASES.update(
    {
        # Tracebacks instead of exit 2 (unquoted dates, values the components used to crash on).
        "date-in-env": (
            "dev",
            Text(r"^(      env:\n)", r"\1        RELEASE_DATE: 2024-01-31\n"),
            "webplatform:apps.web.env.RELEASE_DATE",
            "an unquoted date or time",
        ),
        "date-as-environment": (
            "dev",
            Text(r"environment: dev", "environment: 2024-01-31"),
            "webplatform:environment",
            "quote it",
        ),
        "timestamp-in-env": (
            "staging",
            Text(r"^(      env:\n)", r"\1        BUILT_AT: 2024-01-31T10:00:00Z\n"),
            "webplatform:apps.web.env.BUILT_AT",
            "an unquoted date or time",
        ),
        "date-as-namespace": (
            "prod",
            Text(r"namespace: web-production", "namespace: 2026-11-29"),
            "webplatform:namespace",
            "an unquoted date or time",
        ),
        "date-in-list": (
            "prod",
            Text(r"^(        - )203\.0\.113\.0/24$", r"\g<1>2024-01-31"),
            "webplatform:cluster.endpoint.publicAccessCidrs[0]",
            "an unquoted date or time",
        ),
        "date-as-image-tag-key": (
            "dev",
            Text(r"^(      env:\n)", r"\1        2024-01-31: x\n"),
            "webplatform:apps.web.env.2024-01-31",
            "a key must be a string; quote it",
        ),
        "binary-tag": (
            "dev",
            Text(r"LOG_LEVEL: debug", "LOG_LEVEL: !!binary aGVsbG8="),
            "webplatform:apps.web.env.LOG_LEVEL",
            "tag tag:yaml.org,2002:binary is not allowed",
        ),
        "custom-tag": (
            "dev",
            Text(r"LOG_LEVEL: debug", "LOG_LEVEL: !Ref other"),
            "webplatform:apps.web.env.LOG_LEVEL",
            "is not allowed",
        ),
        "set-tag": (
            "dev",
            Text(r"LOG_LEVEL: debug", "LOG_LEVEL: !!set {a, b}"),
            "webplatform:apps.web.env.LOG_LEVEL",
            "is not allowed",
        ),
        "infinite-number": (
            "dev",
            Text(r"replicas: 1", "replicas: .inf"),
            "webplatform:apps.web.replicas",
            "not a finite number",
        ),
        "merge-key": (
            "dev",
            Text(r"^(    web:\n)", r"\1      <<: {port: 8080}\n"),
            "webplatform:apps.web",
            "merge keys ('<<') are not allowed",
        ),
        "integer-key": (
            "dev",
            Text(r"^(      env:\n)", r"\1        8080: x\n"),
            "webplatform:apps.web.env.8080",
            "a key must be a string",
        ),
        "sexagesimal-is-a-string": (
            "dev",
            Text(r"replicas: 1", "replicas: 1:30"),
            "webplatform:apps.web.replicas",
            "valid integer (got '1:30')",
        ),
        "derived-name-too-long": (
            "prod",
            lambda c: (
                c[A].update({"w" * 58: c[A].pop("web")}),
                c["webplatform:cdn"].update(app="w" * 58),  # the CDN fronts the renamed app
            ),
            "webplatform:apps." + "w" * 58,
            "63",
        ),
        "derived-secret-name-too-long": (
            "dev",
            lambda c: c[A].update({"a" * 56: c[A].pop("web")}),
            "webplatform:apps." + "a" * 56,
            "63",
        ),
        "app-name-too-long": (
            "dev",
            lambda c: c[A].update({"a" * 64: c[A].pop("web")}),
            "webplatform:apps." + "a" * 64,
            "at most 63 characters",
        ),
        # Lax coercion that changes security or size.
        "open-to-internet-as-y": (
            "prod",
            set_([C, "endpoint", "allowOpenToInternet"], "y"),
            "webplatform:cluster.endpoint.allowOpenToInternet",
            "valid boolean",
        ),
        "open-to-internet-yaml11-yes": (
            "prod",
            Text(r"(publicAccessCidrs:)", r"allowOpenToInternet: yes\n      \1"),
            "webplatform:cluster.endpoint.allowOpenToInternet",
            "valid boolean (got 'yes')",
        ),
        "protect-off-string": (
            "prod",
            set_([C, "protect"], "off"),
            "webplatform:cluster.protect",
            "valid boolean",
        ),
        "protect-yaml11-off": (
            "prod",
            Text(r"protect: true", "protect: off"),
            "webplatform:cluster.protect",
            "valid boolean (got 'off')",
        ),
        "protect-as-number": (
            "prod",
            set_([C, "protect"], 0),
            "webplatform:cluster.protect",
            "valid boolean",
        ),
        "replicas-true": (
            "dev",
            set_([*AW, "replicas"], True),
            "webplatform:apps.web.replicas",
            "valid integer",
        ),
        "replicas-quoted": (
            "dev",
            set_([*AW, "replicas"], "3"),
            "webplatform:apps.web.replicas",
            "valid integer (got '3')",
        ),
        "replicas-float": (
            "dev",
            set_([*AW, "replicas"], 3.0),
            "webplatform:apps.web.replicas",
            "valid integer",
        ),
        "replicas-float-text": (
            "dev",
            Text(r"replicas: 1", "replicas: 1.0"),
            "webplatform:apps.web.replicas",
            "valid integer",
        ),
        "port-quoted": (
            "dev",
            set_([*AW, "port"], "8080"),
            "webplatform:apps.web.port",
            "valid integer",
        ),
        "service-port-quoted": (
            "dev",
            set_([*AW, "servicePort"], "80"),
            "webplatform:apps.web.servicePort",
            "valid integer",
        ),
        "flow-log-days-float": (
            "prod",
            set_([C, "vpc", "flowLogRetentionDays"], 90.0),
            "webplatform:cluster.vpc.flowLogRetentionDays",
            "valid integer",
        ),
        "zones-quoted": (
            "prod",
            set_([C, "vpc", "availabilityZones"], "3"),
            "webplatform:cluster.vpc.availabilityZones",
            "valid integer",
        ),
        "argo-enabled-string": (
            "staging",
            set_([C, "addons", "argoRollouts", "enabled"], "true"),
            "webplatform:cluster.addons.argoRollouts.enabled",
            "valid boolean",
        ),
        "hpa-max-quoted": (
            "prod",
            set_([*AW, "autoscaling", "maxReplicas"], "10"),
            "webplatform:apps.web.autoscaling.maxReplicas",
            "valid integer",
        ),
        "octal-looking-replicas": (
            "dev",
            Text(r"replicas: 1", "replicas: 0x1"),
            "webplatform:apps.web.replicas",
            None,  # 0x1 is 1 for yaml.v3 and for us: valid; see test below
        ),
        "env-value-number": (
            "dev",
            set_([*AW, "env", "WORKERS"], 4),
            "webplatform:apps.web.env.WORKERS",
            "valid string",
        ),
        "env-value-boolean-yaml": (
            "dev",
            Text(r"LOG_LEVEL: debug", "LOG_LEVEL: true"),
            "webplatform:apps.web.env.LOG_LEVEL",
            "valid string",
        ),
        # snake_case keys, which docs/guides/configuration.md says are errors.
        "snake-service-port": (
            "dev",
            set_([*AW, "service_port"], 8081),
            "webplatform:apps.web.service_port",
            "unknown key (did you mean servicePort?",
        ),
        "snake-node-pool": (
            "prod",
            lambda c: c[C].update({"node_pool": c[C].pop("nodePool")}),
            "webplatform:cluster.node_pool",
            "did you mean nodePool?",
        ),
        "snake-blue-green": (
            "prod",
            lambda c: c[A]["web"].update({"blue_green": c[A]["web"].pop("blueGreen")}),
            "webplatform:apps.web.blue_green",
            "did you mean blueGreen?",
        ),
        "snake-active-color": (
            "prod",
            lambda c: c[A]["web"]["blueGreen"].update(
                {"active_color": c[A]["web"]["blueGreen"].pop("activeColor")}
            ),
            "webplatform:apps.web.blueGreen.active_color",
            "did you mean activeColor?",
        ),
        "snake-max-replicas": (
            "prod",
            lambda c: c[A]["web"]["autoscaling"].update(
                {"max_replicas": c[A]["web"]["autoscaling"].pop("maxReplicas")}
            ),
            "webplatform:apps.web.autoscaling.max_replicas",
            "did you mean maxReplicas?",
        ),
        "snake-render-yaml": (
            "dev",
            lambda c: c[K].update({"render_yaml_to_directory": c[K].pop("renderYamlToDirectory")}),
            "webplatform:kubernetes.render_yaml_to_directory",
            "did you mean renderYamlToDirectory?",
        ),
        "snake-secret-env": (
            "dev",
            lambda c: c[A]["web"].update({"secret_env": c[A]["web"].pop("secretEnv")}),
            "webplatform:apps.web.secret_env",
            "did you mean secretEnv?",
        ),
        "snake-recovery-window": (
            "prod",
            lambda c: c[S].update({"recovery_window_days": c[S].pop("recoveryWindowDays")}),
            "webplatform:secrets.recovery_window_days",
            "did you mean recoveryWindowDays?",
        ),
        "snake-log-retention": (
            "prod",
            lambda c: c[C].update({"log_retention_days": c[C].pop("logRetentionDays")}),
            "webplatform:cluster.log_retention_days",
            "did you mean logRetentionDays?",
        ),
        "snake-content-security-policy": (
            "prod",
            lambda c: c[CDN].update(
                {"content_security_policy": c[CDN].pop("contentSecurityPolicy")}
            ),
            "webplatform:cdn.content_security_policy",
            "did you mean contentSecurityPolicy?",
        ),
        # Duplicate keys: the Pulumi CLI refuses the file; YAML tools keep the last one.
        "duplicate-replicas": (
            "dev",
            Text(r"^(      replicas: 1\n)", r"\1      replicas: 5\n"),
            "webplatform:apps.web.replicas",
            "duplicate key (first on line",
        ),
        "duplicate-app": (
            "dev",
            Text(r"^(  webplatform:apps:\n)", r"\1    web: {}\n"),
            "webplatform:apps.web",
            "duplicate key",
        ),
        "duplicate-top-level-key": (
            "dev",
            Text(r"^(config:\n)", r"\1  webplatform:environment: production\n"),
            "webplatform:environment",
            "duplicate key",
        ),
        "duplicate-across-namespace-spelling": (
            "dev",
            Text(r"^(config:\n)", r"\1  environment: production\n"),
            "webplatform:environment",
            "duplicate key",
        ),
        "duplicate-env-var": (
            "dev",
            Text(r"^(        LOG_LEVEL: debug\n)", r"\1        LOG_LEVEL: info\n"),
            "webplatform:apps.web.env.LOG_LEVEL",
            "duplicate key",
        ),
        "duplicate-protect": (
            "prod",
            Text(r"^(    protect: true\n)", r"\1    protect: false\n"),
            "webplatform:cluster.protect",
            "duplicate key",
        ),
        "duplicate-in-flow-map": (
            "dev",
            Text(r"requests: \{cpu: 100m, memory: 128Mi\}", "requests: {cpu: 100m, cpu: 1}"),
            "webplatform:apps.web.resources.requests.cpu",
            "duplicate key",
        ),
        "duplicate-region": (
            "prod",
            Text(r"^(  aws:region: us-west-2\n)", r"\1  aws:region: us-east-1\n"),
            "aws:region",
            "duplicate key",
        ),
        # Inputs the API server or AWS would refuse.
        "app-name-starts-with-digit": (
            "dev",
            lambda c: c[A].update({"1web": c[A].pop("web")}),
            "webplatform:apps.1web",
            "DNS-1035 label",
        ),
        "app-name-ends-with-dash": (
            "dev",
            lambda c: c[A].update({"web-": c[A].pop("web")}),
            "webplatform:apps.web-",
            "DNS-1035 label",
        ),
        "app-name-with-dot": (
            "dev",
            lambda c: c[A].update({"web.app": c[A].pop("web")}),
            "webplatform:apps.web.app",
            "DNS-1035 label",
        ),
        "aws-region-mars": (
            "prod",
            set_(["aws:region"], "mars-north-1"),
            "aws:region",
            "not an AWS region",
        ),
        "aws-region-uppercase": (
            "staging",
            set_(["aws:region"], "US-WEST-2"),
            "aws:region",
            "not an AWS region",
        ),
        "aws-region-az-not-region": (
            "prod",
            set_(["aws:region"], "us-west-2a"),
            "aws:region",
            "not an AWS region",
        ),
        "collision-preview-service": (
            "prod",
            lambda c: c[A].update({"web-preview": {**copy_app(c, "web", strategy_rolling=True)}}),
            "webplatform:apps.web-preview",
            "Service 'web-preview' in namespace web-production would be created by 'web' and "
            "'web-preview'",
        ),
        "collision-colour-deployment": (
            "prod",
            lambda c: c[A].update({"web-blue": copy_app(c, "web", strategy_rolling=True)}),
            "webplatform:apps.web-blue",
            "Deployment 'web-blue'",
        ),
        "collision-config-map": (
            "dev",
            lambda c: c[A].update(
                {
                    "web-config": {
                        k: v for k, v in c[A]["web"].items() if k not in ("secretEnv", "route")
                    },
                    "web": {**c[A]["web"]},
                }
            ),
            "webplatform:apps.web-config",
            None,  # ConfigMap web-config-config vs web-config: no collision; see below
        ),
        "collision-default-deny": (
            "dev",
            lambda c: c[A].update(
                {
                    "default-deny": {
                        k: v for k, v in c[A]["web"].items() if k not in ("secretEnv", "route")
                    }
                }
            ),
            "webplatform:apps.default-deny",
            "NetworkPolicy 'default-deny' in namespace web-dev would be created by (the stack)",
        ),
        # Secrets: never echoed, kept secret or refused with the fix.
        "secret-replicas-not-echoed": (
            "dev",
            set_([*AW, "replicas"], SECURE),
            "webplatform:apps.web.replicas",
            "valid integer",
        ),
        "secret-namespace-cannot-be-secret": (
            "dev",
            set_(["webplatform:namespace"], SECURE),
            "webplatform:namespace",
            "is a secret as a whole",
        ),
        "secret-image-leaf": (
            "dev",
            set_([*AW, "image"], SECURE),
            "webplatform:apps.web.image",
            None,  # placeholder/canary are not images: refused either way; key path checked
        ),
        "secret-port-leaf": (
            "dev",
            set_([*AW, "resources", "limits", "cpu"], SECURE),
            "webplatform:apps.web.resources.limits.cpu",
            None,
        ),
        "secret-env-with-external-secrets": (
            "staging",
            set_([*AW, "env", "API_KEY"], SECURE),
            "webplatform:apps.web.env.API_KEY",
            "secrets.delivery is external-secrets",
        ),
        "secret-ref-plain": (
            "dev",
            set_(["webplatform:webDatabaseUrl"], PLAIN_CREDENTIAL),
            "webplatform:webDatabaseUrl",
            "is stored in plain text",
        ),
        "env-password-plain": (
            "dev",
            set_([*AW, "env", "DB_PASSWORD"], PLAIN_CREDENTIAL),
            "webplatform:apps.web.env.DB_PASSWORD",
            "pulumi config set --secret --path 'webplatform:apps.web.env.DB_PASSWORD'",
        ),
        "env-token-plain": (
            "dev",
            set_([*AW, "env", "GITHUB_TOKEN"], PLAIN_CREDENTIAL),
            "webplatform:apps.web.env.GITHUB_TOKEN",
            "its name says it holds a credential",
        ),
        "env-secret-plain": (
            "dev",
            set_([*AW, "env", "CLIENT_SECRET"], PLAIN_CREDENTIAL),
            "webplatform:apps.web.env.CLIENT_SECRET",
            "in plain text",
        ),
        "credential-key-wrong-type-not-echoed": (
            "dev",
            set_([*AW, "env", "API_KEY"], 123456789),
            "webplatform:apps.web.env.API_KEY",
            "valid string",
        ),
        # Plain-text provider credentials.
        "aws-access-key-plain": (
            "prod",
            set_(["aws:accessKey"], PLAIN_CREDENTIAL),
            "aws:accessKey",
            "pulumi config set --secret aws:accessKey",
        ),
        "aws-secret-key-plain": (
            "prod",
            set_(["aws:secretKey"], PLAIN_CREDENTIAL),
            "aws:secretKey",
            "a credential must be a secret",
        ),
        "aws-token-plain": (
            "staging",
            set_(["aws:token"], PLAIN_CREDENTIAL),
            "aws:token",
            "a credential must be a secret",
        ),
        "kubeconfig-plain": (
            "dev",
            set_(["kubernetes:kubeconfig"], PLAIN_CREDENTIAL),
            "kubernetes:kubeconfig",
            "pulumi config set --secret kubernetes:kubeconfig",
        ),
        "cloudflare-token-plain": (
            "staging",
            set_(["cloudflare:apiToken"], PLAIN_CREDENTIAL),
            "cloudflare:apiToken",
            "a credential must be a secret",
        ),
        "cloudflare-api-key-plain": (
            "staging",
            set_(["cloudflare:apiKey"], PLAIN_CREDENTIAL),
            "cloudflare:apiKey",
            "a credential must be a secret",
        ),
        "other-provider-password-plain": (
            "dev",
            set_(["postgresql:password"], PLAIN_CREDENTIAL),
            "postgresql:password",
            "a credential must be a secret",
        ),
        "other-provider-token-plain": (
            "dev",
            set_(["github:token"], PLAIN_CREDENTIAL),
            "github:token",
            "a credential must be a secret",
        ),
        "vault-secret-id-plain": (
            "dev",
            set_(["vault:clientSecret"], PLAIN_CREDENTIAL),
            "vault:clientSecret",
            "a credential must be a secret",
        ),
    }
)


# Rules that live in the area models (issue 14 part 1): once tracebacks from the
# components, or accepted. PENDING (strict xfail) holds any such rule whose model has not
# landed yet; none now.
PENDING: dict[str, tuple] = {}
CASES.update(
    {
        "rolling-update-both-zero": (
            "dev",
            set_([*AW, "rollingUpdate"], {"maxSurge": 0, "maxUnavailable": 0}),
            "webplatform:apps.web.rollingUpdate.maxSurge",
            "cannot both be 0",
        ),
        "max-surge-150-string": (
            "dev",
            set_([*AW, "rollingUpdate"], {"maxSurge": "150"}),
            "webplatform:apps.web.rollingUpdate.maxSurge",
            "a percentage string like '25%'",
        ),
        "max-surge-abc": (
            "dev",
            set_([*AW, "rollingUpdate"], {"maxSurge": "abc"}),
            "webplatform:apps.web.rollingUpdate.maxSurge",
            "a percentage string like '25%'",
        ),
        "max-surge-negative": (
            "dev",
            set_([*AW, "rollingUpdate"], {"maxSurge": -1}),
            "webplatform:apps.web.rollingUpdate.maxSurge",
            None,
        ),
        "service-port-equals-metrics-port": (
            "dev",
            lambda c: c[A]["web"].update({"servicePort": 9090, "metricsPort": 9090}),
            "webplatform:apps.web.servicePort",
            "must differ from metricsPort",
        ),
        "image-repository-capitals": (
            "dev",
            set_([*AW, "image"], "ghcr.io/Example/web:1.4.2"),
            "webplatform:apps.web.image",
            "must be lowercase",
        ),
    }
)
CASES.update(PENDING)
CASES["refresh-interval-often"] = (
    "staging",
    set_([S, "refreshInterval"], "often"),
    "webplatform:secrets.refreshInterval",
    "must be a Go duration",
)


def copy_app(config, name, *, strategy_rolling=False):
    """Another app like ``name``: rolling with one image when asked (a blue-green app
    needs its colours)."""
    app = {k: v for k, v in config[A][name].items() if k not in ("secretEnv", "ingress", "route")}
    if strategy_rolling:
        app.pop("blueGreen", None)
        app.pop("strategy", None)
        app["image"] = "ghcr.io/example/web:1.4.2"
    return app


#: Cases whose key path is checked, but not a message fragment (several checks may fire).
LOOSE = {case for case, (_, _, _, fragment) in CASES.items() if fragment is None}
#: Cases that are valid on purpose (documented behaviour, not an error): see their tests.
VALID = {"octal-looking-replicas", "collision-config-map"}


DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _stack_text(stack, mutate):
    if isinstance(mutate, Text):
        return mutate.apply((ROOT / f"Pulumi.{stack}.yaml").read_text())
    document = load_stack_file(stack)
    mutate(document["config"])
    return yaml.dump(document, Dumper=DUMPER, sort_keys=False)  # as safe_dump, on libyaml


def _engine_config(path):
    """What the Pulumi engine would hand the program for this file: every ``secure:``
    value decrypted to CANARY; secrets an app names that the file lacks set to CANARY."""
    try:
        source = from_file(path, "webplatform", CANARY)
    except SourceError:
        return {}, set()  # the CLI itself refuses this file; the program must too
    flat, secret = dict(source.flat), set(source.secret_keys)
    for key in synth.referenced_secret_keys(flat):
        if f"webplatform:{key}" not in flat:
            flat[f"webplatform:{key}"] = CANARY
            secret.add(f"webplatform:{key}")
    return flat, secret


def _run_program(directory, stack, flat, secret):
    """``infra/__main__.py`` as the language host runs it, under the recording mocks, with
    ``pulumi.get_root_directory()`` at ``directory``: what it registered, and what it raised."""
    recording = testing.Recording()
    try:
        testing.run(
            lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__"),
            stack=stack,
            config=flat,
            secret_keys=secret,
            root_directory=str(directory),
            recording=recording,
        )
    except StackConfigError as exc:
        return recording, exc
    return recording, None


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            marks=pytest.mark.xfail(strict=True, reason="rule of an area model not landed yet"),
        )
        if case in PENDING
        else case
        for case in sorted(set(CASES) - VALID)
    ],
)
def test_bad_stack_file_is_refused_before_anything_is_registered(case, tmp_path, capsys):
    stack, mutate, key_path, fragment = CASES[case]
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(_stack_text(stack, mutate))

    # synth: exit 2, the file as given, the key path, no traceback, nothing written.
    out = tmp_path / "out"
    code = synth.main(["--stack", stack, "--config-file", str(path), "--out", str(out)])
    printed = capsys.readouterr()
    err = printed.err
    assert code == 2, err
    assert err.startswith(f"{path}: invalid stack configuration"), err
    line = next((ln for ln in err.splitlines() if ln.strip().startswith(f"{key_path}:")), None)
    assert line is not None, err
    if case not in LOOSE:
        assert fragment in line, line
    assert "Traceback" not in err and printed.out == ""
    assert PLAIN_CREDENTIAL not in err
    assert not out.exists(), "nothing may be written for an invalid stack"

    # The program, as `pulumi up` runs it: the same error, raised before any registration.
    flat, secret = _engine_config(path)
    recording, error = _run_program(tmp_path, stack, flat, secret)
    assert error is not None, f"the program accepted {case}"
    assert recording.resources == [], [r.urn for r in recording.resources]
    message = str(error)
    assert message.startswith(f"Pulumi.{stack}.yaml: invalid stack configuration"), message
    assert f"  {key_path}:" in message, message
    assert CANARY not in message and PLAIN_CREDENTIAL not in message, message
    assert "Traceback" not in message


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_cases_exit_cleanly_as_real_processes(case, tmp_path):
    """The corpus's valid files as a user runs them: exit 0, and no traceback on stderr,
    not even one printed at interpreter exit (issue 25), which capsys cannot see."""
    stack, mutate, _key_path, _fragment = CASES[case]
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(_stack_text(stack, mutate))
    result = synth_process(stack, path, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def test_enough_cases_across_every_class():
    assert len(set(CASES) - VALID - set(PENDING)) >= 120


def test_hex_integers_read_as_the_cli_reads_them(tmp_path):
    """``0x1`` is the integer 1 for yaml.v3 (Go's base-0 parse), and so it is here: valid."""
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(_stack_text("dev", CASES["octal-looking-replicas"][1]))
    source = from_file(path, "webplatform", CANARY)
    assert source.tree["webplatform:apps"]["web"]["replicas"] == 1


def test_suffix_names_that_do_not_collide_are_accepted(tmp_path, capsys):
    """An app named ``web-config`` next to ``web``: ConfigMaps web-config-config and
    web-config, but ``web``'s ConfigMap is ``web-config``: a real collision; checked."""
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(_stack_text("dev", CASES["collision-config-map"][1]))
    code = synth.main(["--stack", "dev", "--config-file", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    # web's ConfigMap is web-config; the app web-config's Service is web-config: different kinds.
    assert code == 0, err


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
    document["config"]["webplatform:apps"]["web"].pop("disruptionBudget")
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
