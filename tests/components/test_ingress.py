import pytest

from webplatform import Ingress, IngressArgs, IngressRoute, testing

ING = "kubernetes:networking.k8s.io/v1:Ingress"
#: Every annotation ingress-nginx documents that we use (docs/user-guide/nginx-configuration/annotations.md).
REAL_NGINX = {"ssl-redirect", "force-ssl-redirect", "limit-rps", "limit-connections"}


def ingress(**route):
    args = IngressArgs(
        app="web",
        namespace="ns",
        service_name="web",
        service_port=80,
        route=IngressRoute(**{"host": "web.example.com", "issuer": "letsencrypt-prod", **route}),
    )
    rec = testing.run(lambda: Ingress("web", args))
    return rec, rec.one(ING).inputs


def test_tls_by_cert_manager_https_only_and_rate_limited():
    rec, inputs = ingress(limit_rps=100)
    assert inputs["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt-prod",
        "nginx.ingress.kubernetes.io/ssl-redirect": "true",
        "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
        "nginx.ingress.kubernetes.io/limit-rps": "100",
    }
    spec = inputs["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["web.example.com"], "secretName": "web-tls"}]
    (rule,) = spec["rules"]
    assert rule["host"] == "web.example.com"
    assert rule["http"]["paths"] == [
        {
            "path": "/",
            "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}},
        }
    ]
    assert rec.one("webplatform:ingress:Ingress").outputs["url"] == "https://web.example.com/"


def test_only_real_ingress_nginx_annotations_and_no_deprecated_class_annotation():
    _, inputs = ingress(limit_connections=20, issuer_kind="Issuer")
    annotations = inputs["metadata"]["annotations"]
    nginx = {
        k.split("/", 1)[1] for k in annotations if k.startswith("nginx.ingress.kubernetes.io/")
    }
    assert nginx <= REAL_NGINX
    assert not any("hsts" in k or k.endswith("/rate-limit") for k in annotations)
    assert "kubernetes.io/ingress.class" not in annotations
    assert annotations["cert-manager.io/issuer"] == "letsencrypt-prod"
    assert annotations["nginx.ingress.kubernetes.io/limit-connections"] == "20"


def test_no_rate_limit_when_asked():
    _, inputs = ingress(limit_rps=None)
    assert "nginx.ingress.kubernetes.io/limit-rps" not in inputs["metadata"]["annotations"]


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"host": "Web.Example.com"}, "fully qualified, lowercase"),
        ({"host": "localhost"}, "fully qualified"),
        ({"issuer": "Lets_Encrypt"}, "issuer="),
        ({"limit_rps": 0}, "limit_rps=0"),
        ({"path": "api"}, "must start with '/'"),
        ({"issuer_kind": "Vault"}, "issuer_kind='Vault'"),
    ],
)
def test_bad_routes_are_rejected(route, message):
    with pytest.raises(ValueError, match=message):
        IngressRoute(**{"host": "web.example.com", "issuer": "letsencrypt-prod", **route})
