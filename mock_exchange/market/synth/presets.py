"""Parameter sets of the synthesized market, by name (``calm``, ``volatile``, ``trending``,
``flash_crash``, ``thin_book``).

Everything is expressed so one preset fits any symbol: prices in basis points of the fair
price or in ticks (spreads of liquid pairs are a few ticks whatever the price), sizes in USD
notional (converted for a non-dollar quote such as ETHBTC's), rates per second of simulated
time. ``calm`` is calibrated against BTCUSDT's public
streams (about 110 bookTicker, 30 trade and 10 depth@100ms frames per second) and the stylized
facts of 1-minute returns; the others are variations of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class CrashParams:
    """A scripted flash crash: the fair price falls, liquidity is pulled, a seller liquidates."""

    at_s: float = 900.0  # seconds after the market starts
    drop: float = 0.08  # fraction the fair price loses during the fall
    fall_s: float = 45.0
    recover: float = 0.7  # fraction of the drop regained afterwards
    recover_s: float = 300.0
    maker_size_factor: float = 0.15  # market makers quote this fraction of their size meanwhile
    maker_spread_factor: float = 25.0  # ... this many times wider
    liquidation_notional: float = 4_000_000.0  # USD sold at market by the liquidator over the fall
    liquidation_orders: int = 120


@dataclass(frozen=True, slots=True)
class FairParams:
    """The latent (fair) log price: regime-switching, GARCH-like volatility and Poisson jumps."""

    updates_per_s: float = 5.0  # Poisson rate of fair-price updates
    vol_1m_bps: float = 4.0  # base standard deviation of 1-minute log returns
    regime_mults: tuple[float, ...] = (0.5, 1.0, 2.5)  # volatility multiplier per regime
    regime_minutes: tuple[float, ...] = (8.0, 6.0, 4.0)  # mean time spent in each regime
    garch_alpha: float = 0.1  # weight per second of the latest squared shock in the variance
    garch_halflife_s: float = 120.0  # half-life of excess variance back to the regime's level
    shock_cap: float = 40.0  # a single standardized squared shock counts at most this much
    jumps_per_hour: float = 8.0
    jump_bps: float = 6.0  # mean absolute jump size (Laplace)
    drift_bps_per_hour: float = 0.0
    impact_bps_per_m: float = 2.0  # permanent move per 1,000,000 USD of non-agent taker flow
    transient_bps_per_m: float = 6.0  # extra, decaying move of the quoted reference for that flow
    transient_halflife_s: float = 20.0


@dataclass(frozen=True, slots=True)
class MakerParams:
    """Fast market makers: one or two levels a side around the fair price, refreshed often."""

    count: int = 10
    half_spread_ticks: tuple[int, int] = (1, 2)
    second_level_bps: tuple[float, float] = (0.15, 0.8)  # extra distance of level 2 (0 = none)
    notional: tuple[float, float] = (1_500.0, 12_000.0)  # USD size of level 1 (range over makers)
    second_level_mult: float = 2.5
    reaction_ms: tuple[float, float] = (2.0, 40.0)  # latency to a fair-price change or a fill
    refresh_s: float = 3.0  # requote at least this often
    refill_fraction: float = 0.95  # requote after fills leave less than this of the size
    skew_bps_per_m: float = 4.0  # quotes shift this much per 1,000,000 USD of inventory
    aggressive_share: float = 0.1  # share of makers whose quotes take stale quotes they cross;
    # the others slide a crossing quote to one tick behind the opposite touch (post-only)
    level2_tolerance: float = 0.5  # level 2 stays while within this fraction of its gap of target


@dataclass(frozen=True, slots=True)
class DepthParams:
    """Slow liquidity providers: a ladder from near the touch to far out, refreshed lazily."""

    count: int = 4
    orders_per_side: int = 80
    band_bps: tuple[float, float] = (0.4, 35.0)
    notional: float = 9_000.0  # median order notional at the near edge of the band
    growth: float = 0.06  # size grows by this fraction per bp of distance
    size_sigma: float = 0.7
    refresh_s: float = 2.0
    lifetime_s: float = 45.0  # mean life of an order before it is replaced (0 = until it leaves the band)
    # Latency range to pull orders a fair-price move left inside the band's inner edge ((0, 0) = never);
    # without it, stale ladder orders pin the touch for a refresh and the mid lags the fair price.
    pull_reaction_ms: tuple[float, float] = (5.0, 60.0)


@dataclass(frozen=True, slots=True)
class NoiseParams:
    """Uninformed takers: Poisson arrivals, heavy-tailed sizes, market and marketable limits."""

    count: int = 40
    orders_per_s: float = 19.0  # all noise traders together
    p_market: float = 0.55
    p_ioc: float = 0.3  # the rest are GTC marketable limits whose remainder rests a while
    through_ticks: int = 4  # a marketable limit reaches up to this many ticks through the touch
    notional_median: float = 250.0
    notional_sigma: float = 1.1
    tail_prob: float = 0.06  # share of orders drawn from the Pareto tail instead
    tail_min: float = 3_000.0
    tail_alpha: float = 1.4
    max_notional: float = 400_000.0
    gtc_life_s: float = 6.0


@dataclass(frozen=True, slots=True)
class MomentumParams:
    """Trend followers: buy after the mid rose, sell after it fell."""

    count: int = 5
    check_s: float = 4.0
    lookback_s: float = 30.0
    threshold_bps: float = 3.0
    notional: float = 4_000.0  # per threshold's worth of move
    max_notional: float = 60_000.0


@dataclass(frozen=True, slots=True)
class InformedParams:
    """Traders who know the fair price and take the book when the mid strays from it."""

    count: int = 4
    check_s: float = 0.4
    threshold_bps: float = 0.6
    notional_per_bp: float = 8_000.0
    max_notional: float = 250_000.0


@dataclass(frozen=True, slots=True)
class SynthParams:
    """One preset: every agent population and the fair-price process."""

    name: str = "calm"
    fair: FairParams = field(default_factory=FairParams)
    makers: MakerParams = field(default_factory=MakerParams)
    depth: DepthParams = field(default_factory=DepthParams)
    noise: NoiseParams = field(default_factory=NoiseParams)
    momentum: MomentumParams = field(default_factory=MomentumParams)
    informed: InformedParams = field(default_factory=InformedParams)
    crash: CrashParams | None = None
    funding_notional: float = 2_000_000_000.0  # each agent starts with this much (USD) in quote and in base


def _build() -> dict[str, SynthParams]:
    calm = SynthParams()
    volatile = replace(
        calm,
        name="volatile",
        fair=replace(calm.fair, vol_1m_bps=14.0, jumps_per_hour=20.0, jump_bps=15.0, updates_per_s=3.5,
                     regime_mults=(0.6, 1.0, 2.6)),
        makers=replace(calm.makers, half_spread_ticks=(2, 12), second_level_bps=(0.5, 2.5)),
        noise=replace(calm.noise, orders_per_s=24.0),
        momentum=replace(calm.momentum, count=8, threshold_bps=8.0),
        informed=replace(calm.informed, threshold_bps=1.5),
    )  # fmt: skip
    trending = replace(
        calm,
        name="trending",
        fair=replace(calm.fair, drift_bps_per_hour=150.0, vol_1m_bps=6.0),
        momentum=replace(calm.momentum, count=10, check_s=3.0, threshold_bps=2.0, notional=8_000.0),
    )
    flash_crash = replace(calm, name="flash_crash", crash=CrashParams())
    thin_book = replace(
        calm,
        name="thin_book",
        makers=replace(calm.makers, count=3, half_spread_ticks=(5, 40), notional=(300.0, 2_000.0),
                       second_level_bps=(1.0, 4.0), refresh_s=6.0),
        depth=replace(calm.depth, count=2, orders_per_side=25, band_bps=(3.0, 60.0), notional=1_500.0),
        noise=replace(calm.noise, orders_per_s=5.0, count=15, notional_median=120.0),
        momentum=replace(calm.momentum, count=2),
        informed=replace(calm.informed, count=2, check_s=1.5, threshold_bps=3.0, notional_per_bp=1_500.0),
    )  # fmt: skip
    return {p.name: p for p in (calm, volatile, trending, flash_crash, thin_book)}


PRESETS: dict[str, SynthParams] = _build()
PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


def get_preset(preset: str | SynthParams) -> SynthParams:
    """The parameter set of a preset name (a ``SynthParams`` passes through unchanged)."""
    if isinstance(preset, SynthParams):
        return preset
    params = PRESETS.get(preset)
    if params is None:
        raise ValueError(f"unknown synth preset {preset!r}; choose one of: {', '.join(PRESET_NAMES)}")
    return params
