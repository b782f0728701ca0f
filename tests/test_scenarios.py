"""BTC price measures (neutral, user, historical with its standard error) and the fee spike regime."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from mullet.scenarios import (
    FeeModel,
    PriceMeasure,
    apply_price_measure,
    fee_spike_days,
    fit_fee_model,
    fit_price_model,
    simulate_fees_btc_per_block,
    simulate_prices_usd,
)


def test_neutral_measure_mean_price_grows_at_the_risk_free_rate() -> None:
    fitted = fit_price_model()
    neutral = apply_price_measure(fitted, PriceMeasure(risk_free_rate_per_year=0.04))
    # hand: log drift = r - vol^2 / 2 - jumps/yr x (E[exp J] - 1); vol and jumps unchanged
    comp = fitted.jump_per_year * (np.exp(fitted.jump_mean + fitted.jump_sd**2 / 2) - 1)
    assert neutral.drift_per_year == pytest.approx(0.04 - fitted.vol_per_year**2 / 2 - comp)
    assert (neutral.vol_per_year, neutral.jump_per_year) == (fitted.vol_per_year, fitted.jump_per_year)
    assert neutral.expected_growth_per_year == pytest.approx(0.04)
    end = simulate_prices_usd(neutral, 100.0, 365, 20_000, seed=1)[:, -1]
    se = end.std() / np.sqrt(len(end))
    assert abs(end.mean() - 100 * np.exp(0.04)) < 3.5 * se


def test_historical_measure_is_opt_in_and_carries_its_standard_error() -> None:
    fitted = fit_price_model()
    years = (pd.Timestamp("2025-12-29") - pd.Timestamp("2018-01-01")).days / 365.0
    assert fitted.drift_se_per_year == pytest.approx(fitted.vol_per_year / np.sqrt(years), rel=1e-3)
    hist = apply_price_measure(fitted, PriceMeasure(kind="historical"))
    assert hist.drift_per_year == fitted.drift_per_year and hist.measure == "historical"
    default = apply_price_measure(fitted)
    assert default.measure == "neutral" and default.historical_drift_per_year == fitted.drift_per_year
    text = default.describe()
    assert "neutral" in text and f"+/- {fitted.drift_se_per_year:.1%}" in text
    # the 2018-2025 drift is under two standard errors from zero: a plan resting on it rests on noise
    assert fitted.drift_per_year / fitted.drift_se_per_year < 2


def test_user_measure_needs_a_growth_rate() -> None:
    with pytest.raises(ValidationError, match="expected_growth_per_year"):
        PriceMeasure(kind="user")
    m = apply_price_measure(fit_price_model(), PriceMeasure(kind="user", expected_growth_per_year=0.1))
    assert m.expected_growth_per_year == pytest.approx(0.1) and m.measure == "user"
    assert PriceMeasure.model_validate_json(PriceMeasure(kind="user", expected_growth_per_year=0.1).model_dump_json()).kind == "user"


def test_fee_spikes_are_the_known_episodes() -> None:
    spikes = fee_spike_days()
    flagged = set(spikes.index[spikes["spike"]].strftime("%Y-%m-%d"))
    assert {"2023-05-08", "2024-04-20"} <= flagged  # BRC-20 mania; the halving block and the Runes launch
    assert "2025-06-15" not in flagged
    fm = fit_fee_model()
    assert 0 < fm.spike_share_of_days < 0.1
    assert np.exp(fm.spike_log_mean) > 3  # spike days carry several times the usual fees
    assert fm.spike_start_per_day == pytest.approx(
        (spikes["spike"].to_numpy()[1:] & ~spikes["spike"].to_numpy()[:-1]).sum() / (~spikes["spike"].to_numpy()[:-1]).sum()
    )


def test_simulated_spike_share_matches_the_markov_chain() -> None:
    model = FeeModel(0.02, 0.0, 0.0, spike_start_per_day=0.02, spike_stay_per_day=0.7, spike_log_mean=1.0, spike_log_sd=0.0)
    fees = simulate_fees_btc_per_block(model, 2_000, 50, seed=2)
    share = (fees > 0.02 * 1.5).mean()
    assert model.spike_share_of_days == pytest.approx(0.02 / (0.02 + 0.3))
    assert share == pytest.approx(model.spike_share_of_days, abs=0.01)
    np.testing.assert_allclose(fees[fees > 0.03], 0.02 * np.e)
    no_spikes = simulate_fees_btc_per_block(FeeModel(0.02, 0.3, 0.5), 50, 4, seed=1)  # the old three-field model still works
    assert no_spikes.shape == (4, 50) and (no_spikes > 0).all()
