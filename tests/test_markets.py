"""Market modules: a shared contract every market passes (BaseMarketTest), and ERCOT's own known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mullet.errors import ScenarioError
from mullet.markets import ERCOT, MARKETS, PJM, Market, get_market


class BaseMarketTest:
    """Every market module must pass these. Subclass with ``market = <instance>`` (see mullet.markets.base)."""

    market: Market

    def test_identity(self) -> None:
        m = self.market
        assert MARKETS[m.name] is m and get_market(m.name.lower()) is m
        pd.Timestamp("2023-01-01", tz=m.timezone)  # a valid IANA zone
        assert m.hubs and set(m.hubs).isdisjoint(m.load_zones)
        assert set(m.hub_of_zone) <= set(m.load_zones) and set(m.hub_of_zone.values()) <= set(m.hubs)

    def test_prices_are_utc_interval_starts_on_a_fixed_grid(self) -> None:
        for frame, points in ((self.market.hub_prices(), self.market.hubs), (self.market.load_zone_prices(), self.market.load_zones)):
            assert str(frame.index.tz) == "UTC" and frame.index.is_monotonic_increasing and frame.index.is_unique
            assert set(points) <= set(frame.columns)
            step = pd.Series(frame.index).diff().min()
            assert step in (pd.Timedelta("15min"), pd.Timedelta("1h"))

    def test_coverage_is_honest(self) -> None:
        m = self.market
        for point in (m.hubs[0], *m.load_zones[:1]):
            first, last = m.coverage(point)
            assert m.covers(point, first, last)
            assert not m.covers(point, first - pd.Timedelta(days=1), last)
        with pytest.raises(ScenarioError, match="allowed"):
            m.point_kind("NOT_A_POINT")

    def test_ancillary_products_state_their_deployment_source(self) -> None:
        m = self.market
        prices = m.ancillary_prices()
        assert str(prices.index.tz) == "UTC"
        for name, spec in m.ancillary_products.items():
            assert spec.name == name and spec.direction in ("up", "down") and spec.award_interval_h > 0
            assert spec.deployment_source  # a source, or why there is none
            assert spec.deployment_fraction is None or 0 <= spec.deployment_fraction <= 1
            assert name in prices.columns

    def test_billing_months_are_local(self) -> None:
        m = self.market
        idx = pd.date_range("2023-01-01", periods=24 * 400, freq="1h", tz="UTC")
        local = idx.tz_convert(m.timezone)
        np.testing.assert_array_equal(m.billing_month(idx), local.year * 12 + local.month - 1)
        np.testing.assert_array_equal(m.calendar_year(idx), local.year)

    def test_peak_intervals_follow_the_rule(self) -> None:
        m = self.market
        load = m.system_load()
        peaks = m.peak_intervals(load, min_hours_per_month=0)  # the bundled load may be a sample shorter than a peak month
        if not m.coincident_peak_months:
            assert len(peaks) == 0 and m.coincident_peaks_per_year == 0
            return
        assert len(peaks) > 0 and m.coincident_peaks_per_year > 0
        local = peaks.tz_convert(m.timezone)
        loc_load = load.index.tz_convert(m.timezone)
        assert set(local.month) <= set(m.coincident_peak_months)
        for p, when in zip(peaks, local, strict=True):
            if m.coincident_peak_basis == "month":  # each the highest of its month
                same = load[(loc_load.year == when.year) & (loc_load.month == when.month)]
            else:  # each the highest of its day, one per day, at most k per season
                same = load[loc_load.date == when.date()]
            assert load[p] == same.max()
        if m.coincident_peak_basis == "season":
            assert len(set(local.date)) == len(peaks) <= m.coincident_peaks_per_season * len(set(local.year))


class TestErcot(BaseMarketTest):
    market = ERCOT

    def test_known_values(self) -> None:
        assert ERCOT.timezone == "America/Chicago"
        assert ERCOT.coincident_peak_months == (6, 7, 8, 9)
        assert ERCOT.point_kind("LZ_WEST") == "load_zone" and ERCOT.point_kind("HB_WEST") == "hub"
        # 2023 load-zone prices only; the hubs span 2021-2024
        assert ERCOT.coverage("LZ_WEST")[0].year == 2023 and ERCOT.coverage("LZ_WEST")[1].year == 2024  # 2023-12-31 23:00 CST is 2024 UTC
        assert ERCOT.coverage("HB_WEST")[0] == pd.Timestamp("2021-01-01 06:00", tz="UTC")
        # an interval starting 03:00 UTC on 1 August is 22:00 on 31 July in Texas: July's bill
        idx = pd.DatetimeIndex([pd.Timestamp("2023-08-01 03:00", tz="UTC"), pd.Timestamp("2023-08-01 06:00", tz="UTC")])
        assert list(ERCOT.billing_month(idx) % 12 + 1) == [7, 8]

    def test_2023_peaks_match_the_bundled_proxy(self) -> None:
        from mullet.data import load_ercot_4cp_proxy

        proxy = load_ercot_4cp_proxy()
        peaks = ERCOT.peak_intervals(ERCOT.system_load())
        assert set(proxy.index) <= set(peaks)

    def test_load_zone_basis_2023_west(self) -> None:
        # the review: LZ_WEST averaged about $10.4/MWh above HB_WEST in 2023
        lz = ERCOT.prices("LZ_WEST")
        hub = ERCOT.prices("HB_WEST").resample("1h").mean().reindex(lz.index)
        basis = (lz - hub).dropna()
        assert 9.0 < basis.mean() < 12.0
        assert 1_000 < int((basis > 20).sum()) < 1_500

    def test_eia930_history_spans_2016_2024(self) -> None:
        hist = ERCOT.system_load_history()
        assert hist.index[0] == pd.Timestamp("2016-01-01", tz="UTC") and hist.index[-1].year == 2024
        assert int(hist.isna().sum()) == 241
        assert 85_000 < hist.loc["2023"].max() < 86_000


class TestPjm(BaseMarketTest):
    """PJM (issue 15): bundled samples only; the dispatch peak charge is 5CP (five daily peaks per summer, not per-month peaks)."""

    market = PJM

    def test_known_values_and_the_peak_rule(self) -> None:
        assert PJM.timezone == "America/New_York" and PJM.coincident_peak_months == (6, 7, 8, 9)
        rule = PJM.peak_charge_rule
        assert rule.name == "5CP/NSPL" and rule.capacity_peaks == 5 and rule.capacity_months == (6, 7, 8, 9)
        assert PJM.coincident_peak_basis == "season" and PJM.coincident_peaks_per_year == 5 and ERCOT.coincident_peaks_per_year == 4
        assert rule.capacity_rate_usd_per_mw_day is None and rule.transmission_rate_usd_per_mw_year is None  # not bundled: the user's
        prices = PJM.hub_prices()  # real Data Miner 2 LMPs through the gridstatus-shaped loader
        assert prices.index[0] == pd.Timestamp("2025-05-01 04:00", tz="UTC") and len(prices) == 44
        assert prices["WESTERN HUB"].max() == pytest.approx(704.871394)

    def test_five_cp_on_real_pjm_load(self) -> None:
        load = PJM.system_load()
        assert int(load.isna().sum()) == 0 and len(load) == 19 * 24
        five = PJM.five_cp_intervals(load)
        local = five.tz_convert(PJM.timezone)
        assert sorted(local.day) == [8, 9, 15, 16, 17] and len(set(local.date)) == 5  # one hour per day
        # each is its day's peak, and no other day peaks higher than the lowest of the five (independent check)
        daily = load.groupby(load.index.tz_convert(PJM.timezone).date).max()
        assert sorted(load[five].to_numpy()) == sorted(daily.nlargest(5).to_numpy())
        assert PJM.one_cp_intervals(load)[0] == pd.Timestamp("2024-07-16 21:00", tz="UTC")  # 153,121 MW
        # a flat 50 MW site contributes 50 MW; one that is off in the five hours contributes 0
        flat = pd.Series(50.0, index=load.index)
        assert PJM.peak_load_contribution_mw(flat, load) == 50.0
        assert PJM.peak_load_contribution_mw(flat.where(~flat.index.isin(five), 0.0), load) == 0.0
        with pytest.raises(ScenarioError, match="5CP hour"):
            PJM.peak_load_contribution_mw(flat.drop(five[:1]), load)

    def test_a_pjm_site_dispatches_on_the_sample(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        from mullet.dispatch import dispatch

        toml = tmp_path / "pjm.toml"
        toml.write_text(
            'name = "pjm-west"\nstart = "2025-05-02"\nend = "2025-05-02"\n[interconnect]\nimport_limit_mw = 100\n'
            '[[mining]]\nname = "s21"\nmodel = "Antminer S21"\nunits = 10000\n[power]\nmarket = "PJM"\nsettlement_point = "WESTERN HUB"\n'
        )
        result = dispatch(toml)
        price = PJM.prices("WESTERN HUB").loc["2025-05-02"]
        assert result.metrics["hours"] == 24 and result.metrics["spot_price_mean_usd_per_mwh"] == pytest.approx(price.mean())
        mining = result.schedule["mining_mw"]
        assert mining.loc[pd.Timestamp("2025-05-02 21:00", tz="UTC")] == 0.0  # 704.87 USD/MWh at 17:00 EPT: mining stops
        assert mining.max() > 0
