"""Order-path latency models: how long an order takes to reach the book, and a reply to come back.

A model is a recipe; ``sampler(rng)`` turns it into a stateful draw function returning integer
nanoseconds, so the same model object can serve the entry and the response path with
independent random streams (and independent positions in a latency file). All randomness comes
from the ``random.Random`` handed in, which the runner derives from its one seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

from mock_exchange.market.readers.records import ReplayFormatError

Sampler = Callable[[], int]
NS_PER_MS = 1_000_000


class LatencyModel:
    """Base class: subclasses implement ``sampler``."""

    def sampler(self, rng: random.Random) -> Sampler:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__


class ConstantLatency(LatencyModel):
    """The same delay every time (``ms`` may be fractional)."""

    def __init__(self, ms: float) -> None:
        if ms < 0:
            raise ValueError(f"latency must be >= 0 ms, got {ms}")
        self.ms = ms
        self.ns = round(ms * NS_PER_MS)

    def sampler(self, rng: random.Random) -> Sampler:
        ns = self.ns
        return lambda: ns

    def describe(self) -> str:
        return f"constant {self.ms:g} ms"


class LognormalLatency(LatencyModel):
    """Lognormal delays: ``median_ms`` is exp(mu), ``sigma`` the log-space spread.

    Network and matching-engine latencies are right-skewed with a hard floor; ``min_ms`` adds
    that floor and ``max_ms`` (optional) clips the tail so one draw cannot stall a replay.
    """

    def __init__(self, median_ms: float, sigma: float, min_ms: float = 0.0, max_ms: float | None = None) -> None:
        if median_ms <= 0 or sigma < 0 or min_ms < 0:
            raise ValueError("lognormal latency needs median_ms > 0, sigma >= 0, min_ms >= 0")
        if max_ms is not None and max_ms < min_ms:
            raise ValueError("max_ms must be >= min_ms")
        self.median_ms = median_ms
        self.sigma = sigma
        self.min_ms = min_ms
        self.max_ms = max_ms

    def sampler(self, rng: random.Random) -> Sampler:
        mu = math.log(self.median_ms)
        sigma = self.sigma
        floor = self.min_ms
        cap = math.inf if self.max_ms is None else self.max_ms
        draw = rng.lognormvariate

        def sample() -> int:
            return round(min(floor + draw(mu, sigma), cap) * NS_PER_MS)

        return sample

    def describe(self) -> str:
        return f"lognormal median {self.median_ms:g} ms sigma {self.sigma:g} (+{self.min_ms:g} ms)"


class FileLatency(LatencyModel):
    """Delays read from a file (one column of ms values), used in order and cycled.

    The file is plain text or CSV: blank lines and ``#`` comments are skipped, a first line that
    is not a number is taken as a header, ``column`` picks the field (0-based index, or the
    header's name). Recorded round trips of a real venue make the most honest model.
    """

    def __init__(self, path: str | Path, column: int | str = 0) -> None:
        self.path = Path(path)
        self.column = column
        self.values_ns = self._read()

    def _read(self) -> list[int]:
        name = str(self.path)
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ReplayFormatError(name, 0, f"cannot read latency file: {exc}") from exc
        index = self.column if isinstance(self.column, int) else None
        values: list[int] = []
        first = True
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = [f.strip() for f in line.replace(";", ",").replace("\t", ",").split(",")]
            if first:  # header detection
                first = False
                if index is None:  # a named column needs a header
                    if self.column not in fields:
                        raise ReplayFormatError(name, lineno, f"no column {self.column!r} in header {fields}")
                    index = fields.index(str(self.column))
                    continue
                if index < len(fields) and not _is_number(fields[index]):
                    continue
            assert index is not None
            if index >= len(fields):
                raise ReplayFormatError(name, lineno, f"no column {index} (line has {len(fields)} fields)")
            try:
                ms = float(fields[index])
            except ValueError:
                raise ReplayFormatError(name, lineno, f"latency {fields[index]!r} is not a number of ms") from None
            if not math.isfinite(ms) or ms < 0:
                raise ReplayFormatError(name, lineno, f"latency {fields[index]!r} must be a finite number >= 0")
            values.append(round(ms * NS_PER_MS))
        if not values:
            raise ReplayFormatError(name, 0, "latency file has no values")
        return values

    def sampler(self, rng: random.Random) -> Sampler:
        values = self.values_ns
        n = len(values)
        pos = [0]

        def sample() -> int:
            i = pos[0]
            pos[0] = i + 1 if i + 1 < n else 0
            return values[i]

        return sample

    def describe(self) -> str:
        return f"file {self.path.name} ({len(self.values_ns)} values, cycled)"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_latency(spec: str | float | LatencyModel) -> LatencyModel:
    """A model from a short spec: ``2``/``"2ms"`` (constant), ``"lognormal:median=20,sigma=0.5,min=1"``,
    ``"file:PATH"`` or ``"file:PATH:COLUMN"``. For CLI flags and scenario files."""
    if isinstance(spec, LatencyModel):
        return spec
    if isinstance(spec, int | float):
        return ConstantLatency(float(spec))
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        return ConstantLatency(float(text.removesuffix("ms")))
    if kind == "const":
        return ConstantLatency(float(rest.removesuffix("ms")))
    if kind == "file":
        path, sep2, col = rest.rpartition(":")
        if sep2 and path and not (len(path) == 1 and path.isalpha()):  # keep "C:..." paths whole
            return FileLatency(path, int(col) if col.isdigit() else col)
        return FileLatency(rest)
    if kind == "lognormal":
        params: dict[str, float] = {}
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq:
                raise ValueError(f"bad lognormal parameter {item!r} in {spec!r} (want key=value)")
            params[key.strip()] = float(value)
        unknown = set(params) - {"median", "sigma", "min", "max"}
        if unknown or "median" not in params:
            raise ValueError(f"lognormal latency takes median=, sigma=, min=, max= (got {spec!r})")
        return LognormalLatency(params["median"], params.get("sigma", 0.5), params.get("min", 0.0), params.get("max"))
    raise ValueError(f"unknown latency model {kind!r} in {spec!r}")
