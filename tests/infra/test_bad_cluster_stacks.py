"""Broken cluster and secrets settings in stack files: exit 2, the key path, what is allowed.

Each case mutates a committed stack file, runs the offline synth on it and asserts the exit
code, the file, the camelCase key path and the message; nothing is written and no value
is echoed where it could be a secret. The capacity check (every app at its autoscaler
maximum must fit the NodePool) has its own tests below, with the numbers it reports.
"""

from __future__ import annotations

import pytest

from infra import synth
from infra.config import StackConfigError, parse
from tests.conftest import load_stack_file

C = "webplatform:cluster"
K = "webplatform:kubernetes"
S = "webplatform:secrets"
A = "webplatform:apps"


def _node(config, path):
    for key in path[:-1]:
        config = config[key]
    return config


def set_(path, value):
    return lambda config: _node(config, path).__setitem__(path[-1], value)


def delete(path):
    return lambda config: _node(config, path).pop(path[-1])


def both(*mutations):
    return lambda config: [m(config) for m in mutations]


CASES = {
    # --- strict booleans: the classes of issue 14 that changed security ---
    "open-to-internet-as-y": (
        "prod",
        both(
            set_([C, "endpoint", "publicAccessCidrs"], ["0.0.0.0/0"]),
            set_([C, "endpoint", "allowOpenToInternet"], "y"),
        ),
        "webplatform:cluster.endpoint.allowOpenToInternet",
        "valid boolean",
    ),
    "open-to-internet-as-1": (
        "prod",
        set_([C, "endpoint", "allowOpenToInternet"], 1),
        "webplatform:cluster.endpoint.allowOpenToInternet",
        "valid boolean",
    ),
    "protect-as-off": (
        "prod",
        set_([C, "protect"], "off"),
        "webplatform:cluster.protect",
        "valid boolean",
    ),
    "protect-as-yes": (
        "prod",
        set_([C, "protect"], "yes"),
        "webplatform:cluster.protect",
        "valid boolean",
    ),
    "argo-enabled-as-string": (
        "staging",
        set_([C, "addons", "argoRollouts", "enabled"], "true"),
        "webplatform:cluster.addons.argoRollouts.enabled",
        "valid boolean",
    ),
    # --- strict numbers ---
    "zones-as-string": (
        "prod",
        set_([C, "vpc", "availabilityZones"], "3"),
        "webplatform:cluster.vpc.availabilityZones",
        "valid integer",
    ),
    "zones-as-float": (
        "prod",
        set_([C, "vpc", "availabilityZones"], 3.0),
        "webplatform:cluster.vpc.availabilityZones",
        "valid integer",
    ),
    "log-retention-as-string": (
        "prod",
        set_([C, "logRetentionDays"], "365"),
        "webplatform:cluster.logRetentionDays",
        "valid integer",
    ),
    "recovery-window-as-bool": (
        "staging",
        set_([S, "recoveryWindowDays"], True),
        "webplatform:secrets.recoveryWindowDays",
        "valid integer",
    ),
    # --- the refresh interval: Go duration syntax, a clean error ---
    "refresh-interval-often": (
        "staging",
        set_([S, "refreshInterval"], "often"),
        "webplatform:secrets.refreshInterval",
        "must be a Go duration such as '1h'",
    ),
    "refresh-interval-days": (
        "staging",
        set_([S, "refreshInterval"], "1d"),
        "webplatform:secrets.refreshInterval",
        "units h, m, s, ms",
    ),
    "refresh-interval-number": (
        "staging",
        set_([S, "refreshInterval"], 3600),
        "webplatform:secrets.refreshInterval",
        "valid string",
    ),
    "refresh-interval-on-kubernetes-secret": (
        "dev",
        set_([S, "refreshInterval"], "1h"),
        "webplatform:secrets.refreshInterval",
        "only with delivery external-secrets",
    ),
    # --- Kubernetes versions ---
    "eks-minor-eks-does-not-offer": (
        "prod",
        set_([K, "version"], "1.36"),
        "webplatform:kubernetes.version",
        "EKS offers 1.30, 1.31, 1.32, 1.33, 1.34, 1.35",
    ),
    "version-as-number": (
        "prod",
        set_([K, "version"], 1.35),
        "webplatform:kubernetes.version",
        "valid string",
    ),
    "version-with-patch": (
        "dev",
        set_([K, "version"], "1.35.2"),
        "webplatform:kubernetes.version",
        "'MAJOR.MINOR'",
    ),
    # --- the node pool ---
    "eks-without-node-pool": (
        "staging",
        delete([C, "nodePool"]),
        "webplatform:cluster.nodePool",
        "required when mode is 'eks'",
    ),
    "old-node-group-key": (
        "prod",
        set_([C, "nodeGroup"], {"instanceTypes": ["m6i.large"]}),
        "webplatform:cluster.nodeGroup",
        "unknown key; allowed: mode, name, vpc, nodePool",
    ),
    "node-pool-cpu-not-a-quantity": (
        "prod",
        set_([C, "nodePool", "cpuLimit"], "sixteen"),
        "webplatform:cluster.nodePool.cpuLimit",
        "is not a CPU quantity",
    ),
    "node-pool-cpu-as-number": (
        "prod",
        set_([C, "nodePool", "cpuLimit"], 16),
        "webplatform:cluster.nodePool.cpuLimit",
        "valid string",
    ),
    "node-pool-memory-unit": (
        "prod",
        set_([C, "nodePool", "memoryLimit"], "64GB"),
        "webplatform:cluster.nodePool.memoryLimit",
        "is not a memory quantity",
    ),
    "node-pool-unknown-category": (
        "prod",
        set_([C, "nodePool", "instanceCategories"], ["g"]),
        "webplatform:cluster.nodePool.instanceCategories[0]",
        "'c', 'm', 'r' or 't'",
    ),
    "node-pool-snake-case-key": (
        "prod",
        set_([C, "nodePool", "cpu_limit"], "16"),
        "webplatform:cluster.nodePool.cpu_limit",
        "unknown key",
    ),
    # --- access and endpoint ---
    "ci-role-not-a-role": (
        "prod",
        set_([C, "access", "ciRoleArn"], "webplatform-deploy"),
        "webplatform:cluster.access.ciRoleArn",
        "must be an IAM role ARN",
    ),
    "admin-roles-empty": (
        "prod",
        set_([C, "access", "adminRoleArns"], []),
        "webplatform:cluster.access.adminRoleArns",
        "name at least one admin role",
    ),
    "admin-is-the-ci-role": (
        "prod",
        set_(
            [C, "access", "adminRoleArns"],
            ["arn:aws:iam::111122223333:role/webplatform-deploy-prod"],
        ),
        "webplatform:cluster.access.adminRoleArns",
        "are named twice",
    ),
    "eks-without-access": (
        "prod",
        delete([C, "access"]),
        "webplatform:cluster.access",
        "required when mode is 'eks'",
    ),
    "cluster-name-with-a-dot": (
        "prod",
        set_([C, "name"], "webplatform.production"),
        "webplatform:cluster.name",
        "letters, digits, '-' or '_'",
    ),
    # --- the VPC ---
    "vpc-nat-old-spelling": (
        "prod",
        set_([C, "vpc", "natGateways"], "per_az"),
        "webplatform:cluster.vpc.natGateways",
        "'single' or 'perAz'",
    ),
    "vpc-protect-is-the-clusters": (
        "prod",
        set_([C, "vpc", "protect"], False),
        "webplatform:cluster.vpc.protect",
        "unknown key; allowed: cidr, availabilityZones, natGateways, flowLogRetentionDays",
    ),
    "vpc-flow-log-retention": (
        "staging",
        set_([C, "vpc", "flowLogRetentionDays"], 31),
        "webplatform:cluster.vpc.flowLogRetentionDays",
        "CloudWatch Logs accepts only",
    ),
    # --- add-ons ---
    "ingress-nginx-is-retired": (
        "prod",
        set_([C, "addons", "ingressNginx"], {"version": "4.12.1"}),
        "webplatform:cluster.addons.ingressNginx",
        "unknown key; allowed: envoyGateway, certManager",
    ),
    "envoy-gateway-missing": (
        "prod",
        delete([C, "addons", "envoyGateway"]),
        "webplatform:cluster.addons.envoyGateway",
        "Field required",
    ),
    "cert-manager-version-range": (
        "prod",
        set_([C, "addons", "certManager", "version"], "~1.21"),
        "webplatform:cluster.addons.certManager.version",
        "exact chart version",
    ),
    "issuer-email": (
        "prod",
        set_([C, "addons", "certManager", "issuer", "email"], "platform"),
        "webplatform:cluster.addons.certManager.issuer.email",
        "not an email address",
    ),
    "issuer-plain-http": (
        "prod",
        set_([C, "addons", "certManager", "issuer", "server"], "http://acme.example"),
        "webplatform:cluster.addons.certManager.issuer.server",
        "must be an https:// URL",
    ),
    "gateway-controller-replicas-zero": (
        "prod",
        set_([C, "addons", "gatewayControllerReplicas"], 0),
        "webplatform:cluster.addons.gatewayControllerReplicas",
        "greater than or equal to 1",
    ),
    # --- secrets ---
    "operator-chart-version-with-v": (
        "prod",
        set_([S, "operator", "chartVersion"], "v2.10.0"),
        "webplatform:secrets.operator.chartVersion",
        "MAJOR.MINOR.PATCH",
    ),
    "operator-overrides-scoping": (
        "prod",
        set_([S, "operator", "values"], {"scopedNamespace": "kube-system"}),
        "webplatform:secrets.operator.values",
        "['scopedNamespace'] are set by the component",
    ),
    "operator-missing": (
        "prod",
        delete([S, "operator"]),
        "webplatform:secrets.operator",
        "required with delivery external-secrets",
    ),
    "key-rotation-too-often": (
        "prod",
        set_([S, "keyRotationPeriodDays"], 30),
        "webplatform:secrets.keyRotationPeriodDays",
        "greater than or equal to 90",
    ),
    "recovery-window-zero-in-production": (
        "prod",
        set_([S, "recoveryWindowDays"], 0),
        "webplatform:secrets.recoveryWindowDays",
        "deletes a production secret at once",
    ),
    "recovery-window-out-of-range": (
        "staging",
        set_([S, "recoveryWindowDays"], 45),
        "webplatform:secrets.recoveryWindowDays",
        "0 (delete at once) or 7 to 30",
    ),
    "rotation-lambda-not-an-arn": (
        "prod",
        set_([S, "rotation"], {"lambdaArn": "rotate", "scheduleExpression": "rate(30 days)"}),
        "webplatform:secrets.rotation.lambdaArn",
        "must be a Lambda function ARN",
    ),
}


def run(stack, mutate, write_stack, tmp_path, capsys):
    document = load_stack_file(stack)
    mutate(document["config"])
    path = write_stack(stack, document)
    out = tmp_path / "out"
    code = synth.main(["--stack", stack, "--config-file", str(path), "--out", str(out)])
    return code, capsys.readouterr().err, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_cluster_or_secrets_setting_exits_2_naming_the_key(case, write_stack, tmp_path, capsys):
    stack, mutate, key_path, allowed = CASES[case]
    code, err, out = run(stack, mutate, write_stack, tmp_path, capsys)
    assert code == 2, err
    assert f"Pulumi.{stack}.yaml: invalid stack configuration" in err
    assert "Traceback" not in err
    line = next((ln for ln in err.splitlines() if ln.strip().startswith(f"{key_path}:")), None)
    assert line is not None, err
    assert allowed in line, line
    assert not out.exists(), "nothing may be written for an invalid stack"


# --- capacity: every app at its most, times its requests, must fit the NodePool --------------


def apps_config(stack):
    return load_stack_file(stack)["config"]


def parse_stack(stack, config, *, secret_keys=()):
    import json

    from infra.config.secret_values import receiver_credential_keys

    flat = {
        key: json.dumps(value) if isinstance(value, dict | list) else value
        for key, value in config.items()
    }
    # The alert receiver's credential is a secret the stack file cannot hold: set it here.
    receiver = {f"webplatform:{k}" for k in receiver_credential_keys(flat)}
    flat.update({key: "https://hooks.example/test" for key in receiver})
    return parse(stack, flat, set(secret_keys) | receiver)


def capacity_problem(stack, mutate):
    config = apps_config(stack)
    mutate(config)
    with pytest.raises(StackConfigError) as raised:
        parse_stack(stack, config, secret_keys={"webplatform:webDatabaseUrl"})
    return raised.value.problems


def test_prod_fits_its_pool_at_the_autoscaler_maximum_with_both_colours():
    # 2 colours x 10 pods x 250m = 5 cores, 5Gi; the pool leaves 16 - 2 = 14 cores, 60Gi.
    config = parse_stack("prod", apps_config("prod"))
    assert config.cluster.node_pool is not None
    assert config.cluster.node_pool.cpu_limit == "16"


def test_too_many_pods_at_the_hpa_maximum_is_refused_with_the_numbers():
    problems = capacity_problem("prod", set_([A, "web", "autoscaling", "maxReplicas"], 40))
    ((key, message),) = problems
    assert key == "webplatform:cluster.nodePool.cpuLimit"
    # 2 colours x 40 pods, plus what each colour's budget (minAvailable 2) lets a drain
    # evict at once (38 + 38): 156 x 250m = 39 cores > 16 - 2.
    assert "16 cores minus reservedCpu 2 leaves 14 for the apps" in message
    assert "they request 39 cores" in message
    assert (
        "web: 156 pods (blue 40 + green 40, maxReplicas 40 + blue 38 + green 38 evicted at "
        "once by a drain (a disruptionBudget per colour), each 250m/256Mi)" in message
    )
    assert "raise cpuLimit or lower maxReplicas or requests.cpu" in message


def test_memory_is_checked_too():
    problems = capacity_problem(
        "prod",
        set_(
            [A, "web", "resources"],
            {
                "requests": {"cpu": "100m", "memory": "4Gi"},
                "limits": {"cpu": "200m", "memory": "4Gi"},
            },
        ),
    )
    ((key, message),) = problems
    assert key == "webplatform:cluster.nodePool.memoryLimit"
    assert "64Gi minus reservedMemory 4Gi leaves 60Gi for the apps" in message
    assert "they request 144Gi" in message  # (20 pods + 8 + 8 drain room) x 4Gi


def test_a_smaller_pool_is_refused_and_the_reserve_counts():
    problems = capacity_problem("staging", set_([C, "nodePool", "cpuLimit"], "3"))
    ((key, message),) = problems
    # staging: (2 colours x 4 pods + 1 evicted at once per colour) x 200m = 2 cores > 3 - 2.
    assert key == "webplatform:cluster.nodePool.cpuLimit"
    assert "leaves 1 for the apps" in message and "request 2 cores" in message


def test_the_drain_room_of_each_colours_budget_is_counted():
    # prod at maxReplicas 25: 50 pods x 250m = 12.5 cores fit 14, but each colour's budget
    # (minAvailable 2) lets a drain evict 23 at once, whose replacements need room too.
    problems = capacity_problem("prod", set_([A, "web", "autoscaling", "maxReplicas"], 25))
    ((key, message),) = problems
    assert key == "webplatform:cluster.nodePool.cpuLimit"
    assert "blue 23 + green 23 evicted at once by a drain" in message


def test_a_rolling_app_counts_its_surge():
    def rolling(config):
        web = config[A]["web"]
        web.pop("blueGreen")
        web["strategy"] = "rolling"
        web["image"] = "ghcr.io/example/web:1.4.2"
        web.pop("disruptionBudget")  # its drain room is counted by its own test
        web["autoscaling"]["maxReplicas"] = 56  # 56 + surge 1 = 57 x 250m = 14.25 > 14

    problems = capacity_problem("prod", rolling)
    ((key, message),) = problems
    assert key == "webplatform:cluster.nodePool.cpuLimit"
    assert "web: 57 pods (maxReplicas 56 + surge 1" in message


def test_the_pool_can_be_raised_to_fit():
    config = apps_config("prod")
    config[A]["web"]["autoscaling"]["maxReplicas"] = 40
    config[C]["nodePool"]["cpuLimit"] = "48"  # 156 pods x 250m = 39 cores + 2 reserved
    parsed = parse_stack("prod", config)
    assert parsed.apps["web"].autoscaling.max_replicas == 40


def test_an_argo_app_counts_both_replica_sets_during_a_rollout():
    def argo(config):
        web = config[A]["web"]
        web.pop("blueGreen")
        web["strategy"] = "argoCanary"
        web["image"] = "ghcr.io/example/web:1.4.2"
        web["argo"] = {"analysis": {"prometheusAddress": "http://prometheus.monitoring:9090"}}
        web.pop("disruptionBudget")
        web["autoscaling"]["maxReplicas"] = 29  # 2 x 29 x 250m = 14.5 > 14
        config[C]["addons"]["argoRollouts"]["enabled"] = True
        config[C]["addons"]["argoRollouts"]["pluginSha256"] = "ab" * 32

    ((key, message),) = capacity_problem("prod", argo)
    assert key == "webplatform:cluster.nodePool.cpuLimit"
    assert "web: 58 pods (2 x maxReplicas 29 during a rollout" in message


def test_a_vpc_overlapping_the_service_range_is_refused():
    problems = capacity_problem("prod", set_([C, "vpc", "cidr"], "172.20.0.0/16"))
    ((key, message),) = problems
    assert key == "webplatform:cluster.vpc.cidr"
    assert "overlaps the cluster's Service range 172.20.0.0/16" in message
