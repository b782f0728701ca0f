"""Market modules: a shared contract every market passes (BaseMarketTest), and ERCOT's own known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mullet.errors import ScenarioError
from mullet.markets import ERCOT, MARKETS, Market, get_market


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

    def test_peak_intervals_one_per_peak_month(self) -> None:
        m = self.market
        load = m.system_load()
        peaks = m.peak_intervals(load)
        if not m.coincident_peak_months:
            assert len(peaks) == 0
            return
        assert len(peaks) > 0
        local = peaks.tz_convert(m.timezone)
        assert set(local.month) <= set(m.coincident_peak_months)
        for p in peaks:
            month = local[peaks.get_loc(p)]
            same = load[(load.index.tz_convert(m.timezone).year == month.year) & (load.index.tz_convert(m.timezone).month == month.month)]
            assert load[p] == same.max()


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
