"""The synthesized market (issue 5 §2): an agent-based market on simpy trading through the engine.

``SynthMarket(target, preset, seed, start_ms)`` builds the agents; ``run_until(ms)`` advances it
in virtual time; ``run_wall_clock(state, preset, seed)`` runs it inside ``mockex serve``.
Presets by name: ``PRESET_NAMES``; ``get_preset(name)`` raises a ValueError listing them.
"""

from mock_exchange.market.synth.driver import WallClockDriver, run_wall_clock
from mock_exchange.market.synth.fair import FairModel, simulate_minutes
from mock_exchange.market.synth.market import (
    DEFAULT_START_MS,
    SimClock,
    SynthMarket,
    priced_symbols,
    starting_price,
)
from mock_exchange.market.synth.metrics import FeedCounter, stylized_facts
from mock_exchange.market.synth.presets import PRESET_NAMES, PRESETS, SynthParams, get_preset

__all__ = [
    "DEFAULT_START_MS",
    "PRESETS",
    "PRESET_NAMES",
    "FairModel",
    "FeedCounter",
    "SimClock",
    "SynthMarket",
    "SynthParams",
    "WallClockDriver",
    "get_preset",
    "priced_symbols",
    "run_wall_clock",
    "simulate_minutes",
    "starting_price",
    "stylized_facts",
]
