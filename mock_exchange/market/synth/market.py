"""``SynthMarket``: an agent-based market on simpy that trades through the engine.

Every agent is a simpy process with its own engine account and its own random stream; the
streams are derived from one seed in a fixed order, and simpy breaks ties by scheduling order,
so one seed reproduces a run exactly (same orders, same trades). The user's orders go into the
same engine and books, so they take the agents' liquidity, are taken by the agents, and —
being flow the agents did not send — move the latent fair price (permanent impact).

Time: simpy's ``env.now`` is milliseconds since ``start_ms``. In-process (tests, scenarios)
the engine must read that time: build the market with no target (it makes its own engine on a
``SimClock``) or hand it an engine built on a ``SimClock`` you pass as ``clock``. Inside
``mockex serve`` the engine keeps the server's wall clock and the driver (``driver.py``) steps
the environment up to the wall clock every few milliseconds.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Generator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import simpy
from faker import Faker

from mock_exchange.engine import KEEP_NONE, Engine, EngineError, Retention, units
from mock_exchange.market.synth.fair import FairModel
from mock_exchange.market.synth.makers import DepthProvider, MarketMaker
from mock_exchange.market.synth.presets import SynthParams, get_preset
from mock_exchange.market.synth.takers import InformedTrader, Liquidator, MomentumTrader, NoiseTrader
from mock_exchange.market.synth.venue import Agent, Venue

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState

DEFAULT_START_MS = 1_700_000_000_000
# How busy each default symbol is relative to BTCUSDT (scales order rates and sizes).
DEFAULT_ACTIVITY: dict[str, float] = {"BTCUSDT": 1.0, "ETHUSDT": 0.6}
OTHER_ACTIVITY = 0.25


class SimEnvironment(simpy.Environment):
    """simpy's environment with ``advance_to``, the cheap form of ``run(until=...)``.

    The wall-clock driver advances the market every few milliseconds (360,000 times per
    synthesized hour in a scenario); ``run(until=...)`` schedules a stop event each time and
    ends by raising an exception, which cost more than the few agent events of a short step.
    """

    def advance_to(self, until: float) -> None:
        """Process every event scheduled before ``until``, then move the clock to ``until``.

        The same as ``run(until=until)`` for ``until`` later than now: its stop event is urgent,
        so events at exactly ``until`` wait for the next step there too.
        """
        queue = self._queue
        step = self.step
        while queue and queue[0][0] < until:
            step()
        if until > self._now:
            self._now = until


class SimClock:
    """An engine clock that reads the market's simulated time: ``start_ms + env.now``.

    Build the engine with it before the market exists; the market binds its environment.
    """

    __slots__ = ("start_ms", "env")

    def __init__(self, start_ms: int = DEFAULT_START_MS) -> None:
        self.start_ms = start_ms
        self.env: simpy.Environment | None = None

    def __call__(self) -> int:
        env = self.env
        return self.start_ms + (int(env.now) if env is not None else 0)


def starting_price(engine: Engine, symbol: str) -> int | None:
    """Where a symbol's fair price starts: the book's mid, else its last trade, else the
    default market's reference price; None when nothing is known."""
    bp, _, ap, _ = engine.best_bid_ask(symbol)
    if bp and ap:
        return (bp + ap) // 2
    last = engine.market_data.last_price(symbol)
    if last:
        return last
    from mock_exchange.default_market import REFERENCE_PRICES

    return REFERENCE_PRICES.get(symbol)


_DOLLARS = frozenset(("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI", "USD"))


def usd_per_quote(engine: Engine, quote: str) -> float:
    """What one unit of ``quote`` is worth in USD: 1 for dollar stablecoins, else from a
    ``<quote>USDT``-like symbol's price; 1 when nothing is known (sizes are then in quote)."""
    if quote in _DOLLARS:
        return 1.0
    for usd in ("USDT", "USDC", "FDUSD"):
        if quote + usd in engine.symbols:
            price = starting_price(engine, quote + usd)
            if price:
                return price / units.SCALE
    return 1.0


def priced_symbols(engine: Engine) -> list[str]:
    """The TRADING symbols of ``engine`` that have a starting price (what ``serve`` runs)."""
    return [s for s, spec in engine.symbols.items() if spec.status == "TRADING" and starting_price(engine, s)]


class SynthMarket:
    """The synthesized market of one or more symbols of one engine (see the module docstring).

    ``target``: None (a fresh engine with the default symbols on a ``SimClock``), an ``Engine``,
    or an ``ExchangeState`` (its engine; agents trade next to the server's users).
    ``replace_account``: the account of a seeded static book (the default market's) whose
    resting orders on the synthesized symbols are cancelled, so the agents make the market.
    ``symbols`` defaults to BTCUSDT; ``prices`` (units) overrides where each fair price starts
    (default: the book's mid, the last trade, the default market's reference price);
    ``activity`` scales a symbol's order rates and sizes (BTCUSDT 1.0 by default).
    An ``Engine`` target without ``clock`` must already read the market's time (or be driven
    in step with it); ``start_ms`` is then where the market's time starts (default
    ``DEFAULT_START_MS``; for a state, its clock's current time).
    ``agent_retention``: what the agents' accounts keep of their finished orders and fills;
    nothing by default (nobody queries them, and an hour of agent history is ~0.5 GB).
    ``agent_reports``: whether the engine emits the agents' execution reports and balance
    changes; off by default (nobody can subscribe to an agent's user data, and building them
    was a third of an agent order's cost). The public events (book deltas, trades) and every
    id are the same either way.
    """

    def __init__(
        self,
        target: Engine | ExchangeState | None = None,
        preset: str | SynthParams = "calm",
        seed: int = 1,
        start_ms: int | None = None,
        *,
        symbols: Sequence[str] | None = None,
        prices: Mapping[str, int] | None = None,
        activity: Mapping[str, float] | None = None,
        clock: SimClock | None = None,
        replace_account: str | None = "market-maker",
        agent_retention: Retention = KEEP_NONE,
        agent_reports: bool = False,
    ) -> None:
        self.params = get_preset(preset)
        self.agent_retention = agent_retention
        self.agent_reports = agent_reports
        self.seed = seed
        self.env = SimEnvironment()
        self.state: ExchangeState | None = None
        if clock is not None:
            if start_ms is not None and start_ms != clock.start_ms:
                raise ValueError("start_ms differs from the clock's start_ms")
            start_ms = clock.start_ms
        if target is None:
            clock = clock or SimClock(DEFAULT_START_MS if start_ms is None else start_ms)
            from mock_exchange.default_market import default_symbols

            engine = Engine(clock=clock)
            for spec in default_symbols():
                engine.add_symbol(spec)
        elif isinstance(target, Engine):
            engine = target
        else:
            self.state = target
            engine = target.engine
            if start_ms is None:
                start_ms = target.base_clock()
        self.engine = engine
        self.start_ms = clock.start_ms if clock is not None else (DEFAULT_START_MS if start_ms is None else start_ms)
        if clock is not None:
            clock.env = self.env
        self.clock = clock
        names = list(symbols) if symbols is not None else ["BTCUSDT"]
        for s in names:
            if s not in engine.symbols:
                raise ValueError(f"unknown symbol {s!r}; the engine has: {', '.join(engine.symbols)}")
        self.venues: dict[str, Venue] = {}
        self.agents: list[Agent] = []
        self._seen_exec_id = -1  # the engine's last execution id when ``run_until`` returned
        self._fake = Faker()
        self._fake.seed_instance(seed)
        master = random.Random(seed)
        for s in names:
            price = (prices or {}).get(s) or starting_price(engine, s)
            if not price:
                raise ValueError(f"no starting price for {s}: pass prices={{{s!r}: ...}}")
            if replace_account is not None and replace_account in engine.accounts:
                with contextlib.suppress(EngineError):  # nothing resting there
                    engine.cancel_all(replace_account, s)
            act = (activity or {}).get(s, DEFAULT_ACTIVITY.get(s, OTHER_ACTIVITY))
            self._build_venue(s, price, act, random.Random(master.getrandbits(64)))

    # ------------------------------------------------------------------ construction
    def _account(self, kind: str, venue: Venue, price: int) -> str:
        """A new zero-fee engine account named by faker, funded in base and quote."""
        engine = self.engine
        while True:
            name = f"synth-{kind}-{self._fake.user_name()}"
            if name not in engine.accounts:
                break
        fund = self.params.funding_notional / venue.usd_per_quote  # in quote
        balances = {venue.quote: int(fund * units.SCALE), venue.base: int(fund * 1e16 / price)}
        engine.create_account(name, balances, maker_rate=0, taker_rate=0, retention=self.agent_retention,
                              reports=self.agent_reports)  # fmt: skip
        return name

    def _build_venue(self, symbol: str, price: int, act: float, rng: random.Random) -> None:
        p = self.params
        if act < 1.0:
            # A quieter symbol: fewer makers and ladders, fewer fair-price updates (same
            # volatility), so fewer orders; order rates and sizes scale with ``act`` below.
            p = replace(
                p,
                fair=replace(p.fair, updates_per_s=p.fair.updates_per_s * max(act, 0.3)),
                makers=replace(p.makers, count=max(2, round(p.makers.count * act))),
                depth=replace(p.depth, count=max(1, round(p.depth.count * act))),
            )
        spec = self.engine.symbols[symbol]
        fair = FairModel(p.fair, float(price), random.Random(rng.getrandbits(64)), p.crash)
        history = max(p.momentum.lookback_s * 1500.0, 1000.0)
        v = Venue(self.env, self.engine, spec, fair, history, usd_per_quote(self.engine, spec.quote_asset))
        self.venues[symbol] = v
        env = self.env

        def add(agent: Agent) -> None:
            self.agents.append(agent)
            env.process(agent.run())

        def child() -> random.Random:
            return random.Random(rng.getrandbits(64))

        env.process(self._fair_process(v))
        env.process(v.sampler())
        for _ in range(p.depth.count):
            add(DepthProvider(v, self._account("depth", v, price), child(), p.depth, p.crash, act))
        n_aggressive = round(p.makers.count * p.makers.aggressive_share)
        for i in range(p.makers.count):
            add(MarketMaker(v, self._account("maker", v, price), child(), p.makers, p.crash, act, i < n_aggressive))
        n = p.noise.count
        for _ in range(n):
            rate = p.noise.orders_per_s * act / n
            add(NoiseTrader(v, self._account("noise", v, price), child(), p.noise, rate))
        for _ in range(p.momentum.count):
            add(MomentumTrader(v, self._account("momentum", v, price), child(), p.momentum, act))
        for _ in range(p.informed.count):
            add(InformedTrader(v, self._account("informed", v, price), child(), p.informed, act))
        if p.crash is not None:
            add(Liquidator(v, self._account("liquidator", v, price), child(), p.crash, act))

    def _fair_process(self, v: Venue) -> Generator[simpy.Event, Any, None]:
        """Process: update the fair price at Poisson times and tell the makers."""
        env, fair = self.env, v.fair
        t = env.now
        while True:
            yield env.timeout(fair.next_gap_ms())
            fair.step(t, env.now)
            t = env.now
            for notify in fair.listeners:
                notify()

    # ------------------------------------------------------------------ running
    @property
    def now_ms(self) -> int:
        """The market's current time on the engine's timeline (ms since the epoch)."""
        return self.start_ms + int(self.env.now)

    def run_until(self, t_ms: int) -> None:
        """Advance the market to time ``t_ms`` (ms since the epoch, the engine's timeline).

        First reads trades the agents did not make (the user's orders since the last call):
        makers learn of their fills and the fair price takes the flow's permanent impact.
        Events stay in the engine for the caller to drain (``engine.drain_events`` or
        ``state.publish``).
        """
        engine = self.engine
        if engine.last_execution_id != self._seen_exec_id:  # someone else's orders ran since
            for v in self.venues.values():
                v.scan(own=False)
        target = t_ms - self.start_ms
        if target > self.env.now:
            self.env.advance_to(target)
        self._seen_exec_id = engine.last_execution_id

    def run_for(self, ms: int) -> None:
        """Advance the market by ``ms`` milliseconds."""
        self.run_until(self.now_ms + ms)

    def fair_price(self, symbol: str = "BTCUSDT") -> float:
        """The latent fair price of ``symbol`` in engine units (float)."""
        return self.venues[symbol].fair.price

    def stats(self) -> dict[str, Any]:
        """Counters per symbol: agent orders, cancels, rejections, external flow seen."""
        out: dict[str, Any] = {}
        for s, v in self.venues.items():
            out[s] = {"orders": v.orders, "cancels": v.cancels, "rejects": v.rejects,
                      "external_flow": v.external_flow, "fair": v.fair.price / units.SCALE}  # fmt: skip
        kinds: dict[str, int] = {}
        for a in self.agents:
            kinds[a.kind] = kinds.get(a.kind, 0) + 1
        out["agents"] = kinds
        return out
