"""Composition: validated stack config in, components out.

The only place that reads ``pulumi.Config``; components get plain, validated
arguments and the Kubernetes provider through ``opts``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import DefaultDeny, DefaultDenyArgs, Namespace, NamespaceArgs, WebApp, WebAppArgs
from components.external_secrets import (
    ExternalSecretsOperator,
    ExternalSecretSync,
    ExternalSecretSyncArgs,
)
from components.secrets import AppSecrets, AppSecretsArgs
from infra.config import NAMESPACE, AppSpec, KubernetesSpec, StackConfig, from_pulumi

SecretLookup = Callable[[str], pulumi.Output[str]]


def kubernetes_provider(spec: KubernetesSpec) -> k8s.Provider:
    """The one provider every Kubernetes object of the stack is created with.

    ``renderYamlToDirectory`` makes ``pulumi up`` write manifests instead of
    applying them, so the dev stack works with no cluster at all. Note that
    in that mode Secret manifests are written to disk in plain text.
    """
    return k8s.Provider(
        "kubernetes",
        k8s.ProviderArgs(
            context=spec.context,
            render_yaml_to_directory=spec.render_yaml_to_directory,
            enable_server_side_apply=True,
        ),
    )


def _app_args(
    config: StackConfig,
    namespace: pulumi.Input[str],
    app: AppSpec,
    secret: SecretLookup,
    external_secret_name: pulumi.Input[str] | None = None,
) -> WebAppArgs:
    extra: dict[str, Any] = {}
    if app.liveness is not None:
        extra["liveness"] = app.liveness.to_args()
    if app.readiness is not None:
        extra["readiness"] = app.readiness.to_args()
    extra.update(_guardrail_args(app))
    return WebAppArgs(
        namespace=namespace,
        image=app.image,
        release=app.release(),
        port=app.port,
        replicas=None if app.autoscaling is not None else app.replicas,
        resources=app.resources.to_args(),
        service_port=app.service_port,
        metrics_port=app.metrics_port,
        env=app.env,
        secret_env={}
        if external_secret_name is not None
        else {env: secret(key) for env, key in app.secret_env.items()},
        external_secret_name=external_secret_name,
        max_surge=app.rolling_update.max_surge,
        max_unavailable=app.rolling_update.max_unavailable,
        labels={"webplatform.io/environment": config.environment},
        **extra,
    )


def _guardrail_args(app: AppSpec) -> dict[str, Any]:
    """WebAppArgs for the guardrails a stack file asked for; with an HPA, ``replicas`` is its floor."""
    found: dict[str, Any] = {}
    if app.autoscaling is not None:
        found["autoscaling"] = app.autoscaling.to_args(min_replicas=app.replicas)
    if app.disruption_budget is not None:
        found["disruption_budget"] = app.disruption_budget.to_args()
    if app.network_policy is not None:
        found["network_policy"] = app.network_policy.to_args()
    if app.ingress is not None:
        found["ingress"] = app.ingress.to_args()
    if app.monitoring is not None:
        found["monitoring"] = app.monitoring.to_args()
    return found


def build(config: StackConfig, secret: SecretLookup) -> dict[str, Any]:
    """Create the stack's resources; return the outputs to export."""
    provider = kubernetes_provider(config.kubernetes)
    opts = pulumi.ResourceOptions(provider=provider)
    namespace = Namespace(config.namespace, NamespaceArgs(name=config.namespace), opts=opts)
    if any(app.network_policy is not None for app in config.apps.values()):
        # Validated: then every app has its own allow-list on top of this.
        DefaultDeny(
            config.namespace,
            DefaultDenyArgs(namespace=namespace.name),
            opts=pulumi.ResourceOptions(provider=provider, parent=namespace),
        )
    external: dict[str, pulumi.Output[str]] = {}
    if config.secrets.delivery == "external-secrets":
        external = external_secrets(config, namespace.name, provider, secret)
    apps = {
        name: WebApp(
            name, _app_args(config, namespace.name, spec, secret, external.get(name)), opts=opts
        )
        for name, spec in config.apps.items()
    }
    return {
        "environment": config.environment,
        "namespace": namespace.name,
        "apps": {
            name: {
                "service": app.service_name,
                "url": app.internal_url,
                "public_url": app.public_url,
            }
            for name, app in apps.items()
        },
    }


def external_secrets(
    config: StackConfig,
    namespace: pulumi.Input[str],
    provider: k8s.Provider,
    secret: SecretLookup,
) -> dict[str, pulumi.Output[str]]:
    """``external-secrets`` delivery: per app with secrets, a KMS-encrypted Secrets Manager secret
    and an ExternalSecret that writes ``<app>-secrets``; once per stack, the operator and its
    Pod Identity role reading exactly those secrets. Returns app -> Kubernetes Secret name.

    Order matters on a live cluster: the Pod Identity association exists before the
    operator's pods start (EKS injects credentials only into pods created after it), and
    the ExternalSecrets come after the operator. The operator install and the role are
    cluster add-ons: they move to the cluster component when there is one (issue 6).
    """
    spec = config.secrets
    assert spec.operator is not None and spec.cluster_name is not None  # validated
    tuning: dict[str, Any] = {}
    if spec.recovery_window_days is not None:
        tuning["recovery_window_days"] = spec.recovery_window_days
    if spec.value_version is not None:
        tuning["value_version"] = spec.value_version
    if spec.rotation is not None:
        tuning["rotation"] = spec.rotation.to_args()
    stored: dict[str, AppSecrets] = {}
    for app_name, app in config.apps.items():
        if not app.secret_env:
            continue
        values = (
            {env: secret(key) for env, key in app.secret_env.items()} if spec.from_config else None
        )
        stored[app_name] = AppSecrets(
            f"{app_name}-secrets",
            AppSecretsArgs(
                app=app_name,
                secret_name=f"{config.namespace}/{app_name}",
                keys=sorted(app.secret_env),
                values=values,
                tags={"webplatform.io/environment": config.environment},
                **tuning,
            ),
        )
    if not stored:
        return {}
    operator_args = spec.operator.to_args(config.namespace)
    identity = pod_identity_role(
        "external-secrets",
        cluster_name=spec.cluster_name,
        namespace=operator_args.namespace,
        service_account=operator_args.service_account,
        statements=pulumi.Output.all(*(s.read_statements for s in stored.values())).apply(
            lambda found: [statement for group in found for statement in group]
        ),
    )
    operator = ExternalSecretsOperator(
        "external-secrets",
        dataclasses.replace(operator_args, identity=identity),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    sync_tuning = (
        {} if spec.refresh_interval is None else {"refresh_interval": spec.refresh_interval}
    )
    names: dict[str, pulumi.Output[str]] = {}
    for app_name, app_secrets in stored.items():
        sync = ExternalSecretSync(
            f"{app_name}-secrets",
            ExternalSecretSyncArgs(
                app=app_name,
                namespace=namespace,
                remote_secret_name=app_secrets.secret_name,
                keys=sorted(config.apps[app_name].secret_env),
                region=app_secrets.region,
                operator=operator,
                **sync_tuning,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        names[app_name] = sync.secret_name
    return names


class PodIdentityRole(pulumi.ComponentResource):
    """Stand-in for the cluster component's Pod Identity helper (issue 6); see :func:`pod_identity_role`."""

    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        cluster_name: pulumi.Input[str],
        namespace: str,
        service_account: str,
        statements: pulumi.Input[list[dict[str, Any]]],
    ) -> None:
        super().__init__("webplatform:stack:PodIdentityRole", name)
        import pulumi_aws as aws  # here: a stack without AWS never loads it

        opts = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "EksPodIdentity",
                        "Effect": "Allow",
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                        "Condition": {
                            "StringEquals": {
                                "aws:RequestTag/eks-cluster-name": cluster_name,
                                "aws:RequestTag/kubernetes-namespace": namespace,
                                "aws:RequestTag/kubernetes-service-account": service_account,
                            }
                        },
                    }
                ],
            }
        )
        role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                assume_role_policy=trust,
                description=f"EKS Pod Identity of {namespace}/{service_account}",
            ),
            opts=opts,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            ),
            opts=opts,
        )
        aws.eks.PodIdentityAssociation(
            f"{name}-pod-identity",
            aws.eks.PodIdentityAssociationArgs(
                cluster_name=cluster_name,
                namespace=namespace,
                service_account=service_account,
                role_arn=role.arn,
            ),
            opts=opts,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})


def pod_identity_role(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    namespace: str,
    service_account: str,
    statements: pulumi.Input[list[dict[str, Any]]],
) -> pulumi.Resource:
    """An IAM role that only pods of ``namespace``/``service_account`` in ``cluster_name`` can
    assume through EKS Pod Identity, allowed exactly ``statements`` (an inline policy), and its
    association. Returns what to depend on before starting those pods.

    The seam for the cluster component's Pod Identity helper (issue 6): same inputs; swap it
    in here. The trust policy also checks the session tags Pod Identity sets, so the role is
    useless to any other association that might name it.
    """
    return PodIdentityRole(
        name,
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        statements=statements,
    )


def main() -> None:
    """The program: validate everything first, so a bad stack file registers nothing."""
    config = from_pulumi()
    settings = pulumi.Config(NAMESPACE)
    for key, value in build(config, settings.require_secret).items():
        pulumi.export(key, value)
