"""Drift core: parse inference records, derive features, fold them into mergeable profiles, test drift.

Pure code (numpy, datasketches, orjson, pydantic, stdlib; scipy only lazily inside functions). The API a
Lambda handler calls:

- :func:`records.parse_lines` / :func:`records.parse_bytes` -> ``ParseResult`` (ok records + per-record errors)
- :func:`profiles.profile_batch` (records -> ``EndpointProfile``), :func:`profiles.merge_profiles`
- :func:`profiles.profile_to_json` / :func:`profiles.profile_from_json` (versioned JSON, sketches base64)
- :func:`stat_tests.check_drift` (baseline, current, config) -> ``DriftReport``
- :func:`baseline.load_baseline` (profile JSON, Model Monitor statistics.json or raw data)
"""
