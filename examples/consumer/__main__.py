"""Entry point of the example's Pulumi program."""

from shop import ShopConfig, build

build(ShopConfig.from_pulumi())
