"""webplatform guardrails: see the modules; the public API is re-exported by ``webplatform``."""
