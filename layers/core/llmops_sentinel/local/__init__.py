"""See the package docstring of llmops_sentinel."""
