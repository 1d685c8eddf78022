"""Run Pulumi programs under mocks and keep everything they register.

Public so that teams importing :mod:`components` can test their own stacks the
way we test ours::

    from webplatform import testing

    def test_my_stack():
        rec = testing.run(lambda: build_my_stack(), stack="dev")
        svc = rec.one("kubernetes:core/v1:Service")
        assert svc.inputs["spec"]["type"] == "ClusterIP"

Why a runner rather than ``@pulumi.runtime.test`` and ``apply`` chains: checks
inside ``apply`` are silently skipped when a value is unknown (``preview=True``),
so a test can pass without asserting anything. :func:`run` uses
``preview=False``, waits for every registration, and hands back plain data.

Known pitfalls this module takes care of:

- inputs arrive in wire form: camelCase keys, exactly as the provider sees them;
- numbers arrive as floats (``3.0``); :func:`whole_numbers` turns whole floats
  back into ints for output files, and ``3 == 3.0`` holds in assertions anyway;
- secrets arrive wrapped in Pulumi's sentinel; inputs here are unwrapped and the
  paths that were secret are kept in :attr:`Resource.secret_paths`;
- prefer the SDK's ``*Args`` classes to dict literals in components: a typo in
  a dict key passes silently, an unknown keyword to an ``*Args`` class does not;
- ``pulumi_cloudflare`` emits many ``DeprecationWarning`` on import; filter them
  in pytest configuration rather than here.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc as _rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

#: Key of the map Pulumi uses on the wire to mark a special value.
SIG_KEY = "4dabf18193072939515e22adb298388d"
#: Value under :data:`SIG_KEY` that marks a secret.
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
#: What output files write in place of a secret value.
REDACTED = "[secret]"


def unwrap_secrets(value: Any, path: str = "") -> tuple[Any, set[str]]:
    """Strip Pulumi's secret wrappers; return the plain value and the dotted paths that were secret.

    The root path is ``""``; list items are ``path[i]``.
    """
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            plain, inner = unwrap_secrets(value.get("value"), path)
            return plain, inner | {path}
        out: dict[str, Any] = {}
        paths: set[str] = set()
        for key, item in value.items():
            out[key], found = unwrap_secrets(item, f"{path}.{key}" if path else str(key))
            paths |= found
        return out, paths
    if isinstance(value, list | tuple):
        items: list[Any] = []
        paths = set()
        for index, item in enumerate(value):
            plain, found = unwrap_secrets(item, f"{path}[{index}]")
            items.append(plain)
            paths |= found
        return items, paths
    return value, set()


def redact(value: Any, secret_paths: Iterable[str], path: str = "") -> Any:
    """Replace every leaf under a secret path with :data:`REDACTED`, keeping maps' shapes.

    Keeping the keys (not the values) of a secret map lets a redacted Secret
    manifest still validate against the Kubernetes schema.
    """
    paths = set(secret_paths)
    if path in paths:
        return _redact_all(value)
    if isinstance(value, Mapping):
        return {k: redact(v, paths, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, paths, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _redact_all(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _redact_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_all(v) for v in value]
    return REDACTED


def whole_numbers(value: Any) -> Any:
    """Turn floats that are whole (the wire form of ints) back into ints, recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


@dataclass
class Resource:
    """One registration, as the engine would have received it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    secret_paths: frozenset[str]
    custom: bool
    parent: str
    provider: str
    protect: bool
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    additional_secret_outputs: tuple[str, ...]
    outputs: dict[str, Any] | None = None
    output_secret_paths: frozenset[str] = frozenset()
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """``create``/``update``/``delete`` as sent (e.g. ``"90s"``); how long the real engine
    lets the provider wait for readiness. Empty: the provider's defaults (10 min rollouts)."""
    ignore_changes: tuple[str, ...] = ()
    """Input paths the engine keeps at their last applied value (``ignoreChanges``)."""

    def is_secret(self, path: str) -> bool:
        """True when ``path`` or one of its ancestors was registered as a secret."""
        return any(path == p or path.startswith((p + ".", p + "[")) for p in self.secret_paths)

    def get(self, path: str, default: Any = None) -> Any:
        """Look up a dotted path (``spec.template.spec``) in the inputs."""
        node: Any = self.inputs
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node


@dataclass
class Recording:
    """Everything one program run registered, in registration order."""

    resources: list[Resource] = field(default_factory=list)
    stack_outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def by_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        """The single resource of a type (and name); fails loudly when there are none or several."""
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.by_type(type_)]
            raise LookupError(
                f"expected one {type_} named {name!r}, found {len(found)} among {names}"
            )
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise LookupError(urn)

    def children(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources if r.parent == parent.urn]

    @property
    def urns(self) -> list[str]:
        return sorted(r.urn for r in self.resources)


#: The AWS account id the mocks answer with, unless told otherwise.
MOCK_ACCOUNT_ID = "123456789012"


# --- Computed outputs of the CDN resources (CloudFront, ACM, WAF, Route 53, Cloudflare) ---
# Deterministic stand-ins for what the providers compute, so components can wire
# them (a distribution's domain name, a certificate's validation records).


def _arn(service: str, args: pulumi.runtime.MockResourceArgs, region: str = "") -> str:
    return f"arn:aws:{service}:{region}:{MOCK_ACCOUNT_ID}:{args.name}"


def _acm_certificate(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    domains = [inputs.get("domainName", ""), *(inputs.get("subjectAlternativeNames") or [])]
    return {
        "arn": _arn("acm", args, inputs.get("region", "us-east-1")),
        "status": "ISSUED",
        "domainValidationOptions": [
            {
                "domainName": domain,
                # ACM gives '*.x' and 'x' the same record, as the mock does.
                "resourceRecordName": f"_0123456789abcdef.{domain.removeprefix('*.')}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_fedcba9876543210.{domain.removeprefix('*.')}.acm-validations.aws.",
            }
            for domain in domains
        ],
    }


def _cloudfront_distribution(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {
        "arn": _arn("cloudfront", args),
        "domainName": f"d{hashlib.sha256(args.name.encode()).hexdigest()[:13]}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",
        "status": "Deployed",
        "etag": "E2QWRUHEXAMPLE",
    }


def _route53_record(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"fqdn": str(args.inputs.get("name", "")).rstrip(".")}


def _gateway(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """What Envoy Gateway publishes once an NLB fronts the Gateway's proxies: its DNS name.

    Only for a Gateway that names an ``EnvoyProxy`` (the EKS stacks): elsewhere nothing
    provisions a load balancer and the Gateway gets no address (the local control plane).
    """
    spec = args.inputs.get("spec") or {}
    if not (spec.get("infrastructure") or {}).get("parametersRef"):
        return {}
    digest = hashlib.sha256(args.name.encode()).hexdigest()
    host = f"k8s-envoygat-{digest[:10]}-{digest[10:20]}.elb.us-west-2.amazonaws.com"
    return {"status": {"addresses": [{"type": "Hostname", "value": host}]}}


_CDN_COMPUTED: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": _gateway,
    "aws:acm/certificate:Certificate": _acm_certificate,
    "aws:acm/certificateValidation:CertificateValidation": lambda a: {
        "certificateArn": a.inputs.get("certificateArn")
    },
    "aws:cloudfront/distribution:Distribution": _cloudfront_distribution,
    "aws:cloudfront/cachePolicy:CachePolicy": lambda a: {"etag": "E1CACHEEXAMPLE"},
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": lambda a: {
        "etag": "E1HEADERSEXAMPLE"
    },
    "aws:wafv2/webAcl:WebAcl": lambda a: {
        "arn": _arn("wafv2", a, a.inputs.get("region", "us-east-1")),
        "capacity": 1000,
    },
    "aws:route53/record:Record": _route53_record,
    "cloudflare:index/dnsRecord:DnsRecord": lambda a: {"proxiable": True},
    # Stand-ins, not keys or certificates: enough for wiring and for leak tests to look for.
    "random:index/randomPassword:RandomPassword": lambda a: {
        "result": f"mock-{hashlib.sha256(a.name.encode()).hexdigest()[:40]}"
    },
    "tls:index/privateKey:PrivateKey": lambda a: {
        "privateKeyPem": f"-----BEGIN PRIVATE KEY-----\nmock-{a.name}\n-----END PRIVATE KEY-----\n",
        "publicKeyPem": f"-----BEGIN PUBLIC KEY-----\nmock-{a.name}\n-----END PUBLIC KEY-----\n",
    },
    "tls:index/certRequest:CertRequest": lambda a: {
        "certRequestPem": "-----BEGIN CERTIFICATE REQUEST-----\nmock\n-----END CERTIFICATE REQUEST-----\n"
    },
    "cloudflare:index/originCaCertificate:OriginCaCertificate": lambda a: {
        "certificate": f"-----BEGIN CERTIFICATE-----\nmock-{a.name}\n-----END CERTIFICATE-----\n",
        "expiresOn": "2041-12-04 00:00:00 +0000 UTC",
    },
    "cloudflare:index/ruleset:Ruleset": lambda a: {"version": "1"},
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that return a resource's inputs as its outputs, plus a few computed fields.

    Override :meth:`computed_outputs` or :meth:`call` for provider functions
    your own components invoke. The AWS outputs and functions an EKS cluster
    needs are answered already (:data:`AWS_COMPUTED`, :data:`AWS_CALLS`), for
    the account ``account_id`` in ``region``, with ARNs in the real formats.
    """

    def __init__(
        self,
        *,
        account_id: str = MOCK_ACCOUNT_ID,
        region: str = "us-west-2",
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.account_id = account_id
        self.region = region
        self.stack_outputs = dict(stack_outputs or {})
        """What a ``pulumi.StackReference`` to each fully qualified stack name
        (``organization/<project>/<stack>``) reads; every output is a secret, as the most
        careful answer. A stack not listed has no outputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs.get("name") or args.name)
            outputs = dict(self.stack_outputs.get(name, {}))
            return name, {"name": name, "outputs": outputs, "secretOutputNames": sorted(outputs)}
        state = dict(args.inputs)
        state.update(self.computed_outputs(args))
        return f"{args.name}-id", state

    def computed_outputs(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        """Outputs the real provider would compute: those of :data:`AWS_COMPUTED`, else none."""
        compute = AWS_COMPUTED.get(args.typ)
        return compute(self, args) if compute else {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        answer = AWS_CALLS.get(args.token)
        if answer is None:
            raise NotImplementedError(f"no mock for provider function {args.token}")
        return answer(self, args), []

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this mock account (``region=False`` for global services such as IAM)."""
        where = self.region if region else ""
        return f"arn:aws:{service}:{where}:{self.account_id}:{resource}"


def _physical_name(args: pulumi.runtime.MockResourceArgs) -> str:
    """The name the provider would use: the ``name`` input, or the Pulumi name (no random suffix)."""
    return str(args.inputs.get("name") or args.name)


def _eks_cluster(mocks: RecordingMocks, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = _physical_name(args)
    return {
        "name": name,
        "arn": mocks.arn("eks", f"cluster/{name}"),
        "endpoint": f"https://{name.upper().replace('-', '')}.gr7.{mocks.region}.eks.amazonaws.com",
        # base64 of a PEM header: what the certificate's first bytes look like, not a real one
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1PQ0s="},
        "identities": [
            {
                "oidcs": [
                    {
                        "issuer": f"https://oidc.eks.{mocks.region}.amazonaws.com/id/MOCK{name.upper()}"
                    }
                ]
            }
        ],
        "status": "ACTIVE",
        "platformVersion": "eks.1",
        # The security group EKS creates for the cluster (the default NodeClass uses it).
        "vpcConfig": {
            **(args.inputs.get("vpcConfig") or {}),
            "clusterSecurityGroupId": f"sg-{name}-cluster",
        },
    }


#: Resource type -> outputs AWS computes on create (ARNs, endpoints, generated ids).
AWS_COMPUTED: dict[
    str, Callable[[RecordingMocks, pulumi.runtime.MockResourceArgs], dict[str, Any]]
] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:iam/role:Role": lambda m, a: {
        "name": _physical_name(a),
        "arn": m.arn("iam", f"role/{_physical_name(a)}", region=False),
        "uniqueId": f"AROA{a.name.upper()[:16]}",
    },
    "aws:kms/key:Key": lambda m, a: {
        "keyId": f"{a.name}-id",
        "arn": m.arn("kms", f"key/{a.name}-id"),
    },
    "aws:cloudwatch/logGroup:LogGroup": lambda m, a: {
        "name": _physical_name(a),
        "arn": m.arn("logs", f"log-group:{_physical_name(a)}"),
    },
    "aws:ec2/launchTemplate:LaunchTemplate": lambda m, a: {"latestVersion": 1},
    "aws:eks/nodeGroup:NodeGroup": lambda m, a: {
        "arn": m.arn("eks", f"nodegroup/{a.name}"),
        "status": "ACTIVE",
    },
    "aws:secretsmanager/secret:Secret": lambda m, a: {
        # Secrets Manager appends six random characters to the name
        "arn": m.arn("secretsmanager", f"secret:{_physical_name(a)}-AbCdEf"),
    },
    "aws:secretsmanager/secretVersion:SecretVersion": lambda m, a: {
        "arn": m.arn("secretsmanager", f"secret:{a.name}"),
        "versionId": "v1",
    },
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": lambda m, a: {
        "associationId": f"a-{a.name}",
        "associationArn": m.arn("eks", f"podidentityassociation/{a.name}"),
    },
}


def _args_only(
    compute: Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]],
) -> Callable[[RecordingMocks, pulumi.runtime.MockResourceArgs], dict[str, Any]]:
    return lambda _mocks, args: compute(args)


# The CDN resources' computed outputs need only the mock args.
AWS_COMPUTED.update({token: _args_only(compute) for token, compute in _CDN_COMPUTED.items()})

#: Newest version EKS publishes per managed add-on and Kubernetes minor (a stand-in for
#: ``DescribeAddonVersions``): the build number follows the minor, so a test can see that the
#: version chosen moves with the cluster's.
MOCK_ADDON_VERSIONS = {"metrics-server": "v0.8.1", "eks-node-monitoring-agent": "v1.4.0"}


def _addon_version(args: Mapping[str, Any]) -> dict[str, Any]:
    addon = str(args.get("addonName", ""))
    kubernetes = str(args.get("kubernetesVersion", ""))
    minor = kubernetes.split(".")[-1] if kubernetes else "0"
    return {
        "id": addon,
        "addonName": addon,
        "kubernetesVersion": kubernetes,
        "mostRecent": bool(args.get("mostRecent")),
        "region": "",
        "version": f"{MOCK_ADDON_VERSIONS.get(addon, 'v1.0.0')}-eksbuild.{minor}",
    }


#: Provider function token -> its result.
AWS_CALLS: dict[str, Callable[[RecordingMocks, pulumi.runtime.MockCallArgs], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda m, a: {
        "id": m.region,
        "names": [f"{m.region}{z}" for z in "abcd"],
        "zoneIds": [f"usw2-az{i}" for i in range(1, 5)],
        "groupNames": [m.region] * 4,
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda m, a: {
        "id": m.account_id,
        "accountId": m.account_id,
        "arn": f"arn:aws:sts::{m.account_id}:assumed-role/webplatform-deploy/mock-session",
        "userId": "AROAMOCK:mock-session",
    },
    "aws:index/getRegion:getRegion": lambda m, a: {
        "region": m.region,
        "name": m.region,
        "id": m.region,
        "endpoint": f"ec2.{m.region}.amazonaws.com",
        "description": "mock region",
    },
    "aws:eks/getAddonVersion:getAddonVersion": lambda m, a: _addon_version(a.args),
    # A few of Cloudflare's published ranges (the real list has ~15 IPv4 and 7 IPv6).
    "cloudflare:index/getIpRanges:getIpRanges": lambda m, a: {
        "id": "cloudflare-ip-ranges",
        "etag": "mock",
        "ipv4Cidrs": ["103.21.244.0/22", "104.16.0.0/13", "173.245.48.0/20"],
        "ipv6Cidrs": ["2400:cb00::/32", "2606:4700::/32"],
        "jdcloudCidrs": [],
    },
    "aws:index/getPartition:getPartition": lambda m, a: {
        "id": "aws",
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    },
}


#: The AWS account and region the mocks pretend to be (the region follows ``aws:region``).
class RecordingMonitor(_mocks.MockMonitor):
    """A mock monitor that also keeps what the stock one throws away.

    The stock monitor forgets parents, providers, protect flags, dependencies
    and ``register_outputs``; tests need all of them (parent chains, "the
    switch waits for the Deployment", "prod is protected").
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recording = Recording()
        self._by_urn: dict[str, Resource] = {}
        #: The event loops the stock monitor makes on the executor's worker threads (one per
        #: thread, by ``_ensure_event_loop``, never closed upstream); :func:`run` closes them.
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()
        self._lock = threading.Lock()

    def _thread_loop(self) -> None:
        loop = _ensure_event_loop()
        with self._lock:
            self.thread_loops.add(loop)

    def Invoke(self, request: Any) -> Any:
        self._thread_loop()
        return super().Invoke(request)

    def ReadResource(self, request: Any) -> Any:
        self._thread_loop()
        return super().ReadResource(request)

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the whole chain of parent types, without the Stack.

        The stock mock keeps only the parent's own type and includes
        ``pulumi:pulumi:Stack``, so its URNs differ from live ones; snapshot
        tests need the real form to catch a refactor that would replace resources.
        """
        if parent:
            qualified = parent.split("::", 3)[2]
            if qualified.split("$")[-1] != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        self._thread_loop()
        response = super().RegisterResource(request)
        raw = _rpc.deserialize_properties(request.object)
        inputs, secret_paths = unwrap_secrets(raw)
        resource = Resource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            inputs=inputs,
            secret_paths=frozenset(secret_paths),
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            protect=bool(request.protect),
            dependencies=tuple(request.dependencies),
            property_dependencies={
                key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()
            },
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            custom_timeouts={
                op: value
                for op in ("create", "update", "delete")
                if (value := getattr(request.customTimeouts, op, ""))
            },
            ignore_changes=tuple(request.ignoreChanges),
        )
        if request.type != "pulumi:pulumi:Stack":
            self.recording.resources.append(resource)
            self._by_urn[resource.urn] = resource
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        resource = self._by_urn.get(request.urn)
        if resource is not None:
            outputs, paths = unwrap_secrets(_rpc.deserialize_properties(request.outputs))
            resource.outputs = outputs
            resource.output_secret_paths = frozenset(paths)
        return super().RegisterResourceOutputs(request)


def run(
    program: Callable[[], Any],
    *,
    project: str = "webplatform",
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    secret_keys: Iterable[str] = (),
    mocks: pulumi.runtime.Mocks | None = None,
    root_directory: str | None = None,
    recording: Recording | None = None,
) -> Recording:
    """Run ``program`` as a fresh Pulumi program under mocks and return what it registered.

    ``config`` is the flat map Pulumi hands a program (``{"webplatform:apps": "<json>"}``);
    ``secret_keys`` are the keys among them that are secrets. ``root_directory`` is what
    ``pulumi.get_root_directory()`` answers (where Pulumi.yaml is; default none). Exceptions
    raised by the program propagate after the runtime has shut down cleanly; pass
    ``recording`` to see what was registered before one was raised.
    """
    try:
        asyncio.get_running_loop()
        executor = None  # called from a coroutine (an async test): the caller owns its loop
    except RuntimeError:
        # The thread's loop (made now if there is none): Outputs a caller built before this
        # call belong to it, so the run must use it too. The executor is the run's own and is
        # shut down before we return; the loop itself is closed by close_loop (at exit at the
        # latest), so that nothing is left for the garbage collector (issue 25).
        loop = _ensure_event_loop()
        executor = ThreadPoolExecutor(thread_name_prefix="pulumi-mocks")
        loop.set_default_executor(executor)
        _loops.add(loop)
    set_all_config(dict(config or {}), list(secret_keys))
    monitor = RecordingMonitor(mocks or RecordingMocks())
    if recording is not None:
        monitor.recording = recording
    # A fresh root stack per run: set_mocks only creates one when none exists.
    _settings.ROOT.set(None)
    _mocks.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)
    _settings.SETTINGS.root_directory = root_directory
    _settings.SETTINGS.rpc_manager.clear()
    _settings.SETTINGS.outputs.clear()

    async def body() -> None:
        program()
        root = _settings.get_root_resource()
        outputs = getattr(root, "outputs", {}) or {}
        for key, value in outputs.items():
            out = pulumi.Output.from_input(value)
            plain, _paths = unwrap_secrets(await out.future())
            if await out.is_secret():
                monitor.recording.secret_outputs.add(key)
            monitor.recording.stack_outputs[key] = plain

    if executor is None:
        _sync_await(run_pulumi_func(body))
        return monitor.recording
    try:
        _sync_await(run_pulumi_func(body))
    finally:
        # Joins the worker threads; their loops (made by the stock monitor, one per thread,
        # never closed upstream) are idle from then on and are closed here, not at exit.
        executor.shutdown(wait=True)
        for thread_loop in monitor.thread_loops:
            thread_loop.close()
    return monitor.recording


#: The loops :func:`run` has used (in practice one per thread), for :func:`close_loop`.
_loops: set[asyncio.AbstractEventLoop] = set()


def close_loop() -> None:
    """Close the event loops :func:`run` used: leftover tasks, async generators, then the loop.

    Why: a loop left open is closed by the garbage collector at interpreter exit, when
    ``socket`` and ``threading`` may already be torn down, and now and then that prints
    ``Exception ignored in: <function BaseEventLoop.__del__>`` and a traceback after a
    successful synth (issue 25). The program's entry points (synth, cost, scan, bench) call
    this before they return; :func:`run` also registers it with ``atexit`` (which runs
    before teardown) for every other process, tests included. The Automation API's inline
    server closes its own loop the same way (``pulumi/automation/_server.py``).
    """
    while _loops:
        loop = _loops.pop()
        if loop.is_closed() or loop.is_running():
            continue
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
    # Later code in this process (tests call the entry points in-process) gets a new loop on
    # first use, as in a fresh process: a fresh default policy makes one on demand, where
    # set_event_loop(None) alone would make asyncio.get_event_loop() raise from now on.
    asyncio.set_event_loop(None)
    if type(asyncio.get_event_loop_policy()) is asyncio.DefaultEventLoopPolicy:
        asyncio.set_event_loop_policy(None)


atexit.register(close_loop)
