"""Deliver an app's secrets from AWS Secrets Manager to its pods with External Secrets Operator.

The value never passes through Pulumi: Pulumi creates a ``SecretStore`` (where
to read) and an ``ExternalSecret`` (what to read, and which Kubernetes Secret
to write); the operator, running in the cluster, reads Secrets Manager and
writes the Secret. The workload consumes it by ``envFrom`` exactly as the
Secret ``AppSettings`` creates in ``kubernetes-secret`` mode: same name
(``<app>-secrets``), same keys (the env var names).

Authentication is the controller's own EKS Pod Identity (the ``SecretStore``
has no ``auth`` block, so ESO uses the AWS SDK's default chain, which Pod
Identity feeds). ESO cannot use a *workload's* Pod Identity per store, so
:class:`ExternalSecretsOperator` scopes the controller to one namespace
(``scopedNamespace`` + ``scopedRBAC``): only SecretStores there can use the
controller's AWS identity, and that identity reads only the secrets it is
given (see :class:`webplatform.secrets.manager.AppSecrets.read_statements`). The apps'
own pods get no AWS identity at all. The chart's webhook and cert-controller are off:
the cert-controller's ClusterRole reads and updates Secrets in every namespace.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from webplatform import _validation
from webplatform._labels import app_labels
from webplatform._model import Args, Input, Items, at
from webplatform.cluster._checks import at_least
from webplatform.guardrails.namespace import Namespace, NamespaceArgs

API_VERSION = "external-secrets.io/v1"
CHART = "external-secrets"
CHART_REPOSITORY = "https://charts.external-secrets.io"
_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
#: Go's ``time.ParseDuration`` syntax, which the operator parses ``refreshInterval`` with:
#: one or more ``<number><unit>``, units ns, us, µs, ms, s, m, h (no sign: never negative).
_GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _chart_version(value: str) -> str:
    if not _CHART_VERSION.match(value):
        raise ValueError(
            "must be an exact version MAJOR.MINOR.PATCH such as '2.10.0' (no ranges: an "
            "upgrade is a reviewed change)"
        )
    return value


def _go_duration(value: str) -> str:
    if value != "0" and not _GO_DURATION.match(value):
        raise ValueError(
            "must be a Go duration such as '1h', '15m' or '1h30m' (units h, m, s, ms), "
            "or '0' to read the secret once"
        )
    return value


def _label(field: str, max_length: int = 63) -> Any:
    def check(value: str) -> str:
        _validation.dns_label(field, value, max_length=max_length)
        return value

    return AfterValidator(check)


def _region(value: Any) -> Any:
    if isinstance(value, str) and not _REGION.match(value):
        raise ValueError("must be an AWS region such as 'us-west-2'")
    return value


def _env_names(values: tuple[str, ...]) -> tuple[str, ...]:
    _validation.env_names("keys", values)
    return values


GoDuration = Annotated[str, AfterValidator(_go_duration)]


class OperatorSettings(Args):
    """The operator install a stack sets (``secrets.operator``)."""

    chart_version: Annotated[str, AfterValidator(_chart_version)]
    """Exact version of the ``external-secrets`` Helm chart, e.g. ``2.10.0``; required, so an
    upgrade is a reviewed change of the stack file, never a surprise at the next ``pulumi up``."""
    namespace: Annotated[str, _label("namespace")] = "external-secrets"
    """Namespace the operator runs in; default ``external-secrets`` (created, Pod Security
    ``restricted``)."""
    service_account: Annotated[str, _label("service_account", 253)] = "external-secrets"
    """The controller's ServiceAccount, the one its Pod Identity association names; default
    ``external-secrets``."""
    repository: str = CHART_REPOSITORY
    """Helm repository; default the project's own, ``https://charts.external-secrets.io``."""
    values: dict[str, Any] = Field(default_factory=dict)
    """Extra chart values (e.g. ``replicaCount``); default none. They cannot override the
    scoping and service-account values this component sets."""

    @model_validator(mode="after")
    def _fixed(self) -> OperatorSettings:
        clash = sorted(set(self.values) & set(_FIXED_KEYS))
        if clash:
            raise at(
                "values", message=f"{clash} are set by the component (scoping, service account)"
            )
        return self


class ExternalSecretsOperatorArgs(OperatorSettings):
    """The operator's settings plus what the program wires in."""

    watch_namespace: Annotated[str, _label("watch_namespace")]
    """The only namespace whose SecretStores and ExternalSecrets the controller serves
    (``scopedNamespace`` with namespaced RBAC; cluster-wide stores off). Required: the
    controller's AWS identity must not be usable from any other namespace."""
    identity: pulumi.Resource | None = None
    """The controller's EKS Pod Identity (its association, or a component holding it): the chart
    is installed after it, because EKS injects credentials only into pods created once the
    association exists. Default none: credentials come from elsewhere."""


_FIXED_KEYS = (
    "installCRDs",
    "scopedNamespace",
    "scopedRBAC",
    "processClusterStore",
    "processClusterExternalSecret",
    "serviceAccount",
    "webhook",
    "certController",
)


def _fixed_values(args: ExternalSecretsOperatorArgs) -> dict[str, Any]:
    return {
        "installCRDs": True,
        "scopedNamespace": args.watch_namespace,
        "scopedRBAC": True,
        "processClusterStore": False,
        "processClusterExternalSecret": False,
        "serviceAccount": {"create": True, "name": args.service_account},
        # No admission webhook, so no cert-controller: the chart gives the cert-controller
        # a ClusterRole that reads and updates every Secret in the cluster (to keep the
        # webhook's TLS Secret and CA bundles), which no "one namespace" scoping limits.
        # The webhook only re-checks SecretStore/ExternalSecret specs; ours are built by
        # this module from validated args, and the controller reports a bad one in status.
        "webhook": {"create": False},
        "certController": {"create": False},
    }


class ExternalSecretsOperator(pulumi.ComponentResource):
    """The External Secrets Operator, installed by a pinned Helm chart, serving one namespace.

    A cluster add-on: one per cluster. Its controller's AWS identity is a Pod
    Identity association for :attr:`service_account` in :attr:`namespace`, made
    by whoever owns the cluster (the program).
    """

    namespace: str
    service_account: str
    release_status: pulumi.Output[Any]

    def __init__(
        self,
        name: str,
        args: ExternalSecretsOperatorArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("webplatform:external_secrets:ExternalSecretsOperator", name, None, opts)
        self.namespace = args.namespace
        self.service_account = args.service_account
        ns = Namespace(
            f"{name}-namespace",
            NamespaceArgs(name=args.namespace),
            opts=pulumi.ResourceOptions(parent=self),
        )
        release = k8s.helm.v3.Release(
            f"{name}-release",
            k8s.helm.v3.ReleaseArgs(
                name=CHART,
                chart=CHART,
                version=args.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.repository),
                namespace=ns.name,
                values={**dict(args.values), **_fixed_values(args)},
                atomic=True,
                cleanup_on_fail=True,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[] if args.identity is None else [args.identity]
            ),
        )
        self.release_status = release.status
        self.register_outputs(
            {
                "namespace": self.namespace,
                "service_account": self.service_account,
                "release_status": self.release_status,
            }
        )


class SyncSettings(Args):
    """How the operator keeps apps' Secrets current (``secrets.refreshInterval``)."""

    refresh_interval: GoDuration = "1h"
    """How often the operator re-reads the secret (so a rotation reaches the Secret), as a Go
    duration; default ``1h``. Pods read env vars at start: restart them to pick up a rotated
    value."""


class ExternalSecretSyncArgs(SyncSettings):
    """One app's sync: :class:`SyncSettings` plus what only the program knows."""

    app: Annotated[str, _label("app")]
    """The app's name; the Kubernetes Secret is ``<app>-secrets`` (what ``AppSettings`` would name it)."""
    namespace: Input[str]
    """Namespace of the store, the ExternalSecret and the Secret (the app's)."""
    remote_secret_name: Input[str]
    """Name (or ARN) of the Secrets Manager secret, a JSON object (``AppSecrets.secret_name``)."""
    keys: Annotated[
        Items[str], AfterValidator(_env_names), at_least(1, "at least one key is required")
    ]
    """Properties of that JSON object to copy; each becomes a key (an env var) of the Secret."""
    region: Annotated[Input[str], AfterValidator(_region)]
    """AWS region of the secret (``AppSecrets.region``)."""
    operator: pulumi.Resource | None = None
    """The ``ExternalSecretsOperator`` (or whatever installs its CRDs); both objects are created
    after it. Default none: the operator is already in the cluster."""


class ExternalSecretSync(pulumi.ComponentResource):
    """A ``SecretStore`` for AWS Secrets Manager and an ``ExternalSecret`` writing ``<app>-secrets``."""

    secret_name: pulumi.Output[str]
    """Name of the Kubernetes Secret the operator writes; resolves once the ExternalSecret is
    created (and, on a real cluster, synced), so a workload using it waits for it."""

    def __init__(
        self, name: str, args: ExternalSecretSyncArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:external_secrets:ExternalSecretSync", name, None, opts)
        labels = app_labels(args.app)
        store_name = f"{args.app}-aws-secrets-manager"
        target = f"{args.app}-secrets"
        store = k8s.apiextensions.CustomResource(
            f"{name}-store",
            api_version=API_VERSION,
            kind="SecretStore",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=store_name, namespace=args.namespace, labels=labels
            ),
            # No `auth`: the controller's own credentials (its Pod Identity) are used.
            spec={"provider": {"aws": {"service": "SecretsManager", "region": args.region}}},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[] if args.operator is None else [args.operator]
            ),
        )
        external = k8s.apiextensions.CustomResource(
            f"{name}-external-secret",
            api_version=API_VERSION,
            kind="ExternalSecret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=target,
                namespace=args.namespace,
                labels=labels,
                # pulumi-kubernetes waits for the Secret to be written before dependants roll.
                annotations={"pulumi.com/waitFor": "condition=Ready"},
            ),
            spec={
                "refreshInterval": args.refresh_interval,
                "secretStoreRef": {"kind": "SecretStore", "name": store_name},
                "target": {
                    "name": target,
                    "creationPolicy": "Owner",
                    # If the AWS secret disappears, keep the last Secret: pods keep starting.
                    "deletionPolicy": "Retain",
                    "template": {"type": "Opaque", "metadata": {"labels": labels}},
                },
                "data": [
                    {
                        "secretKey": key,
                        "remoteRef": {"key": args.remote_secret_name, "property": key},
                    }
                    for key in sorted(args.keys)
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[store]),
        )
        self.secret_name = external.id.apply(lambda _: target)
        self.register_outputs({"secret_name": self.secret_name})
