"""A CloudFront distribution in front of an HTTPS origin, with its certificate, headers and WAF.

What references 000 and 003 build by hand, with these choices:

- **Certificate**: ACM, DNS-validated, for the host and its aliases, created
  in us-east-1 (the only region CloudFront reads certificates from) with the
  us-east-1 provider the caller passes in; the region is also pinned on the
  resource, so a provider configured for another region cannot put it where
  CloudFront cannot use it. With a Route 53 hosted zone the validation records
  and alias records (A and AAAA) are created; without one the validation
  records are an output to create at the DNS host, and ``pulumi up`` waits
  for them. Viewers get SNI only, and TLSv1.2_2021 or newer.
- **Origin**: a custom origin over HTTPS only (TLSv1.2), so nothing between
  the edge and the cluster is in clear text. The viewer's ``Host`` header is
  not forwarded (managed policy AllViewerExceptHostHeader): the origin sees
  its own name and must present a valid certificate for ``origin_host``.
- **Caching**: reference 000 uses the managed CachingDisabled policy as the
  default behaviour, which turns the CDN into a TLS proxy: every request,
  including cacheable pages and assets, goes to the origin. Here the default
  behaviour uses the managed UseOriginCacheControlHeaders-QueryStrings policy:
  the origin decides with ``Cache-Control`` (no header means not cached, since
  its default TTL is 0; ``private``/``no-store`` are never cached), and query
  strings are part of the cache key so ``?page=2`` is not served ``?page=1``.
  Cookies are forwarded but not in the key: a response that depends on a
  cookie must say ``private`` or ``no-store``. ``/assets/*`` (fingerprinted,
  immutable files) has its own policy that keeps them a year at the edge
  whatever the origin says, ignores cookies and query strings, and tells
  browsers ``immutable``. Never put a file whose content changes under a
  fixed name in ``/assets/``.
- **Security headers** (a response headers policy, overriding the origin's):
  HSTS one year with includeSubDomains, ``X-Frame-Options``,
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and the stack's
  ``Content-Security-Policy``. ``X-XSS-Protection`` (references 000 and 004)
  is left out: browsers have removed the XSS auditor it controlled, and its
  ``mode=block`` could itself be abused to leak data; the CSP is what
  protects against XSS now.
- **WAF**: a WAFv2 web ACL (scope CLOUDFRONT, hence us-east-1) with a per-IP
  rate-based rule first (so every request counts towards the limit) and the
  AWS managed IP reputation, common and known-bad-inputs rule groups.
  Requests are allowed unless a rule blocks them. Note that the common rule
  set blocks request bodies over 8 KB (``SizeRestrictions_BODY``).
- HTTP/2 and HTTP/3, IPv6, compression, PriceClass_100 (North America and
  Europe) by default; access logs (legacy S3 logging, which needs a bucket
  with ACLs enabled) only when a bucket is given.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from webplatform import _validation
from webplatform.edge import _checks as _edge

#: Managed cache policy "UseOriginCacheControlHeaders-QueryStrings" (TTL from the origin's
#: Cache-Control; min 0, default 0, max 1 year; query strings in the cache key).
USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
#: Managed cache policy "CachingDisabled": what reference 000 uses; named here to say we do not.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: Managed origin request policy "AllViewerExceptHostHeader" (all headers but Host, all
#: cookies and query strings to the origin).
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
#: Hosted zone of every CloudFront distribution, for Route 53 alias records.
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

#: AWS managed rule groups, in evaluation order after the rate limit.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
ORIGIN_ID = "origin"
_ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
_READ_METHODS = ["GET", "HEAD", "OPTIONS"]
_CACHED_METHODS = ["GET", "HEAD"]


@dataclass(frozen=True, kw_only=True)
class CloudFrontCdnArgs:
    host: str
    """The public host name viewers use (e.g. ``www.example.com``)."""
    origin_host: str
    """Host name of the origin (the cluster's ingress); it must serve HTTPS with a valid
    certificate for this name."""
    content_security_policy: str
    """The ``Content-Security-Policy`` header; required (no safe default fits every app);
    must set ``default-src``."""
    us_east_1_provider: pulumi.ProviderResource
    """An ``aws.Provider`` for us-east-1, used for the certificate and the web ACL (CloudFront
    only reads both from there). The caller builds it: components never build providers."""
    aliases: Sequence[str] = ()
    """Other host names served by the distribution (e.g. the apex); default none."""
    certificate_domain: str | None = None
    """The certificate's main name; default the host. May be a wildcard (``*.example.com``)
    that covers the host; aliases it does not cover become subject alternative names."""
    hosted_zone_id: pulumi.Input[str] | None = None
    """Route 53 hosted zone of the host names; default none: the validation records are
    an output to create by hand, and no alias records are made."""
    price_class: str = "PriceClass_100"
    """Edge locations used; default PriceClass_100 (North America and Europe, the cheapest)."""
    minimum_protocol_version: str = "TLSv1.2_2021"
    """Viewer TLS security policy; default TLSv1.2_2021 (TLS 1.2+, no CBC ciphers)."""
    waf_rate_limit: int = 2000
    """Requests per 5 minutes from one IP before WAF blocks it; default 2000 (WAF allows 10+)."""
    access_logs_bucket: str | None = None
    """S3 bucket *name* for access logs (needs ACLs enabled); default none: no access logs."""
    access_logs_prefix: str = ""
    """Prefix of the log objects, e.g. ``cdn/prod/``; default none."""
    access_logs_include_cookies: bool = False
    """Whether logs include cookies; default false (they often carry session tokens)."""
    assets_path_pattern: str = "/assets/*"
    """Path of fingerprinted, immutable files; default ``/assets/*``."""
    assets_ttl_seconds: int = _edge.ONE_YEAR_SECONDS
    """How long assets stay at the edge and in browsers; default one year."""
    hsts_max_age_seconds: int = _edge.ONE_YEAR_SECONDS
    """HSTS max-age; default one year."""
    hsts_include_subdomains: bool = True
    """HSTS includeSubDomains; default true."""
    hsts_preload: bool = False
    """HSTS preload; default false: preloading is a commitment for the whole domain that
    is slow to undo, so it is opted into, not implied."""
    frame_options: str = "DENY"
    """``X-Frame-Options``: DENY (default) or SAMEORIGIN."""
    referrer_policy: str = "strict-origin-when-cross-origin"
    """``Referrer-Policy``; default ``strict-origin-when-cross-origin`` (the browsers' default,
    made explicit)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the certificate, web ACL and distribution; default none."""

    def __post_init__(self) -> None:
        _edge.hostname("host", self.host)
        _edge.hostnames("aliases", self.aliases, host=self.host)
        _edge.hostname("origin_host", self.origin_host)
        if self.origin_host in (self.host, *self.aliases):
            raise ValueError(
                f"origin_host={self.origin_host!r}: must differ from the host and aliases "
                "(the distribution would be its own origin)"
            )
        _edge.content_security_policy("content_security_policy", self.content_security_policy)
        if not isinstance(self.us_east_1_provider, pulumi.ProviderResource) or (
            self.us_east_1_provider.package != "aws"
        ):
            raise ValueError(
                f"us_east_1_provider={self.us_east_1_provider!r}: must be an aws.Provider "
                "for region us-east-1"
            )
        if isinstance(self.hosted_zone_id, str):
            _edge.hosted_zone_id("hosted_zone_id", self.hosted_zone_id)
        if self.certificate_domain is not None:
            _edge.certificate_domain("certificate_domain", self.certificate_domain)
            if not _edge.covers(self.certificate_domain, self.host):
                raise ValueError(
                    f"certificate_domain={self.certificate_domain!r} does not cover "
                    f"host={self.host!r}; use the host or a wildcard one level above it"
                )
        _validation.one_of("price_class", self.price_class, _edge.PRICE_CLASSES)
        _validation.one_of(
            "minimum_protocol_version",
            self.minimum_protocol_version,
            _edge.MINIMUM_PROTOCOL_VERSIONS,
        )
        if isinstance(self.waf_rate_limit, bool) or not 10 <= self.waf_rate_limit <= 2_000_000_000:
            raise ValueError(
                f"waf_rate_limit={self.waf_rate_limit!r}: must be 10 to 2000000000 "
                "requests per 5 minutes"
            )
        if self.access_logs_bucket is not None:
            _edge.s3_bucket_name("access_logs_bucket", self.access_logs_bucket)
        if self.access_logs_prefix.startswith("/"):
            raise ValueError(
                f"access_logs_prefix={self.access_logs_prefix!r}: must not start with '/'"
            )
        if not self.assets_path_pattern.startswith("/") or self.assets_path_pattern == "/*":
            raise ValueError(
                f"assets_path_pattern={self.assets_path_pattern!r}: must start with '/' and "
                "not be '/*' (that is the default behaviour)"
            )
        _edge.check_edge_headers(self)

    @property
    def hostnames(self) -> list[str]:
        return [self.host, *self.aliases]

    @property
    def certificate_names(self) -> tuple[str, list[str]]:
        """The certificate's domain name and its subject alternative names."""
        main = self.certificate_domain or self.host
        return main, [h for h in self.hostnames if not _edge.covers(main, h)]


class CloudFrontCdn(pulumi.ComponentResource):
    """CloudFront distribution + ACM certificate + response headers policy + WAFv2 web ACL."""

    domain_name: pulumi.Output[str]
    """The distribution's ``*.cloudfront.net`` name: the target of the host's DNS record."""
    hosted_zone_id: pulumi.Output[str]
    """CloudFront's hosted zone, for alias records made elsewhere."""
    distribution_id: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]
    validation_records: pulumi.Output[list[dict[str, str]]]
    """DNS records (``name``, ``type``, ``value``) that validate the certificate; created
    in Route 53 when a hosted zone is given, otherwise to create at the DNS host."""

    def __init__(
        self, name: str, args: CloudFrontCdnArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cdn_cloudfront:CloudFrontCdn", name, None, opts)
        self._name = name
        self._args = args
        east = pulumi.ResourceOptions(parent=self, provider=args.us_east_1_provider)
        child = pulumi.ResourceOptions(parent=self)

        certificate_arn = self._certificate(east)
        web_acl = self._web_acl(east)
        distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            aws.cloudfront.DistributionArgs(
                enabled=True,
                comment=_comment(f"webplatform: {args.host}"),
                aliases=args.hostnames,
                origins=[self._origin()],
                default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                    target_origin_id=ORIGIN_ID,
                    viewer_protocol_policy="redirect-to-https",
                    allowed_methods=_ALL_METHODS,
                    cached_methods=_CACHED_METHODS,
                    compress=True,
                    cache_policy_id=USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS,
                    origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy_id=self._headers_policy("headers", None, child).id,
                ),
                ordered_cache_behaviors=[self._assets_behaviour(child)],
                http_version="http2and3",
                is_ipv6_enabled=True,
                price_class=args.price_class,
                restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                    geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                        restriction_type="none", locations=[]
                    )
                ),
                viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                    acm_certificate_arn=certificate_arn,
                    ssl_support_method="sni-only",
                    minimum_protocol_version=args.minimum_protocol_version,
                ),
                logging_config=self._logging(),
                web_acl_id=web_acl.arn,
                tags=dict(args.tags) or None,
            ),
            opts=child,
        )
        if args.hosted_zone_id is not None:
            self._alias_records(distribution, args.hosted_zone_id, child)

        self.domain_name = distribution.domain_name
        self.hosted_zone_id = distribution.hosted_zone_id
        self.distribution_id = distribution.id
        self.certificate_arn = certificate_arn
        self.web_acl_arn = web_acl.arn
        self.register_outputs(
            {
                "domain_name": self.domain_name,
                "hosted_zone_id": self.hosted_zone_id,
                "distribution_id": self.distribution_id,
                "certificate_arn": self.certificate_arn,
                "web_acl_arn": self.web_acl_arn,
                "validation_records": self.validation_records,
            }
        )

    def _certificate(self, east: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """The certificate, its DNS validation, and the validated ARN (what CloudFront may use)."""
        args, name = self._args, self._name
        main, sans = args.certificate_names
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            aws.acm.CertificateArgs(
                domain_name=main,
                subject_alternative_names=sans or None,
                validation_method="DNS",
                region="us-east-1",
                options=aws.acm.CertificateOptionsArgs(
                    certificate_transparency_logging_preference="ENABLED"
                ),
                tags=dict(args.tags) or None,
            ),
            opts=east,
        )
        options = certificate.domain_validation_options
        self.validation_records = options.apply(
            lambda items: sorted(
                (
                    {
                        "name": o.resource_record_name or "",
                        "type": o.resource_record_type or "",
                        "value": o.resource_record_value or "",
                    }
                    for o in {o.resource_record_name: o for o in items or []}.values()
                ),
                key=lambda r: r["name"],
            )
        )
        fqdns: list[pulumi.Output[str]] | None = None
        if args.hosted_zone_id is not None:
            # One record per name ACM asks for; '*.x' and 'x' share one, so key by the bare name.
            bare = sorted({d.removeprefix("*.") for d in [main, *sans]})
            fqdns = []
            for domain in bare:
                option = options.apply(functools.partial(_option_for, domain=domain))
                record = aws.route53.Record(
                    f"{name}-validation-{_edge.slug(domain)}",
                    aws.route53.RecordArgs(
                        zone_id=args.hosted_zone_id,
                        name=option.apply(lambda o: o.resource_record_name or ""),
                        type=option.apply(lambda o: o.resource_record_type or "CNAME"),
                        records=[option.apply(lambda o: o.resource_record_value or "")],
                        ttl=300,
                        # ACM reuses one record per name across certificates: a replacement
                        # certificate must be able to take over the existing record.
                        allow_overwrite=True,
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                fqdns.append(record.fqdn)
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate-validation",
            aws.acm.CertificateValidationArgs(
                certificate_arn=certificate.arn,
                validation_record_fqdns=fqdns,
                region="us-east-1",
            ),
            opts=east,
        )
        return validation.certificate_arn

    def _web_acl(self, east: pulumi.ResourceOptions) -> aws.wafv2.WebAcl:
        args, name = self._args, self._name

        def visibility(metric: str) -> dict[str, Any]:
            return {
                "cloudwatch_metrics_enabled": True,
                "metric_name": metric,
                "sampled_requests_enabled": True,
            }

        rules = [
            aws.wafv2.WebAclRuleArgs(
                name="rate-limit-per-ip",
                priority=0,
                action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                        limit=args.waf_rate_limit,
                        aggregate_key_type="IP",
                        evaluation_window_sec=300,
                    )
                ),
                visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                    **visibility(f"{name}-rate-limit-per-ip")
                ),
            )
        ]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            rules.append(
                aws.wafv2.WebAclRuleArgs(
                    name=group,
                    priority=priority,
                    override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                        none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                    ),
                    statement=aws.wafv2.WebAclRuleStatementArgs(
                        managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                            vendor_name="AWS", name=group
                        )
                    ),
                    visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                        **visibility(f"{name}-{group}")
                    ),
                )
            )
        return aws.wafv2.WebAcl(
            f"{name}-web-acl",
            aws.wafv2.WebAclArgs(
                scope="CLOUDFRONT",
                region="us-east-1",
                description=_comment(f"Edge protection for {args.host}"),
                default_action=aws.wafv2.WebAclDefaultActionArgs(
                    allow=aws.wafv2.WebAclDefaultActionAllowArgs()
                ),
                rules=rules,
                visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(**visibility(name)),
                tags=dict(args.tags) or None,
            ),
            opts=east,
        )

    def _origin(self) -> aws.cloudfront.DistributionOriginArgs:
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=ORIGIN_ID,
            domain_name=self._args.origin_host,
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80,
                https_port=443,
                origin_protocol_policy="https-only",
                origin_ssl_protocols=["TLSv1.2"],
            ),
        )

    def _headers_policy(
        self, role: str, cache_control: str | None, child: pulumi.ResourceOptions
    ) -> aws.cloudfront.ResponseHeadersPolicy:
        """The security headers; with ``cache_control``, also that header (for the assets)."""
        args = self._args
        security = aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
            strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=args.hsts_max_age_seconds,
                include_subdomains=args.hsts_include_subdomains,
                preload=args.hsts_preload,
                override=True,
            ),
            frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                frame_option=args.frame_options, override=True
            ),
            content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                override=True
            ),
            referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                referrer_policy=args.referrer_policy, override=True
            ),
            content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                content_security_policy=args.content_security_policy, override=True
            ),
            # No xss_protection: X-XSS-Protection is obsolete (see the module docstring).
        )
        custom = None
        if cache_control is not None:
            custom = aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigArgs(
                items=[
                    aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigItemArgs(
                        header="Cache-Control", value=cache_control, override=True
                    )
                ]
            )
        return aws.cloudfront.ResponseHeadersPolicy(
            f"{self._name}-{role}",
            aws.cloudfront.ResponseHeadersPolicyArgs(
                comment=_comment(f"Security headers for {args.host}"),
                security_headers_config=security,
                custom_headers_config=custom,
            ),
            opts=child,
        )

    def _assets_behaviour(
        self, child: pulumi.ResourceOptions
    ) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
        args = self._args
        ttl = args.assets_ttl_seconds
        policy = aws.cloudfront.CachePolicy(
            f"{self._name}-assets-cache-policy",
            aws.cloudfront.CachePolicyArgs(
                comment=_comment(f"Fingerprinted assets of {args.host}: {ttl} s at the edge"),
                # min = default = max: the edge keeps them for the TTL whatever the origin says.
                min_ttl=ttl,
                default_ttl=ttl,
                max_ttl=ttl,
                parameters_in_cache_key_and_forwarded_to_origin=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
                    cookies_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                        cookie_behavior="none"
                    ),
                    headers_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                        header_behavior="none"
                    ),
                    query_strings_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                        query_string_behavior="none"
                    ),
                    enable_accept_encoding_brotli=True,
                    enable_accept_encoding_gzip=True,
                ),
            ),
            opts=child,
        )
        headers = self._headers_policy("assets-headers", f"public, max-age={ttl}, immutable", child)
        return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=args.assets_path_pattern,
            target_origin_id=ORIGIN_ID,
            viewer_protocol_policy="redirect-to-https",
            allowed_methods=_READ_METHODS,
            cached_methods=_CACHED_METHODS,
            compress=True,
            cache_policy_id=policy.id,
            response_headers_policy_id=headers.id,
        )

    def _logging(self) -> aws.cloudfront.DistributionLoggingConfigArgs | None:
        args = self._args
        if args.access_logs_bucket is None:
            return None
        return aws.cloudfront.DistributionLoggingConfigArgs(
            bucket=f"{args.access_logs_bucket}.s3.amazonaws.com",
            prefix=args.access_logs_prefix or None,
            include_cookies=args.access_logs_include_cookies,
        )

    def _alias_records(
        self,
        distribution: aws.cloudfront.Distribution,
        zone_id: pulumi.Input[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """A and AAAA alias records for every host name (IPv6 is on, so AAAA too)."""
        for host in self._args.hostnames:
            for record_type in ("A", "AAAA"):
                aws.route53.Record(
                    f"{self._name}-alias-{_edge.slug(host)}-{record_type.lower()}",
                    aws.route53.RecordArgs(
                        zone_id=zone_id,
                        name=host,
                        type=record_type,
                        aliases=[
                            aws.route53.RecordAliasArgs(
                                name=distribution.domain_name,
                                zone_id=distribution.hosted_zone_id,
                                evaluate_target_health=False,
                            )
                        ],
                    ),
                    opts=child,
                )


def _option_for(
    items: Sequence[aws.acm.outputs.CertificateDomainValidationOption] | None, domain: str
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The validation option ACM returned for ``domain`` (or its wildcard)."""
    for item in items or []:
        if item.domain_name in (domain, f"*.{domain}"):
            return item
    raise ValueError(f"ACM returned no validation record for {domain!r}")


def _comment(text: str) -> str:
    """CloudFront and WAF cap comments and descriptions at 128 characters."""
    return text if len(text) <= 128 else text[:125] + "..."
