"""The CloudFront CDN component alone, under mocks: every setting of issue 7, and bad input."""

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from webplatform import CloudFrontCdn, CloudFrontCdnArgs, CloudFrontSettings, testing
from webplatform.edge.cloudfront import (
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS,
    AccessLogs,
)

CSP = "default-src 'self'; frame-ancestors 'none'"
DIST = "aws:cloudfront/distribution:Distribution"
CERT = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
ACL = "aws:wafv2/webAcl:WebAcl"
HEADERS = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
CACHE = "aws:cloudfront/cachePolicy:CachePolicy"
RECORD = "aws:route53/record:Record"
ONE_YEAR = 31_536_000


def build(**overrides):
    """Run the component with an us-east-1 provider (and a us-west-2 default, as a stack has)."""
    holder = {}

    def program():
        east = aws.Provider("east", region="us-east-1")
        west = aws.Provider("west", region="us-west-2")
        kwargs = {
            "host": "www.example.com",
            "origin_host": "origin.example.com",
            "content_security_policy": CSP,
            "us_east_1_provider": east,
            **overrides,
        }
        cdn = CloudFrontCdn(
            "cdn", CloudFrontCdnArgs(**kwargs), opts=pulumi.ResourceOptions(providers=[west])
        )
        pulumi.export("domain", cdn.domain_name)
        pulumi.export("validation", cdn.validation_records)
        holder["cdn"] = cdn

    rec = testing.run(program)
    return rec


def provider_name(resource):
    return resource.provider.split("::")[3] if resource.provider else None


def test_certificate_is_dns_validated_in_us_east_1_with_the_callers_provider():
    rec = build(aliases=("example.com",))
    cert = rec.one(CERT)
    assert cert.inputs["validationMethod"] == "DNS"
    assert cert.inputs["domainName"] == "www.example.com"
    assert cert.inputs["subjectAlternativeNames"] == ["example.com"]
    assert cert.inputs["region"] == "us-east-1"
    assert provider_name(cert) == "east"
    validation = rec.one(VALIDATION)
    assert provider_name(validation) == "east" and validation.inputs["region"] == "us-east-1"
    # The distribution uses the *validated* ARN, so it waits for validation.
    dist = rec.one(DIST)
    assert validation.urn in dist.property_dependencies["viewerCertificate"]


def test_viewers_get_sni_and_tls_1_2_2021_at_least():
    viewer = build().one(DIST).inputs["viewerCertificate"]
    assert viewer["sslSupportMethod"] == "sni-only"
    assert viewer["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert viewer["acmCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert "cloudfrontDefaultCertificate" not in viewer


def test_origin_is_https_only_over_tls_1_2_and_viewers_are_redirected():
    inputs = build().one(DIST).inputs
    (origin,) = inputs["origins"]
    assert origin["domainName"] == "origin.example.com"
    assert origin["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    assert origin["customOriginConfig"]["originSslProtocols"] == ["TLSv1.2"]
    behaviours = [inputs["defaultCacheBehavior"], *inputs["orderedCacheBehaviors"]]
    assert {b["viewerProtocolPolicy"] for b in behaviours} == {"redirect-to-https"}
    assert all(b["compress"] is True for b in behaviours)
    assert {b["targetOriginId"] for b in behaviours} == {origin["originId"]}


def test_http2_and_3_ipv6_price_class_100_and_the_host_names():
    inputs = build(aliases=("example.com",)).one(DIST).inputs
    assert inputs["httpVersion"] == "http2and3"
    assert inputs["isIpv6Enabled"] is True
    assert inputs["priceClass"] == "PriceClass_100"
    assert inputs["enabled"] is True
    assert inputs["aliases"] == ["www.example.com", "example.com"]


def test_default_behaviour_keys_on_path_and_query_and_lets_the_origin_decide():
    """Issue 15: the managed UseOriginCacheControlHeaders-QueryStrings put Host and every cookie
    in the key (so the origin got the viewer's Host); our own policy keys on path + query."""
    rec = build()
    default = rec.one(DIST).inputs["defaultCacheBehavior"]
    assert default["cachePolicyId"] == "cdn-cache-policy-id"
    assert default["cachePolicyId"] not in {
        USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS,
        CACHING_OPTIMIZED,
        CACHING_DISABLED,
    }
    policy = rec.one(CACHE, "cdn-cache-policy").inputs
    # min 0 honours private/no-store; default 0: no Cache-Control, not cached; max a year.
    assert (policy["minTtl"], policy["defaultTtl"], policy["maxTtl"]) == (0, 0, ONE_YEAR)
    key = policy["parametersInCacheKeyAndForwardedToOrigin"]
    assert key["headersConfig"] == {"headerBehavior": "none"}  # no Host in the key
    assert key["cookiesConfig"] == {"cookieBehavior": "none"}
    assert key["queryStringsConfig"] == {"queryStringBehavior": "all"}
    assert key["enableAcceptEncodingBrotli"] and key["enableAcceptEncodingGzip"]
    # Managed AllViewerExceptHostHeader: cookies and queries reach the origin, Host does not.
    assert default["originRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert default["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(default["allowedMethods"]) >= {"GET", "HEAD", "POST", "PUT", "DELETE"}
    assert default["cachedMethods"] == ["GET", "HEAD"]


def test_the_managed_policy_ids_are_the_documented_ones():
    """IDs from the CloudFront developer guide (managed cache / origin request policies)."""
    assert USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS == "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
    assert CACHING_OPTIMIZED == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert CACHING_DISABLED == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def test_assets_are_cached_a_year_without_cookies_or_query_strings():
    rec = build()
    (assets,) = rec.one(DIST).inputs["orderedCacheBehaviors"]
    assert assets["pathPattern"] == "/assets/*"
    assert assets["allowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    policy = rec.one(CACHE, "cdn-assets-cache-policy")
    assert assets["cachePolicyId"] == "cdn-assets-cache-policy-id"
    assert (policy.inputs["minTtl"], policy.inputs["defaultTtl"], policy.inputs["maxTtl"]) == (
        ONE_YEAR,
        ONE_YEAR,
        ONE_YEAR,
    )
    key = policy.inputs["parametersInCacheKeyAndForwardedToOrigin"]
    assert key["cookiesConfig"]["cookieBehavior"] == "none"
    assert key["queryStringsConfig"]["queryStringBehavior"] == "none"
    assert key["headersConfig"]["headerBehavior"] == "none"
    assert key["enableAcceptEncodingBrotli"] and key["enableAcceptEncodingGzip"]
    headers = rec.one(HEADERS, "cdn-assets-headers").inputs
    (item,) = headers["customHeadersConfig"]["items"]
    assert item == {
        "header": "Cache-Control",
        "value": f"public, max-age={ONE_YEAR}, immutable",
        "override": True,
    }
    assert assets["responseHeadersPolicyId"] == "cdn-assets-headers-id"


@pytest.mark.parametrize("policy", ["cdn-headers", "cdn-assets-headers"])
def test_security_headers_on_every_behaviour_and_no_x_xss_protection(policy):
    security = build().one(HEADERS, policy).inputs["securityHeadersConfig"]
    assert security["strictTransportSecurity"] == {
        "accessControlMaxAgeSec": ONE_YEAR,
        "includeSubdomains": True,
        "preload": False,
        "override": True,
    }
    assert security["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert security["contentTypeOptions"] == {"override": True}
    assert security["referrerPolicy"] == {
        "referrerPolicy": "strict-origin-when-cross-origin",
        "override": True,
    }
    assert security["contentSecurityPolicy"] == {"contentSecurityPolicy": CSP, "override": True}
    assert "xssProtection" not in security


def test_default_behaviour_uses_the_security_headers_policy():
    assert (
        build().one(DIST).inputs["defaultCacheBehavior"]["responseHeadersPolicyId"]
        == "cdn-headers-id"
    )


def test_waf_is_cloudfront_scoped_in_us_east_1_with_managed_groups_and_a_rate_rule():
    rec = build(waf_rate_limit=500)
    acl = rec.one(ACL)
    assert acl.inputs["scope"] == "CLOUDFRONT"
    assert acl.inputs["region"] == "us-east-1" and provider_name(acl) == "east"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    rules = sorted(acl.inputs["rules"], key=lambda r: r["priority"])
    assert [r["priority"] for r in rules] == [0, 1, 2, 3]
    rate = rules[0]
    assert rate["statement"]["rateBasedStatement"] == {
        "limit": 500,
        "aggregateKeyType": "IP",
        "evaluationWindowSec": 300,
    }
    assert rate["action"] == {"block": {}}
    managed = [r["statement"]["managedRuleGroupStatement"] for r in rules[1:]]
    assert {(m["vendorName"], m["name"]) for m in managed} == {
        ("AWS", "AWSManagedRulesCommonRuleSet"),
        ("AWS", "AWSManagedRulesKnownBadInputsRuleSet"),
        ("AWS", "AWSManagedRulesAmazonIpReputationList"),
    }
    assert all(r["overrideAction"] == {"none": {}} for r in rules[1:])
    assert all(r["visibilityConfig"]["cloudwatchMetricsEnabled"] for r in rules)
    assert rec.one(DIST).inputs["webAclId"] == "arn:aws:wafv2:us-east-1:123456789012:cdn-web-acl"


def test_global_resources_use_the_inherited_provider_not_us_east_1():
    rec = build()
    for type_ in (DIST, CACHE, HEADERS):
        for resource in rec.by_type(type_):
            assert provider_name(resource) == "west", resource.urn


def test_with_a_hosted_zone_validation_and_alias_records_are_created():
    rec = build(aliases=("example.com",), hosted_zone_id="Z0123456789ABCDEFGHIJ")
    records = {r.name: r.inputs for r in rec.by_type(RECORD)}
    assert set(records) == {
        "cdn-validation-www-example-com",
        "cdn-validation-example-com",
        "cdn-alias-www-example-com-a",
        "cdn-alias-www-example-com-aaaa",
        "cdn-alias-example-com-a",
        "cdn-alias-example-com-aaaa",
    }
    validation = records["cdn-validation-www-example-com"]
    assert validation["name"] == "_0123456789abcdef.www.example.com."
    assert validation["type"] == "CNAME"
    assert validation["records"] == ["_fedcba9876543210.www.example.com.acm-validations.aws."]
    assert validation["zoneId"] == "Z0123456789ABCDEFGHIJ" and validation["allowOverwrite"]
    assert sorted(rec.one(VALIDATION).inputs["validationRecordFqdns"]) == [
        "_0123456789abcdef.example.com",
        "_0123456789abcdef.www.example.com",
    ]
    alias = records["cdn-alias-example-com-aaaa"]
    assert alias["type"] == "AAAA" and alias["name"] == "example.com"
    (target,) = alias["aliases"]
    assert target["zoneId"] == "Z2FDTNDATAQYW2"
    assert target["name"].endswith(".cloudfront.net")


def test_without_a_hosted_zone_validation_records_are_an_output_only():
    rec = build()
    assert rec.by_type(RECORD) == []
    assert "validationRecordFqdns" not in rec.one(VALIDATION).inputs
    assert rec.stack_outputs["validation"] == [
        {
            "name": "_0123456789abcdef.www.example.com.",
            "type": "CNAME",
            "value": "_fedcba9876543210.www.example.com.acm-validations.aws.",
        }
    ]
    outputs = rec.one("webplatform:cdn_cloudfront:CloudFrontCdn").outputs
    assert outputs["domain_name"].endswith(".cloudfront.net")
    assert outputs["validation_records"] == rec.stack_outputs["validation"]


def test_a_wildcard_certificate_covers_the_host_and_one_record_validates_it_and_the_apex():
    rec = build(
        certificate_domain="*.example.com",
        aliases=("example.com", "static.example.com"),
        hosted_zone_id="Z0123456789ABCDEFGHIJ",
    )
    cert = rec.one(CERT).inputs
    assert cert["domainName"] == "*.example.com"
    assert cert["subjectAlternativeNames"] == ["example.com"]  # static.* is covered
    validations = [r for r in rec.by_type(RECORD) if "-validation-" in r.name]
    assert [r.name for r in validations] == ["cdn-validation-example-com"]


def test_access_logs_only_when_a_bucket_is_given():
    assert "loggingConfig" not in build().one(DIST).inputs
    logs = build(access_logs=AccessLogs(bucket="acme-cdn-logs", prefix="cdn/prod/"))
    assert logs.one(DIST).inputs["loggingConfig"] == {
        "bucket": "acme-cdn-logs.s3.amazonaws.com",
        "prefix": "cdn/prod/",
        "includeCookies": False,
    }


def test_children_are_parented_and_named_from_the_instance():
    rec = build(hosted_zone_id="Z0123456789ABCDEFGHIJ")
    component = rec.one("webplatform:cdn_cloudfront:CloudFrontCdn")
    children = rec.children(component)
    assert {c.type for c in children} == {DIST, CERT, VALIDATION, ACL, HEADERS, CACHE, RECORD}
    assert {c.name for c in children if c.type == CACHE} == {
        "cdn-cache-policy",
        "cdn-assets-cache-policy",
    }
    assert all(c.name.startswith("cdn-") for c in children)


def args(**overrides):
    """CloudFrontCdnArgs from keyword arguments, as a Python importer writes them."""

    class East(pulumi.ProviderResource):
        def __init__(self):
            super().__init__("aws", "east", {})

    holder = {}

    def program():
        holder["args"] = CloudFrontCdnArgs(
            **{
                "host": "www.example.com",
                "origin_host": "origin.example.com",
                "content_security_policy": CSP,
                "us_east_1_provider": East(),
                **overrides,
            }
        )

    testing.run(program)
    return holder["args"]


def blamed(problem):
    """The key an error is about: pydantic's loc, plus the key a model validator named."""
    error = (problem.get("ctx") or {}).get("error")
    return tuple(problem["loc"]) + tuple(getattr(error, "loc", ()))


# (overrides, the key blamed, a piece of the message): each one a setting a user could get wrong.
BAD = [
    ({"host": "https://www.example.com"}, ("host",), "not a fully qualified host name"),
    ({"host": "WWW.example.com"}, ("host",), "lowercase"),
    ({"host": "www.example.com."}, ("host",), "trailing dot"),
    ({"host": "localhost"}, ("host",), "fully qualified"),
    ({"host": 42}, ("host",), "valid string"),
    ({"origin_host": "www.example.com"}, ("origin_host",), "also one of the CDN's public names"),
    ({"origin_host": "example.com", "aliases": ("example.com",)}, ("origin_host",), "own origin"),
    ({"origin_host": "origin.example.com:8443"}, ("origin_host",), "no scheme, port"),
    ({"content_security_policy": ""}, ("content_security_policy",), "is required"),
    ({"content_security_policy": "script-src 'self'"}, ("content_security_policy",), "default-src"),
    (
        {"content_security_policy": "default-src 'self'\r\nX-Evil: 1"},
        ("content_security_policy",),
        "single header line",
    ),
    ({"certificate_domain": "*.example.org"}, ("certificate_domain",), "does not cover the host"),
    ({"certificate_domain": "*.www.example.com"}, ("certificate_domain",), "does not cover"),
    ({"certificate_domain": "*.*.example.com"}, ("certificate_domain",), "one-level wildcard"),
    ({"price_class": "PriceClass_1"}, ("price_class",), "'PriceClass_100'"),
    ({"minimum_protocol_version": "TLSv1.2_2019"}, ("minimum_protocol_version",), "TLSv1.2_2021"),
    ({"minimum_protocol_version": "TLSv1"}, ("minimum_protocol_version",), "TLSv1.3_2025"),
    ({"waf_rate_limit": 5}, ("waf_rate_limit",), "greater than or equal to 10"),
    ({"waf_rate_limit": 2_000_000_001}, ("waf_rate_limit",), "less than or equal to 2000000000"),
    ({"waf_rate_limit": "2000"}, ("waf_rate_limit",), "valid integer"),
    ({"waf_rate_limit": 2000.0}, ("waf_rate_limit",), "valid integer"),
    ({"waf_rate_limit": True}, ("waf_rate_limit",), "valid integer"),
    ({"access_logs": {"bucket": "logs.s3.amazonaws.com"}}, ("access_logs", "bucket"), "S3 bucket"),
    ({"access_logs": {"bucket": "https://logs"}}, ("access_logs", "bucket"), "not an S3 bucket"),
    ({"access_logs": {"bucket": "acme-logs", "prefix": "/cdn"}}, ("access_logs", "prefix"), "'/'"),
    (
        {"access_logs": {"bucket": "acme-logs", "include_cookies": "no"}},
        ("access_logs", "include_cookies"),
        "valid boolean",
    ),
    ({"access_logs": {"prefix": "cdn/"}}, ("access_logs", "bucket"), "Field required"),
    (
        {"access_logs": {"bucket": "acme-logs", "region": "x"}},
        ("access_logs", "region"),
        "Extra inputs",
    ),
    ({"aliases": ("www.example.com",)}, ("aliases",), "listed twice or equals the host"),
    ({"aliases": ("example.com", "example.com")}, ("aliases",), "listed twice"),
    ({"aliases": ("Example.com",)}, ("aliases", 0), "lowercase"),
    ({"aliases": "example.com"}, ("aliases",), "valid tuple"),
    ({"hosted_zone_id": "/hostedzone/Z123"}, ("hosted_zone_id",), "Route 53 hosted zone ID"),
    ({"hosted_zone_id": "z123"}, ("hosted_zone_id",), "Route 53 hosted zone ID"),
    ({"hsts_preload": True, "hsts_max_age_seconds": 86400}, ("hsts_preload",), "hstsMaxAgeSeconds"),
    (
        {"hsts_preload": True, "hsts_include_subdomains": False},
        ("hsts_preload",),
        "hstsIncludeSubdomains",
    ),
    ({"hsts_max_age_seconds": 0}, ("hsts_max_age_seconds",), "greater than or equal to 1"),
    ({"hsts_include_subdomains": "yes"}, ("hsts_include_subdomains",), "valid boolean"),
    ({"hsts_preload": 1}, ("hsts_preload",), "valid boolean"),
    ({"frame_options": "ALLOW-FROM x"}, ("frame_options",), "'DENY' or 'SAMEORIGIN'"),
    ({"frame_options": "deny"}, ("frame_options",), "'DENY'"),
    ({"referrer_policy": "always"}, ("referrer_policy",), "strict-origin-when-cross-origin"),
    ({"assets_path_pattern": "/*"}, ("assets_path_pattern",), "not be '/*'"),
    ({"assets_path_pattern": "assets/*"}, ("assets_path_pattern",), "start with '/'"),
    ({"assets_ttl_seconds": 0}, ("assets_ttl_seconds",), "greater than or equal to 1"),
    ({"assets_ttl_seconds": 2 * ONE_YEAR}, ("assets_ttl_seconds",), "less than or equal to"),
    ({"tags": {"team": 1}}, ("tags", "team"), "valid string"),
    ({"price_clas": "PriceClass_All"}, ("price_clas",), "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("overrides", "loc", "message"), BAD, ids=lambda v: repr(v)[:60])
def test_bad_arguments_blame_one_key_with_the_rule(overrides, loc, message):
    with pytest.raises(ValidationError) as error:
        args(**overrides)
    (problem,) = error.value.errors()
    assert blamed(problem) == loc
    assert message in problem["msg"]


def test_errors_do_not_echo_the_input_value():
    """hide_input_in_errors: a CSP or tag could hold something private."""
    with pytest.raises(ValidationError) as error:
        args(content_security_policy="script-src 'nonce-s3cr3t'")
    assert "s3cr3t" not in str(error.value)


def test_camel_case_aliases_are_accepted_from_python_and_defaults_live_in_the_model():
    built = args(wafRateLimit=500, priceClass="PriceClass_All")
    assert (built.waf_rate_limit, built.price_class) == (500, "PriceClass_All")
    defaults = CloudFrontSettings(host="www.example.com", content_security_policy=CSP)
    assert defaults.price_class == "PriceClass_100"
    assert defaults.minimum_protocol_version == "TLSv1.2_2021"
    assert defaults.waf_rate_limit == 2000
    assert defaults.access_logs is None and defaults.hsts_preload is False
    fields = CloudFrontCdnArgs.model_fields
    assert all(f.description for f in fields.values()), [
        n for n, f in fields.items() if not f.description
    ]


def test_args_are_frozen_values():
    built = args()
    with pytest.raises(ValidationError, match="frozen"):
        built.host = "evil.example.com"
    assert built.aliases == () and isinstance(args(aliases=["example.com"]).aliases, tuple)


def test_the_settings_model_holds_no_wiring():
    """A stack file can set every setting and none of the wiring (origin, provider, tags)."""
    assert {"origin_host", "us_east_1_provider", "tags"}.isdisjoint(CloudFrontSettings.model_fields)
    assert set(CloudFrontCdnArgs.model_fields) - set(CloudFrontSettings.model_fields) == {
        "origin_host",
        "us_east_1_provider",
        "tags",
        "origin_address",  # the Gateway's address, wired by the stack (issue 19)
        "origin_header",
    }


def test_validating_args_does_not_import_the_aws_sdk():
    import subprocess
    import sys

    code = (
        "import sys; from webplatform.edge.cloudfront import CloudFrontSettings as S; "
        "S(host='www.example.com', content_security_policy=\"default-src 'self'\"); "
        "print('pulumi_aws' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_provider_must_be_an_aws_provider():
    class NotAws(pulumi.ProviderResource):
        def __init__(self):
            super().__init__("random", "r", {})

    def program():
        CloudFrontCdnArgs(
            host="www.example.com",
            origin_host="origin.example.com",
            content_security_policy=CSP,
            us_east_1_provider=NotAws(),
        )

    with pytest.raises(ValidationError, match=r"must be an aws\.Provider for region us-east-1"):
        testing.run(program)


def test_the_provider_must_be_a_provider_resource():
    with pytest.raises(ValidationError) as error:
        CloudFrontCdnArgs(
            host="www.example.com",
            origin_host="origin.example.com",
            content_security_policy=CSP,
            us_east_1_provider="us-east-1",
        )
    assert error.value.errors()[0]["loc"] == ("us_east_1_provider",)


# --- issue 19: the origin host's record and the secret origin header ------------------------


def test_the_origin_hosts_record_points_at_the_gateways_load_balancer():
    from webplatform.edge.origin import OriginHeader

    lb = "k8s-envoy-0123.elb.us-west-2.amazonaws.com"
    secret = pulumi.Output.secret("origin-secret-value")
    rec = build(
        hosted_zone_id="Z0VIEWERZONE",
        origin_zone_id="Z0ORIGINZONE",
        origin_address=lb,
        origin_header=OriginHeader(value=secret),
    )
    [record] = [r for r in rec.by_type(RECORD) if r.name == "cdn-origin-record"]
    assert record.inputs == {
        "zoneId": "Z0ORIGINZONE",
        "name": "origin.example.com",
        "type": "CNAME",
        "records": [lb],
        "ttl": 300,
    }
    dist = rec.one(DIST)
    assert record.urn in dist.dependencies  # CloudFront resolves the origin host
    [origin] = dist.inputs["origins"]
    assert origin["domainName"] == "origin.example.com"  # SNI and Host: the route's name
    assert origin["customHeaders"] == [{"name": "x-origin-verify", "value": "origin-secret-value"}]
    assert dist.is_secret("origins[0].customHeaders[0].value")


def test_the_origin_record_goes_to_the_hosted_zone_by_default():
    rec = build(hosted_zone_id="Z0VIEWERZONE", origin_address="lb.example.net")
    [record] = [r for r in rec.by_type(RECORD) if r.name == "cdn-origin-record"]
    assert record.inputs["zoneId"] == "Z0VIEWERZONE"
    assert "customHeaders" not in rec.one(DIST).inputs["origins"][0]


def test_an_origin_address_without_any_zone_is_refused():
    with pytest.raises(ValidationError, match="required with origin_address"):
        CloudFrontCdnArgs(
            host="www.example.com",
            origin_host="origin.example.com",
            content_security_policy=CSP,
            us_east_1_provider=aws.Provider("east", region="us-east-1"),
            origin_address="lb.example.net",
        )
