"""Scenario files that do not load: every problem at once, each at its file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.loader import ScenarioError, ScenarioIssue, load_scenario, load_scenario_text


def problems(text: str, tmp_path: Path | None = None) -> list[ScenarioIssue]:
    """The issues of a scenario text (written to ``tmp_path/s.yaml`` when given)."""
    with pytest.raises(ScenarioError) as info:
        if tmp_path is None:
            load_scenario_text(text, "s.yaml")
        else:
            path = tmp_path / "s.yaml"
            path.write_text(text)
            load_scenario(path)
    return info.value.errors


def line_of(text: str, snippet: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if snippet in line)


def only(text: str, key_path: str, snippet: str, *, line_with: str | None = None) -> ScenarioIssue:
    """The single issue of ``text``: at ``key_path``, on the line containing ``line_with``
    (default: the last part of the key path), its message containing ``snippet``."""
    found = problems(text)
    assert [i.key_path for i in found] == [key_path], found
    issue = found[0]
    assert snippet in issue.message, issue
    want = line_with if line_with is not None else key_path.rsplit(".", 1)[-1].split("[")[0]
    assert issue.line == line_of(text, want), issue
    return issue


BROKEN = """\
version: 1
nme: typo
clock:
  start: 2026-13-01
  duration: 10x
accounts:
  - name: trader
    balances: {USDT: "1.123456789", btc: 1}
  - name: trader
market: {kind: synth, preset: calmm}
strategy:
  name: market_makin
faults:
  - {at: 10s, type: skip_depth, symbol: BTCUSDT}
  - {at: 30s, type: http_error, status: 503, code: oops}
  - {at: 2h, type: clock_skew, ms: 100}
expectations:
  - no_orphan_order
  - {type: fill_count, min: 5, max: 1}
report: {sample_interval: 1s, junk: 1}
"""


def test_every_problem_is_reported_with_line_and_key_path() -> None:
    found = problems(BROKEN)
    located = {(i.line, i.key_path) for i in found}
    assert located == {
        (2, "nme"),
        (4, "clock.start"),
        (5, "clock.duration"),
        (8, "accounts[0].balances.USDT"),
        (8, "accounts[0].balances.btc"),
        (9, "accounts[1].name"),
        (10, "market.preset"),
        (12, "strategy.name"),
        (15, "faults[1].code"),  # the user wrote the fault flat, so that is the path they see
        (16, "faults[2].at"),
        (18, "expectations[0]"),
        (19, "expectations[1].min"),
        (20, "report.junk"),
    }
    assert [i.line for i in found] == sorted(i.line for i in found)  # in file order


def test_error_text_is_one_file_line_key_message_per_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        (tmp_path / "bad.yaml").write_text("version: 1\nstrategy: {name: idle}\nfaults:\n"
                                           "  - {at: 1s, type: delay}\n  - {at: 2s, type: http_error, code: x}\n")
        load_scenario(tmp_path / "bad.yaml")
    lines = str(info.value).splitlines()
    assert lines == [
        f"{tmp_path / 'bad.yaml'}:4: faults[0]: missing required key 'ms'",
        f"{tmp_path / 'bad.yaml'}:5: faults[1].code: expected an integer, got 'x'",
    ]
    assert isinstance(info.value, ValueError)


def test_unknown_keys_suggest_the_close_one() -> None:
    issue = only("strategy: {name: idle}\nexpectation: []\n", "expectation", "did you mean 'expectations'?")
    assert "allowed:" in issue.message
    only("strategy: {name: idle, trading_par: BTC-USDT}\n", "strategy.trading_par", "did you mean 'trading_pair'?",
         line_with="strategy")


@pytest.mark.parametrize(("text", "key_path", "snippet"), [
    # faults: each is checked by the control plane's own parser, located in the user's flat form
    ("faults:\n  - {at: 1s, type: http_eror}\n", "faults[0].type", "did you mean 'http_error'?"),
    ("faults:\n  - {at: 1s, type: delay, ms: 5, jiter: 3}\n", "faults[0].jiter",
     "unknown key for a delay fault (did you mean 'jitterMs'?)"),
    ("faults:\n  - {at: 1s, type: rate_limit, status: 500}\n", "faults[0].status", "must be one of 429, 418"),
    ("faults:\n  - {at: 1s, type: skip_depth, symbol: DOGEUSDT}\n", "faults[0].symbol", "unknown symbol 'DOGEUSDT'"),
    ("faults:\n  - {at: 1s, type: terminate_user_streams, account: bob}\n", "faults[0].account",
     "unknown account 'bob'"),
    ("faults:\n  - {at: 1s, type: http_error, status: 418, code: -1999}\n", "faults[0].msg",
     "required for code -1999"),
    ("faults:\n  - {type: drop_streams}\n", "faults[0]", "missing required key 'at'"),
    ("faults:\n  - {at: 1m, type: drop_streams}\n", "faults[0].at", "not before the end of the run"),
    ("faults:\n  - {at: 50s, type: clock_skew, ms: 500, duration: 20s}\n", "faults[0].duration",
     "ends at 70s, after the end of the run (clock.duration 1m)"),
    ("faults:\n  - {at: 5s, type: drop_streams, at_ms: 5000}\n", "faults[0].at_ms", "either 'at' or 'at_ms'"),
    ("faults:\n  - at_ms: 5\n    spec: {type: http_error, code: x}\n", "faults[0].spec.code", "must be an integer"),
    # clock, accounts, market, latency, report
    ("clock: {duration: 0}\n", "clock.duration", "longer than 0"),
    ("clock: {start: yesterday}\n", "clock.start", "ISO 8601"),
    ("accounts:\n  - {balances: {BTC: 0.000000001}}\n", "accounts[0].balances.BTC", "at most 8 decimals"),
    ("accounts:\n  - {balances: {BTC: 0.12345678901234567}}\n", "accounts[0].balances.BTC", "write it as a string"),
    ("accounts:\n  - {maker_rate: 1}\n", "accounts[0].maker_rate", "fee rate between 0 and 1"),
    ("accounts:\n  - {name: a}\n  - {name: a}\n", "accounts[1].name", "duplicate account name 'a'"),
    ("market: {kind: synth, preset: stormy}\n", "market.preset", "choose one of: calm"),
    ("market: {kind: synth, params: {noise: {orders_per_sec: 3}}}\n", "market.params.noise.orders_per_sec",
     "did you mean 'orders_per_s'?"),
    ("market: {kind: synth, params: {fair: {vol_1m_bps: fast}}}\n", "market.params.fair.vol_1m_bps",
     "expected a number"),
    ("market: {kind: replay}\n", "market", "needs 'file'"),
    ("market: {kind: replay, file: nowhere.jsonl}\n", "market.file", "file not found"),
    ("market: {kind: static, preset: volatile}\n", "market.preset", "only used by a synth market"),
    ("market: {kind: synth, symbols: [DOGEUSDT]}\n", "market.symbols[0]", "unknown symbol 'DOGEUSDT'"),
    ("market: {kind: flat}\n", "market.kind", "must be one of synth, replay, static"),
    ("latency: {order: fast}\n", "latency.order", "expected a duration"),
    ("report: {sample_interval: 0}\n", "report.sample_interval", "longer than 0"),
    ("version: 2\n", "version", "unsupported scenario version"),
    ("seed: lucky\n", "seed", "expected an integer, got 'lucky'"),
    # symbols
    ("symbols: nowhere.json\n", "symbols", "file not found"),
    ("symbols:\n  - {symbol: ABCUSDT, base: ABC, quote: USDT, tickSize: x, stepSize: '1', minNotional: '1'}\n",
     "symbols[0].tickSize", "at most 8 decimals"),
    ("symbols: []\n", "symbols", "expected 'default', a file path, or a non-empty list"),
    # strategy: the name and the params through the strategy's own declaration
    ("strategy: {name: twapp}\n", "strategy.name", "did you mean 'twap'?"),
    ("strategy: {name: 'no_such_module_xyz:Thing'}\n", "strategy.name", "cannot import module"),
    ("strategy: {name: market_making, params: {spread_bps: -1}}\n", "strategy.params.spread_bps", "must be > 0"),
    ("strategy: {name: idle, trading_pair: DOGE-USDT}\n", "strategy.trading_pair", "unknown trading pair"),
    # expectations: types and parameters from scenarios.expectations
    ("expectations: [fill_counts]\n", "expectations[0]", "did you mean 'fill_count'?"),
    ("expectations:\n  - {type: nope}\n", "expectations[0].type", "must be one of"),
    ("expectations:\n  - {type: fill_count, mni: 1}\n", "expectations[0].mni", "did you mean 'min'?"),
    ("expectations:\n  - {type: book_resync}\n", "expectations[0]", "missing required key 'within'"),
    ("expectations:\n  - {type: book_resync, within: soon}\n", "expectations[0].within", "expected a duration"),
    ("expectations:\n  - {type: fill_count, min: 5, max: 1}\n", "expectations[0].min", "above max 1"),
    ("expectations:\n  - {type: pnl}\n", "expectations[0]", "give at least one bound"),
    ("expectations:\n  - {type: expr, expr: 'fills >'}\n", "expectations[0].expr", "syntax error"),
    ("expectations:\n  - {type: fill_count, params: {mni: 1}}\n", "expectations[0].params.mni",
     "unknown parameter 'mni'"),
])  # fmt: skip
def test_each_kind_of_problem_is_located(text: str, key_path: str, snippet: str) -> None:
    found = problems(text if "strategy:" in text else text + "strategy: {name: idle}\n")
    assert [i.key_path for i in found] == [key_path], found
    assert snippet in found[0].message, found[0]
    first_key = key_path.split(".")[-1].split("[")[0]
    lines = [n for n, line in enumerate(text.splitlines(), 1) if f"{first_key}:" in line]
    expected_line = lines[-1] if lines else None
    if key_path.endswith("]") or expected_line is None:
        expected_line = found[0].line  # an item or a missing key: the item's own line
    assert found[0].line == expected_line


def test_yaml_problems_are_located() -> None:
    found = problems("strategy: {name: idle}\nfaults:\n  - {at: 1s\n")
    assert len(found) == 1 and "invalid YAML" in found[0].message and found[0].line in (3, 4)  # where YAML gave up
    only("strategy: {name: idle}\nseed: 1\nseed: 2\n", "seed", "duplicate key", line_with="seed: 2")


@pytest.mark.parametrize(("text", "snippet"), [("", "empty file"), ("- a\n- b\n", "expected a scenario mapping"),
                                                ("just text\n", "expected a scenario mapping")])
def test_not_a_scenario_at_all(text: str, snippet: str) -> None:
    found = problems(text)
    assert len(found) == 1 and found[0].key_path == "<root>" and snippet in found[0].message


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml:1: <root>: cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_relative_file_errors_name_the_resolved_path(tmp_path: Path) -> None:
    found = problems("symbols: data/missing.json\nstrategy: {name: idle}\n", tmp_path)
    assert found[0].key_path == "symbols" and str(tmp_path / "data" / "missing.json") in found[0].message


def test_an_unknown_key_does_not_hide_the_other_problems_of_its_section() -> None:
    text = "strategy:\n  name: idel\n  trading_par: BTC-USDT\nmarket:\n  kind: synth\n  preset: calmx\n  speed: -1\n"
    found = problems(text)
    assert [(i.line, i.key_path) for i in found] == [
        (2, "strategy.name"), (3, "strategy.trading_par"), (6, "market.preset"), (7, "market.speed"),
    ]
