"""The run test (``run_points`` / ``run_rate``): ``run_points`` consecutive points with z >= run_z alarm.

It is OR-ed with the capped level CUSUM: a step whose first points sit at z of about 2 gives the
capped CUSUM (h / 4 per point, h = 6) about 1.1 per point and needs 6-7 points; four such points pass
the run test. A burst shorter than ``run_points`` can never pass it, however large (docs/latency.md,
*The run test*).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from llmops_sentinel.domain.latency import DetectorState, LatencyDetector, LatencyParams, detect
from tests.unit.latency.latency_series import series

NOISE = 0.08
AT = 1500
PARAMS = LatencyParams(warmup_trend=False)
OFF = PARAMS.model_copy(update={"run_points": 0})


def _step_series(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise, then from AT a step whose points sit at z of 2.2, 2.2, 2.2, 2.2, 1.3, 1.3, then 2.2 on."""
    rng = np.random.default_rng(seed)
    ts, vs = series(rng, AT + 200, noise=NOISE)
    z = np.full(200, 2.2)
    z[4:6] = 1.3
    vs[AT:] = 200.0 * np.exp(NOISE * z)
    return ts, vs


def _first(records: list, after: int) -> object:  # type: ignore[type-arg]
    hits = [r for r in records if r.detected_index >= after]
    assert hits, "no alarm after the step"
    return hits[0]


def test_run_z_follows_the_per_point_rate() -> None:
    det = LatencyDetector(PARAMS)
    run_z = det._run_q / 65536.0
    from statistics import NormalDist

    assert abs(NormalDist().cdf(-run_z) ** PARAMS.run_points - PARAMS.run_rate) < 1e-8
    assert 1.85 < run_z < 1.87


def test_run_test_catches_a_step_the_capped_cusum_detects_late() -> None:
    ts, vs = _step_series(7)
    late = _first(detect(ts, vs, OFF).alarm_records, AT)
    assert late.detected_index - AT > 5, late  # the capped CUSUM alone: after the 5-point window
    hit = _first(detect(ts, vs, PARAMS).alarm_records, AT)
    assert hit.detected_index == AT + PARAMS.run_points - 1, hit
    assert hit.statistic == "level" and hit.onset_index == AT and hit.direction == "up"
    assert hit.magnitude > 0.1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(1.25, 1e4), min_size=3, max_size=3), st.integers(0, 3))
def test_a_three_point_burst_of_any_size_never_passes_the_run_test(mult: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    ts, vs = series(rng, AT + 100, noise=NOISE)
    out = vs.copy()
    out[AT : AT + 3] = 200.0 * np.asarray(mult)  # z >= log(1.25) / 0.08 = 2.8 over the true level
    out[AT + 3 : AT + 40] = 200.0  # the true level (z about 0): only the run test could fire now
    r = detect(ts, out, PARAMS)
    assert not [a for a in r.alarm_records if AT <= a.detected_index < AT + 40]
    # ... and a 4th point at the burst's smallest z does pass it.
    out[AT + 3] = 200.0 * min(mult)
    hits = [a for a in detect(ts, out, PARAMS).alarm_records if AT <= a.detected_index < AT + 40]
    assert hits and hits[0].detected_index == AT + 3 and hits[0].onset_index == AT


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=20), st.integers(AT - 5, AT + 8))
def test_chunks_and_json_state_give_the_batch_scores(sizes: list[int], cut: int) -> None:
    ts, vs = _step_series(7)
    ts, vs = ts[: AT + 60], vs[: AT + 60]
    batch = detect(ts, vs, PARAMS)
    assert not np.array_equal(batch.scores, detect(ts, vs, OFF).scores)  # the run test matters here
    det = LatencyDetector(PARAMS)
    first = det.update(ts[:cut], vs[:cut])
    scores, records = [first.scores], list(first.new_alarms)
    det = LatencyDetector.from_state(DetectorState.model_validate_json(det.state().model_dump_json()))
    i, j = cut, 0
    while i < ts.size:
        step = sizes[j % len(sizes)]
        out = det.update(ts[i : i + step], vs[i : i + step])
        scores.append(out.scores)
        records += out.new_alarms
        i, j = i + step, j + 1
    np.testing.assert_array_equal(np.concatenate(scores), batch.scores)
    assert records == batch.alarm_records


def test_a_state_without_the_run_count_still_loads() -> None:
    ts, vs = _step_series(7)
    cut = AT + 2  # inside the run: the stored count (2) is what makes the resume exact
    det = LatencyDetector(PARAMS)
    det.update(ts[:cut], vs[:cut])
    blob = det.state().model_dump(mode="json")
    assert blob["run_count"] == 2
    del blob["run_count"]  # a state written before the run test
    old = LatencyDetector.from_state(DetectorState.model_validate(blob))
    assert old.state().run_count == 0
    old.update(ts[cut:], vs[cut:])  # resumes (the run restarts from zero)
