"""Demo scenes: one module each, listed in ``sentinel_dev.local.demo.SCENES``."""
