"""Demo scenes: one module each, listed in ``llmops_sentinel.local.demo.SCENES``."""
