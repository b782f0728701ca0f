"""Test helpers shipped with mullet: small site inputs built from arrays, and hypothesis strategies.

Use them to check your own solvers or scenarios against mullet's, e.g.
``greedy_dispatch`` vs ``solve_lp`` on :func:`site_inputs` draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mullet.dispatch.inputs import SiteInputs

__all__ = ["make_inputs", "run_cli", "site_inputs"]


def make_inputs(
    price_usd_per_mwh: Sequence[float],
    mining_value_usd_per_mwh: Sequence[float] | Sequence[Sequence[float]],
    fleet_max_mw: Sequence[float] = (10.0,),
    fleet_min_mw: Sequence[float] | None = None,
    *,
    import_limit_mw: float = 1_000.0,
    firm_ai_mw: float = 0.0,
    firm_ai_revenue_usd_per_h: float = 0.0,
    dt_h: float = 1.0,
    start: str = "2023-08-01",
    ramp_mw_per_h: Sequence[float] | None = None,
    min_on_h: Sequence[float] | None = None,
    min_off_h: Sequence[float] | None = None,
    on_min_mw: Sequence[float] | None = None,
    as_price_usd_per_mw_h: Sequence[Sequence[float]] | None = None,
    max_offer_fraction: float = 0.0,
    deployment_fraction: float = 0.0,
    demand_charge_usd_per_mw_month: float = 0.0,
    flex_max_mw: Sequence[float] = (),
    flex_min_mw: Sequence[float] = (),
    flex_budget_mwh: Sequence[float] = (),
    flex_revenue_lost_usd_per_mwh: Sequence[float] = (),
    flex_sla_usd_per_mwh: Sequence[float] = (),
    ppa_mw: float = 0.0,
    ppa_price_usd_per_mwh: float = 0.0,
    adder_usd_per_mwh: float = 0.0,
    cp_hour: Sequence[bool] | None = None,
    cp_usd_per_mwh: float = 0.0,
) -> SiteInputs:
    """Site inputs from plain arrays (T intervals, F fleets), for tests and small analytic cases."""
    price = np.asarray(price_usd_per_mwh, dtype=float)
    t = len(price)
    value = np.asarray(mining_value_usd_per_mwh, dtype=float)
    if value.ndim == 1:
        value = value[:, None]
    f = value.shape[1]
    index = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=t, freq=pd.Timedelta(hours=dt_h))
    products = [f"P{k}" for k in range(0 if as_price_usd_per_mw_h is None else np.shape(as_price_usd_per_mw_h)[1])]
    b = len(flex_max_mw)
    return SiteInputs(
        index=index,
        dt_h=dt_h,
        price_usd_per_mwh=price,
        adder_usd_per_mwh=adder_usd_per_mwh,
        cp_hour=np.zeros(t, dtype=bool) if cp_hour is None else np.asarray(cp_hour, dtype=bool),
        cp_usd_per_mwh=cp_usd_per_mwh,
        cp_in_objective=True,
        forced_curtail=np.zeros(t, dtype=bool),
        system_load_mw=None,
        hashprice_usd_per_ph_day=np.full(t, 50.0),
        mining_value_usd_per_mwh=value,
        fleet_names=[f"fleet{j}" for j in range(f)],
        fleet_max_mw=np.asarray(fleet_max_mw, dtype=float),
        fleet_min_mw=np.zeros(f) if fleet_min_mw is None else np.asarray(fleet_min_mw, dtype=float),
        fleet_ramp_mw_per_h=np.full(f, np.inf) if ramp_mw_per_h is None else np.asarray(ramp_mw_per_h, dtype=float),
        fleet_on_min_mw=np.zeros(f) if on_min_mw is None else np.asarray(on_min_mw, dtype=float),
        fleet_min_on_h=np.zeros(f) if min_on_h is None else np.asarray(min_on_h, dtype=float),
        fleet_min_off_h=np.zeros(f) if min_off_h is None else np.asarray(min_off_h, dtype=float),
        fleet_hashrate_ths=np.zeros(f),
        as_products=products,
        as_price_usd_per_mw_h=np.zeros((t, 0)) if as_price_usd_per_mw_h is None else np.asarray(as_price_usd_per_mw_h, dtype=float),
        as_max_offer_fraction=max_offer_fraction,
        as_deployment_fraction=deployment_fraction,
        firm_ai_mw=firm_ai_mw,
        firm_ai_revenue_usd_per_h=firm_ai_revenue_usd_per_h,
        flex_names=[f"flex{j}" for j in range(b)],
        flex_max_mw=np.asarray(flex_max_mw, dtype=float),
        flex_min_mw=np.asarray(flex_min_mw, dtype=float),
        flex_budget_mwh=np.asarray(flex_budget_mwh, dtype=float),
        flex_revenue_lost_usd_per_mwh=np.asarray(flex_revenue_lost_usd_per_mwh or [0.0] * b, dtype=float),
        flex_sla_usd_per_mwh=np.asarray(flex_sla_usd_per_mwh or [0.0] * b, dtype=float),
        flex_revenue_usd_per_h=np.zeros(b),
        import_limit_mw=import_limit_mw,
        ppa_mw=np.full(t, ppa_mw),
        ppa_cost_usd_per_h=np.full(t, ppa_mw * ppa_price_usd_per_mwh),
        month=(index.year * 12 + index.month - 1).to_numpy().astype(np.int64),
        demand_charge_usd_per_mw_month=demand_charge_usd_per_mw_month,
    )


def site_inputs(max_intervals: int = 24, max_fleets: int = 3, max_products: int = 2):  # type: ignore[no-untyped-def]
    """Hypothesis strategy of separable site inputs (prices may be negative or spike to $5,000/MWh)."""
    from hypothesis import strategies as st

    @st.composite
    def draw(draw_):  # type: ignore[no-untyped-def]
        t = draw_(st.integers(2, max_intervals))
        f = draw_(st.integers(1, max_fleets))
        p = draw_(st.integers(0, max_products))
        money = st.floats(-100, 5_000, allow_nan=False, allow_infinity=False)
        price = draw_(st.lists(money, min_size=t, max_size=t))
        value = draw_(st.lists(st.lists(st.floats(0, 400), min_size=f, max_size=f), min_size=t, max_size=t))
        fmax = draw_(st.lists(st.floats(1, 100), min_size=f, max_size=f))
        fmin = [m * draw_(st.floats(0, 0.5)) for m in fmax]
        as_price = draw_(st.lists(st.lists(st.floats(0, 500), min_size=p, max_size=p), min_size=t, max_size=t)) if p else None
        limit = sum(fmin) + draw_(st.floats(0, sum(fmax)))
        return make_inputs(
            price,
            value,
            fmax,
            fmin,
            import_limit_mw=limit + 5.0,
            firm_ai_mw=5.0,
            as_price_usd_per_mw_h=as_price,
            max_offer_fraction=draw_(st.floats(0, 1)) if p else 0.0,
            deployment_fraction=draw_(st.floats(0, 0.2)),
            ppa_mw=draw_(st.floats(0, 50)),
            ppa_price_usd_per_mwh=draw_(st.floats(0, 80)),
        )

    return draw()


def run_cli(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """Run ``mullet ARGS`` in this process under the exit-code contract of :func:`mullet.cli.main`.

    ``capsys`` is pytest's capture fixture (output captured before the call is discarded). Returns
    (exit code, stdout, stderr); the code is 0 on return, else the ``SystemExit`` code as the
    interpreter would report it (an int as is, ``None`` 0, anything else 1).
    """
    from mullet.cli import main

    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return int(code), out, err
