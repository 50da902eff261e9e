"""Trading overview: is the bot making or losing money, and how fast is it trading? The home board."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from .common import Limit, Row, board, gauge_sum, per_minute, prom, sel, stat_panel, timeseries_panel
from .spec import limit

UID = "qw-trading-overview"
FOLDER = "Trading"


def dashboard() -> Dashboard:
    """The board model."""
    drawdowns = [limit("QuantwatchDrawdownElevated"), limit("QuantwatchDrawdownHigh")]
    health = limit("QuantwatchHealthScoreLow")
    stale = limit("QuantwatchMarketDataStale")
    headline = Row(
        "Now",
        [
            stat_panel(
                "Realised P&L",
                "Cumulative realised P&L of the selected strategies since the bot started, in USD.",
                "currencyUSD",
                prom(gauge_sum("trading_realized_pnl_usd")),
                limits=[Limit(0, "red", below=True)],
            ),
            stat_panel(
                "Unrealised P&L",
                "Mark-to-market P&L of the open positions of the selected strategies and underlyings, in USD.",
                "currencyUSD",
                prom(gauge_sum("trading_unrealized_pnl_usd")),
            ),
            stat_panel("Portfolio value", "Account equity in USD.", "currencyUSD", prom(gauge_sum("trading_portfolio_value_usd"))),
            stat_panel(
                "Drawdown",
                f"Fall of equity from its running peak. Orange from {drawdowns[0].value:.0%} (warning), red from {drawdowns[1].value:.0%} (critical).",
                "percentunit",
                prom(f"max({sel('trading_drawdown_ratio')})"),
                limits=drawdowns,
            ),
            stat_panel("Open positions", "Positions open now in the selected strategies and underlyings.", "short", prom(gauge_sum("trading_open_positions"))),
            stat_panel(
                "Trades / min",
                "Closed trades per minute over the last rate interval, selected strategies and underlyings.",
                "suffix: trades/min",
                prom(per_minute("trading_trades_total")),
            ),
            stat_panel(
                "Health score",
                f"Composite health 0-100 of the bot (quantwatch.health). Red below {health.value:g}, where the critical alert fires.",
                "none",
                prom(f"min({sel('trading_health_score')})"),
                limits=[health],
            ),
            stat_panel(
                "Stalest market data",
                f"Age of the oldest newest-tick among the selected underlyings. Orange from {stale.value:g} s, where the stale-data alert fires.",
                "s",
                prom(f"max({sel('trading_market_data_age_seconds')})"),
                limits=[stale],
            ),
        ],
    )
    pnl = Row(
        "P&L",
        [
            timeseries_panel(
                "Realised P&L (cumulative)",
                "Realised P&L since the bot started, in USD: the total and each strategy. A falling line is money lost on closed trades.",
                "currencyUSD",
                prom(gauge_sum("trading_realized_pnl_usd"), "total"),
                prom(gauge_sum("trading_realized_pnl_usd", by=("strategy",)), "{{strategy}}"),
            ),
            timeseries_panel(
                "Unrealised P&L by strategy",
                "Mark-to-market P&L of open positions per strategy, in USD; it becomes realised when positions close.",
                "currencyUSD",
                prom(gauge_sum("trading_unrealized_pnl_usd", by=("strategy",)), "{{strategy}}"),
            ),
            timeseries_panel(
                "Portfolio value and cash",
                "Account equity and cash balance in USD.",
                "currencyUSD",
                prom(gauge_sum("trading_portfolio_value_usd"), "equity"),
                prom(gauge_sum("trading_cash_usd"), "cash"),
            ),
            timeseries_panel(
                "Drawdown",
                f"Fall of equity from its running peak. The dashed lines are the drawdown alert thresholds: "
                f"{drawdowns[0].value:.0%} (warning) and {drawdowns[1].value:.0%} (critical).",
                "percentunit",
                prom(f"max({sel('trading_drawdown_ratio')})", "drawdown"),
                limits=drawdowns,
            ),
        ],
    )
    activity = Row(
        "Trading activity",
        [
            timeseries_panel(
                "Trades per minute by strategy and result",
                "Closed trades per minute, split by strategy and by result (win, loss, flat).",
                "suffix: trades/min",
                prom(per_minute("trading_trades_total", by=("strategy", "result")), "{{strategy}} {{result}}"),
                stack=True,
            ),
            timeseries_panel(
                "Win ratio by strategy",
                "Share of closed trades with a positive P&L since the bot started, per strategy.",
                "percentunit",
                prom(f"max by (strategy) ({sel('trading_win_ratio')})", "{{strategy}}"),
            ),
            timeseries_panel(
                "Open positions by strategy",
                "Positions open per strategy, selected underlyings.",
                "short",
                prom(gauge_sum("trading_open_positions", by=("strategy",)), "{{strategy}}"),
                stack=True,
                w=24,
            ),
        ],
    )
    return board(
        UID,
        "Trading overview",
        "P&L, drawdown, positions and trade rate of the bot: the first board to open.",
        [headline, pnl, activity],
    )
