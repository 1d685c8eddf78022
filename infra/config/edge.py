"""The CDN in front of the apps."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.config._base import _at, _Model
from webplatform.edge import _checks as _edge

CdnProvider = Literal["cloudfront", "cloudflare", "none"]


class AccessLogsSpec(_Model):
    bucket: str = Field(
        description="S3 bucket name (ACLs enabled, awslogsdelivery granted) for CloudFront logs."
    )
    prefix: str | None = Field(default=None, description="Prefix of the log objects, e.g. 'cdn/'.")
    include_cookies: bool | None = Field(default=None, description="Log cookies (default false).")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        _edge.s3_bucket_name("bucket", value)
        return value


class CloudFrontSpec(_Model):
    hosted_zone_id: str | None = Field(
        default=None,
        description="Route 53 zone of the host names: validation and alias records go there. "
        "Without it the validation records are a stack output to create by hand.",
    )
    certificate_domain: str | None = Field(
        default=None,
        description="The certificate's main name (default the host); may be '*.example.com'.",
    )
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] | None = Field(
        default=None, description="Edge locations used (component default PriceClass_100)."
    )
    minimum_protocol_version: Literal["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"] | None = (
        Field(default=None, description="Viewer TLS policy (component default TLSv1.2_2021).")
    )
    waf_rate_limit: int | None = Field(
        default=None,
        ge=10,
        le=2_000_000_000,
        description="Requests per 5 minutes per IP before WAF blocks (component default 2000).",
    )
    access_logs: AccessLogsSpec | None = Field(default=None, description="Default: no logs.")

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            _edge.hosted_zone_id("hostedZoneId", value)
        return value

    @field_validator("certificate_domain")
    @classmethod
    def _certificate_domain(cls, value: str | None) -> str | None:
        if value is not None:
            _edge.certificate_domain("certificateDomain", value)
        return value


class CloudflareSpec(_Model):
    zone_id: str = Field(description="The Cloudflare zone ID (32 hex characters).")
    min_tls_version: Literal["1.2", "1.3"] | None = Field(
        default=None, description="Zone minimum TLS version (component default 1.2)."
    )

    @field_validator("zone_id")
    @classmethod
    def _zone(cls, value: str) -> str:
        _edge.zone_id("zoneId", value)
        return value


class CdnSpec(_Model):
    """The edge in front of the app: which CDN, for which host names, to which origin."""

    provider: CdnProvider = Field(description="cloudfront, cloudflare, or none (no CDN).")
    host: str | None = Field(default=None, description="Public host name, e.g. www.example.com.")
    aliases: list[str] = Field(default_factory=list, description="Other public host names.")
    origin_host: str | None = Field(
        default=None, description="Host name of the origin (the ingress), served over HTTPS."
    )
    content_security_policy: str | None = Field(
        default=None, description="The Content-Security-Policy header the edge sets."
    )
    cloudfront: CloudFrontSpec | None = Field(default=None, description="provider: cloudfront.")
    cloudflare: CloudflareSpec | None = Field(default=None, description="provider: cloudflare.")

    @field_validator("host", "origin_host")
    @classmethod
    def _hostname(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _edge.hostname(to_camel(info.field_name or ""), value)
        return value

    @field_validator("content_security_policy")
    @classmethod
    def _csp(cls, value: str | None) -> str | None:
        if value is not None:
            _edge.content_security_policy("contentSecurityPolicy", value)
        return value

    @model_validator(mode="after")
    def _provider_rules(self) -> CdnSpec:
        provider = self.provider
        if provider == "none":
            extra = [
                key
                for key, value in (
                    ("host", self.host),
                    ("aliases", self.aliases),
                    ("originHost", self.origin_host),
                    ("contentSecurityPolicy", self.content_security_policy),
                    ("cloudfront", self.cloudfront),
                    ("cloudflare", self.cloudflare),
                )
                if value
            ]
            if extra:
                raise _at(
                    ("provider",),
                    f"is none, but {', '.join(extra)} {'is' if len(extra) == 1 else 'are'} set; "
                    "choose cloudfront or cloudflare, "
                    "or remove those keys",
                )
            return self
        for key, value in (
            ("host", self.host),
            ("originHost", self.origin_host),
            ("contentSecurityPolicy", self.content_security_policy),
        ):
            if not value:
                raise _at((key,), f"required when provider is {provider}")
        assert self.host is not None and self.origin_host is not None
        try:
            _edge.hostnames("aliases", self.aliases, host=self.host)
        except ValueError as exc:
            raise _at(("aliases",), str(exc)) from None
        if self.origin_host in (self.host, *self.aliases):
            raise _at(
                ("originHost",),
                f"{self.origin_host!r} is also a public host name; the origin must be another name",
            )
        other = "cloudflare" if provider == "cloudfront" else "cloudfront"
        if getattr(self, other) is not None:
            raise _at((other,), f"only allowed with provider {other} (provider is {provider})")
        if provider == "cloudflare" and self.cloudflare is None:
            raise _at(("cloudflare", "zoneId"), "required when provider is cloudflare")
        domain = self.cloudfront.certificate_domain if self.cloudfront else None
        if domain is not None and not _edge.covers(domain, self.host):
            raise _at(
                ("cloudfront", "certificateDomain"),
                f"{domain!r} does not cover the host {self.host!r}; use the host or a "
                "wildcard one level above it",
            )
        return self
