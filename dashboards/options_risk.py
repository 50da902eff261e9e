"""Options risk: net Greeks per underlying, where the positions are, and what the risk checks say."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard, DataTransformerConfig

from .common import Row, bargauge_panel, board, gauge_sum, per_minute, prom, table_panel, timeseries_panel
from .spec import limit

UID = "qw-options-risk"
FOLDER = "Trading"

#: Greek → (panel unit, what one unit means). Units follow the catalogue's help text.
GREEKS = {
    "delta": ("suffix: shares", "share-equivalents: the P&L of a $1 move in the underlying"),
    "gamma": ("suffix: shares/$", "change of delta per $1 move in the underlying"),
    "vega": ("currencyUSD", "USD gained or lost per volatility point"),
    "theta": ("currencyUSD", "USD earned (positive) or paid per day of time decay"),
}


def dashboard() -> Dashboard:
    """The board model."""
    greeks = Row(
        "Greeks by underlying",
        [
            timeseries_panel(
                f"Net {greek} by underlying",
                f"Net option {greek} of all open positions per underlying, in {meaning}.",
                unit,
                prom(gauge_sum("trading_greek_exposure", f'greek="{greek}"', by=("symbol",)), "{{symbol}}"),
                w=6,
            )
            for greek, (unit, meaning) in GREEKS.items()
        ],
    )
    now = Row(
        "Exposure now",
        [
            table_panel(
                "Greek exposure now",
                "Current net Greeks, one row per underlying: delta in shares, gamma in shares per $1, vega in USD per vol point, theta in USD per day.",
                "short",
                prom(gauge_sum("trading_greek_exposure", by=("symbol", "greek")), instant=True, fmt="table"),
                transformations=[
                    DataTransformerConfig(id_val="groupingToMatrix", options={"columnField": "greek", "rowField": "symbol", "valueField": "Value"}),
                ],
                column_units={greek: unit for greek, (unit, _) in GREEKS.items()},
            ),
            bargauge_panel(
                "Open positions by strategy",
                "Positions open now per strategy, selected underlyings.",
                "short",
                prom(gauge_sum("trading_open_positions", by=("strategy",)), "{{strategy}}", instant=True),
                w=12,
            ),
        ],
    )
    positions = Row(
        "Positions",
        [
            timeseries_panel(
                "Open positions by strategy and underlying",
                "Positions open over time, stacked per strategy and underlying.",
                "short",
                prom(gauge_sum("trading_open_positions", by=("strategy", "symbol")), "{{strategy}} {{symbol}}"),
                stack=True,
            ),
            timeseries_panel(
                "Unrealised P&L by underlying",
                "Mark-to-market P&L of open positions per underlying, in USD.",
                "currencyUSD",
                prom(gauge_sum("trading_unrealized_pnl_usd", by=("symbol",)), "{{symbol}}"),
            ),
        ],
    )
    checks = Row(
        "Risk checks",
        [
            timeseries_panel(
                "Risk checks by result",
                "Pre-trade risk checks per minute, by check and result; fails block an order.",
                "suffix: checks/min",
                prom(per_minute("trading_risk_checks_total", by=("check", "result")), "{{check}} {{result}}"),
            ),
            timeseries_panel(
                "Risk limit violations",
                "Risk limits breached per minute, by check. Any value above zero (the dashed line) fires the risk-violation alert.",
                "suffix: violations/min",
                prom(per_minute("trading_risk_violations_total", by=("check",)), "{{check}}"),
                limits=[limit("QuantwatchRiskLimitViolated")],
            ),
        ],
    )
    return board(
        UID,
        "Options risk",
        "Net option Greeks per underlying, open positions by strategy, and pre-trade risk checks.",
        [greeks, now, positions, checks],
    )
