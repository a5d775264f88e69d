"""Seasonal profiles learned from history: one median per slot and cycle, median across cycles.

A profile for cycle ``c`` reads only cycles ``< c``, so it is fixed for a whole cycle and the score of a
point never depends on later points. Values are log-latencies; the profile is returned centred (its
median is 0) because the local level baseline carries the absolute level.
"""

from __future__ import annotations

import numpy as np

from llmops_sentinel.domain.latency.models import FloatArray, SeasonSpec, SeasonState


class SeasonalProfile:
    """Slot medians of one season, with the slot currently being filled kept aside."""

    def __init__(self, spec: SeasonSpec, state: SeasonState | None = None) -> None:
        self.spec = spec
        self.n_slots = spec.period_s // spec.slot_s
        self._cycles: dict[int, FloatArray] = {}
        self._pending_slot: int | None = None
        self._pending: list[float] = []
        self._cache: dict[int, FloatArray | None] = {}
        if state is not None:
            for cycle, row in state.cycles.items():
                if len(row) != self.n_slots:
                    raise ValueError(f"season {spec.name}: stored row has {len(row)} slots")
                self._cycles[int(cycle)] = np.array([np.nan if v is None else v for v in row])
            self._pending_slot = state.pending_slot
            self._pending = list(state.pending_values)

    def to_state(self) -> SeasonState:
        cycles = {c: [None if np.isnan(v) else float(v) for v in row] for c, row in self._cycles.items()}
        return SeasonState(
            name=self.spec.name,
            cycles=cycles,
            pending_slot=self._pending_slot,
            pending_values=list(self._pending),
        )

    def slot_keys(self, t: FloatArray) -> np.ndarray:
        return np.floor(t / self.spec.slot_s).astype(np.int64)

    def close_before(self, t0: float) -> None:
        """Finish the pending slot if ``t0`` lies in a later slot (it can receive no more points)."""
        if self._pending_slot is not None and int(np.floor(t0 / self.spec.slot_s)) > self._pending_slot:
            self._finish()

    def add(self, t: FloatArray, x: FloatArray) -> None:
        """Fold sorted accepted points into slot medians; the last slot stays pending."""
        if t.size == 0:
            return
        keys = self.slot_keys(t)
        if self._pending_slot is not None:
            keys = np.concatenate((np.full(len(self._pending), self._pending_slot, dtype=np.int64), keys))
            x = np.concatenate((np.asarray(self._pending, dtype=np.float64), x))
        last = int(keys[-1])
        done = keys != last
        if done.any():
            self._store(keys[done], x[done])
        self._pending_slot = last
        self._pending = x[~done].tolist()

    def _finish(self) -> None:
        assert self._pending_slot is not None
        n = len(self._pending)
        self._store(np.full(n, self._pending_slot, dtype=np.int64), np.asarray(self._pending, dtype=np.float64))
        self._pending_slot = None
        self._pending = []

    def _store(self, keys: np.ndarray, x: FloatArray) -> None:
        """Median per slot key (keys non-decreasing), computed by one sort: same multiset, same result."""
        order = np.lexsort((x, keys))
        xs, ks = x[order], keys[order]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(ks)) + 1))
        counts = np.diff(np.concatenate((starts, [ks.size])))
        med = (xs[starts + (counts - 1) // 2] + xs[starts + counts // 2]) / 2.0
        cycles, slots = np.divmod(ks[starts], self.n_slots)
        for cycle in np.unique(cycles).tolist():
            row = self._cycles.get(cycle)
            if row is None:
                row = np.full(self.n_slots, np.nan)
                self._cycles[cycle] = row
            sel = cycles == cycle
            row[slots[sel]] = med[sel]
        newest = int(cycles.max())
        for old in [c for c in self._cycles if c < newest - self.spec.max_cycles]:
            del self._cycles[old]

    def offsets_for_cycle(self, cycle: int) -> FloatArray | None:
        """Centred slot profile for ``cycle`` from cycles before it, or None while not trusted."""
        if cycle in self._cache:
            return self._cache[cycle]
        spec = self.spec
        rows = [self._cycles[c] for c in range(cycle - spec.max_cycles, cycle) if c in self._cycles]
        profile: FloatArray | None = None
        if len(rows) >= spec.min_cycles:
            stack = np.vstack(rows)
            counts = np.isfinite(stack).sum(axis=0)
            trusted = counts >= spec.min_cycles
            if trusted.mean() >= spec.min_coverage:
                med = np.full(self.n_slots, np.nan)
                med[trusted] = np.nanmedian(stack[:, trusted], axis=0)
                idx = np.arange(self.n_slots)
                filled = np.interp(idx, idx[trusted], med[trusted], period=self.n_slots)
                profile = filled - np.median(filled)
        self._cache = {cycle: profile}
        return profile

    def offsets(self, profile: FloatArray, t: FloatArray) -> FloatArray:
        """Profile value at each timestamp, linearly interpolated between slot centres."""
        phase = np.mod(t, self.spec.period_s) / self.spec.slot_s - 0.5
        return np.interp(phase, np.arange(self.n_slots), profile, period=self.n_slots)
