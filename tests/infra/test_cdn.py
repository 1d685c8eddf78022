"""The CDN as the stack files choose it: wiring, outputs, config rules and import cost."""

import json
import subprocess
import sys

import pytest

from infra import synth
from infra.config import CdnSpec, StackConfigError, parse
from tests.conftest import ROOT, load_stack_file

DIST = "aws:cloudfront/distribution:Distribution"
RULESET = "cloudflare:index/ruleset:Ruleset"


@pytest.fixture(scope="module")
def synths():
    return {stack: synth.synthesize(stack) for stack in ("dev", "staging", "prod")}


def cdn_config(stack):
    return load_stack_file(stack)["config"]["webplatform:cdn"]


def test_each_provider_is_used_by_a_stack_and_dev_has_none():
    providers = {stack: cdn_config(stack)["provider"] for stack in ("dev", "staging", "prod")}
    assert providers == {"dev": "none", "staging": "cloudflare", "prod": "cloudfront"}


def test_dev_registers_no_cdn_and_exports_none(synths):
    rec = synths["dev"].recording
    assert not [r for r in rec.resources if r.type.startswith(("aws:", "cloudflare:"))]
    assert "cdn" not in rec.stack_outputs


def test_prod_cloudfront_takes_its_numbers_from_the_stack_file(synths):
    config = cdn_config("prod")
    rec = synths["prod"].recording
    dist = rec.one(DIST)
    assert dist.inputs["origins"][0]["domainName"] == config["originHost"]
    assert dist.inputs["aliases"] == [config["host"], *config["aliases"]]
    assert dist.inputs["priceClass"] == config["cloudfront"]["priceClass"]
    logs = config["cloudfront"]["accessLogs"]
    assert dist.inputs["loggingConfig"]["bucket"] == f"{logs['bucket']}.s3.amazonaws.com"
    assert dist.inputs["loggingConfig"]["prefix"] == logs["prefix"]
    acl = rec.one("aws:wafv2/webAcl:WebAcl")
    rate = next(r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"])
    assert rate["statement"]["rateBasedStatement"]["limit"] == config["cloudfront"]["wafRateLimit"]
    headers = rec.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "cdn-headers")
    csp = headers.inputs["securityHeadersConfig"]["contentSecurityPolicy"]
    assert csp["contentSecurityPolicy"] == config["contentSecurityPolicy"]
    zone = config["cloudfront"]["hostedZoneId"]
    records = rec.by_type("aws:route53/record:Record")
    assert records and {r.inputs["zoneId"] for r in records} == {zone}
    assert dist.inputs["tags"] == {"webplatform.io/environment": "production"}


def test_prod_cloudfront_resources_all_use_the_programs_us_east_1_provider(synths):
    rec = synths["prod"].recording
    provider = rec.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    aws = [r for r in rec.resources if r.custom and r.type.startswith("aws:")]
    edge = [r for r in aws if "CloudFrontCdn$" in r.urn]
    assert len(edge) == 13
    for resource in edge:
        assert resource.provider.startswith(provider.urn + "::"), resource.urn
    # and nothing else does: the cluster stays in the stack's own region
    for resource in aws:
        if resource not in edge:
            assert not resource.provider.startswith(provider.urn + "::"), resource.urn


def test_prod_exports_the_distribution_domain_name(synths):
    rec = synths["prod"].recording
    outputs = rec.stack_outputs["cdn"]
    component = rec.one("webplatform:cdn_cloudfront:CloudFrontCdn")
    assert outputs["provider"] == "cloudfront" and outputs["host"] == "www.example.com"
    assert outputs["domainName"] == component.outputs["domain_name"]
    assert outputs["domainName"].endswith(".cloudfront.net")
    assert "validationRecords" not in outputs  # the hosted zone holds them


def test_staging_cloudflare_takes_its_zone_and_hosts_from_the_stack_file(synths):
    config = cdn_config("staging")
    rec = synths["staging"].recording
    record = rec.one("cloudflare:index/dnsRecord:DnsRecord").inputs
    assert (record["name"], record["content"], record["proxied"]) == (
        config["host"],
        config["originHost"],
        True,
    )
    zone = config["cloudflare"]["zoneId"]
    cloudflare = [r for r in rec.resources if r.type.startswith("cloudflare:")]
    assert len(cloudflare) == 7 and {r.inputs["zoneId"] for r in cloudflare} == {zone}
    phases = sorted(r.inputs["phase"] for r in rec.by_type(RULESET))
    assert phases == ["http_request_cache_settings", "http_response_headers_transform"]
    assert rec.stack_outputs["cdn"] == {
        "provider": "cloudflare",
        "host": config["host"],
        "domainName": config["host"],
    }
    assert not [
        r for r in rec.resources if r.type.startswith(("aws:cloudfront", "aws:acm", "aws:wafv2"))
    ]


def test_a_cloudfront_stack_without_hosted_zone_exports_the_validation_records(write_stack):
    document = load_stack_file("prod")
    del document["config"]["webplatform:cdn"]["cloudfront"]["hostedZoneId"]
    result = synth.synthesize("prod", write_stack("prod", document))
    records = result.recording.stack_outputs["cdn"]["validationRecords"]
    assert {r["name"] for r in records} == {
        "_0123456789abcdef.www.example.com.",
        "_0123456789abcdef.example.com.",
    }
    assert result.recording.by_type("aws:route53/record:Record") == []


def test_unset_cloudfront_keys_keep_the_component_defaults(write_stack):
    document = load_stack_file("prod")
    document["config"]["webplatform:cdn"].pop("cloudfront")
    rec = synth.synthesize("prod", write_stack("prod", document)).recording
    dist = rec.one(DIST).inputs
    assert dist["priceClass"] == "PriceClass_100"
    assert dist["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert "loggingConfig" not in dist
    acl = rec.one("aws:wafv2/webAcl:WebAcl")
    rate = next(r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"])
    assert rate["statement"]["rateBasedStatement"]["limit"] == 2000


SCRIPT = r"""
import json, sys
SDKS = ("pulumi_aws", "pulumi_cloudflare")
def loaded():
    return [m for m in SDKS if m in sys.modules]
import webplatform
report = {"import webplatform": loaded()}
from infra import synth
for stack in ("dev", "prod"):  # the stacks without Cloudflare
    rec = synth.synthesize(stack).recording
    assert "kubernetes:apps/v1:Deployment" in {r.type for r in rec.resources}  # it really ran
    report[stack] = loaded()
print(json.dumps(report))
"""


def test_only_a_stack_that_uses_cloudflare_imports_pulumi_cloudflare():
    """One fresh process for both Cloudflare-free stacks (the suite must stay fast).

    That the Cloudflare stack does load it is shown by its resources (test above).
    """
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["import webplatform"] == []  # the CDN classes are lazy re-exports
    assert "pulumi_cloudflare" not in report["dev"]
    assert "pulumi_cloudflare" not in report["prod"]
    assert "pulumi_aws" in report["prod"]  # control: the check does see the SDK a stack loads


def test_cdn_classes_are_lazy_re_exports_listed_in_all():
    import webplatform as components
    from webplatform.edge import cloudflare as cdn_cloudflare
    from webplatform.edge import cloudfront as cdn_cloudfront

    assert components.CloudFrontCdn is cdn_cloudfront.CloudFrontCdn
    assert components.CloudFrontCdnArgs is cdn_cloudfront.CloudFrontCdnArgs
    assert components.CloudflareEdge is cdn_cloudflare.CloudflareEdge
    assert components.CloudflareEdgeArgs is cdn_cloudflare.CloudflareEdgeArgs
    assert set(components.__all__) <= set(dir(components))
    assert {"CloudFrontCdn", "CloudflareEdge"} <= set(components.__all__)


def test_unknown_attribute_of_components_is_an_attribute_error():
    import webplatform as components

    with pytest.raises(AttributeError, match="has no attribute 'CloudFront'"):
        _ = components.CloudFront


def test_cdn_defaults_to_none_when_the_key_is_absent():
    raw = {
        k: v if isinstance(v, str) else json.dumps(v)
        for k, v in load_stack_file("dev")["config"].items()
        if k != "webplatform:cdn"
    }
    raw["webplatform:webDatabaseUrl"] = "x"
    config = parse("dev", raw, {"webplatform:webDatabaseUrl"})
    assert config.cdn == CdnSpec(provider="none")


def test_cloudflare_token_is_accepted_as_a_secret_and_rejected_in_plain_text():
    raw = {
        k: v if isinstance(v, str) else json.dumps(v)
        for k, v in load_stack_file("staging")["config"].items()
    }
    raw["webplatform:webDatabaseUrl"] = "x"
    raw["cloudflare:apiToken"] = "token"
    secrets = {"webplatform:webDatabaseUrl"}
    assert parse("staging", raw, secrets | {"cloudflare:apiToken"}).cdn.provider == "cloudflare"
    with pytest.raises(StackConfigError, match=r"cloudflare:apiToken: is stored in plain text"):
        parse("staging", raw, secrets)


def test_config_allowed_values_match_the_components():
    from typing import get_args

    from infra.config import CloudflareSpec, CloudFrontSpec
    from webplatform.edge import _checks as _edge

    def literal(model, field):
        (inner, _none) = get_args(model.model_fields[field].annotation)
        return get_args(inner)

    assert literal(CloudFrontSpec, "price_class") == _edge.PRICE_CLASSES
    assert literal(CloudFrontSpec, "minimum_protocol_version") == _edge.MINIMUM_PROTOCOL_VERSIONS
    assert literal(CloudflareSpec, "min_tls_version") == _edge.MIN_TLS_VERSIONS
