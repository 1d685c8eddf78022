"""webplatform secrets: see the modules; the public API is re-exported by ``webplatform``."""
