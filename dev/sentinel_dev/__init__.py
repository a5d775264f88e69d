"""The developer package: the local cloud (moto), the ``sentinel`` CLI and the demo.

It is installed by ``make`` into the dev venv and never shipped in the Lambda layer, which holds only
``llmops_sentinel`` (the code the handlers import). ``sentinel_dev`` may import ``llmops_sentinel``;
the reverse is forbidden by an import-linter contract.
"""
