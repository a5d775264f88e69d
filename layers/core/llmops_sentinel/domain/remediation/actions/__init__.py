"""One module per remediation workflow action, each registered with ``@register_action`` (see ../registry.py)."""
