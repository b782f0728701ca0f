"""Typed plan result: a tidy per-path frame, present values by component, and the risk-aware strategy table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.finance.metrics import cvar
from mullet.plan.config import PlanConfig

__all__ = ["COMPONENTS", "PATH_COLUMNS", "PlanResult", "StrategyKey"]

FloatArray = npt.NDArray[np.float64]
StrategyKey = tuple[float, int]
"""(AI share, conversion year)."""

PATH_COLUMNS = (
    "ai_share",
    "conversion_year",
    "path",
    "npv_usd",
    "revenue_usd",
    "contracted_revenue_usd",
    "ai_revenue_share",
    "irr",
    "payback_years",
    "peak_funding_usd",
    "min_dscr",
    "dilution_fraction",
    "terminal_value_pv_usd",
    "mean_hashprice_usd_per_ph_day",
)
"""Columns of :attr:`PlanResult.paths` (one row per strategy and path); money in nominal USD, NPV at the plan's discount rate."""

COMPONENTS = (
    "ai_revenue_usd",
    "mining_revenue_usd",
    "mining_energy_usd",
    "ai_energy_owner_usd",
    "ppa_settlement_usd",
    "opex_usd",
    "tax_usd",
    "capex_usd",
    "terminal_value_usd",
)
"""Cash-flow components (cash sign) whose present values add up to the NPV."""


def _q(v: FloatArray, q: float) -> float:
    v = v[np.isfinite(v)]
    return float(np.percentile(v, q)) if v.size else float("nan")


@dataclass
class PlanResult:
    """Outcome of a plan: per-path results of every (AI share, conversion year), their components, and summaries."""

    config: PlanConfig
    site_mw: float
    paths: pd.DataFrame
    """Tidy per-path results, columns :data:`PATH_COLUMNS`."""
    components: pd.DataFrame
    """Mean present value per path of each cash-flow component: ``ai_share, conversion_year, component, pv_usd``."""
    flows: pd.DataFrame
    """Mean nominal cash flow per path by component and year: ``ai_share, conversion_year, component, year, usd``."""
    exit_npv_usd: float
    completed_paths: int
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)
    run_id: str | None = None

    @classmethod
    def from_chunks(cls, parts: list[dict[str, Any]], cfg: PlanConfig, site_mw: float, interrupted: bool, notes: list[str]) -> PlanResult:
        """Merge chunk outputs (in chunk order)."""
        n = int(sum(p["paths"] for p in parts))
        if parts:
            paths = pd.concat([p["rows"] for p in parts], ignore_index=True).sort_values(["ai_share", "conversion_year", "path"], ignore_index=True)
            comp = pd.concat([p["components"] for p in parts]).groupby(["ai_share", "conversion_year", "component"], sort=False)["pv_usd_sum"].sum()
            components = (comp / n).rename("pv_usd").reset_index()
            fl = pd.concat([p["flows"] for p in parts]).groupby(["ai_share", "conversion_year", "component", "year"], sort=False)["usd_sum"].sum()
            flows = (fl / n).rename("usd").reset_index()
        else:
            paths = pd.DataFrame({c: pd.Series(dtype=float) for c in PATH_COLUMNS})
            components = pd.DataFrame(columns=["ai_share", "conversion_year", "component", "pv_usd"])
            flows = pd.DataFrame(columns=["ai_share", "conversion_year", "component", "year", "usd"])
        return cls(cfg, site_mw, paths, components, flows, cfg.exit_ev_usd_per_mw * site_mw, n, interrupted, notes)

    def npv(self, share: float, conv: int) -> FloatArray:
        """Per-path NPV of one strategy [USD], in path order."""
        p = self.paths
        return p.loc[(p["ai_share"] == share) & (p["conversion_year"] == conv), "npv_usd"].to_numpy(dtype=float)

    def column(self, name: str, share: float, conv: int) -> FloatArray:
        """Per-path values of one column of :attr:`paths` for one strategy."""
        p = self.paths
        return p.loc[(p["ai_share"] == share) & (p["conversion_year"] == conv), name].to_numpy(dtype=float)

    def table(self) -> pd.DataFrame:
        """One row per (AI share, conversion year): NPV P10/P50/P90, mean, CVaR 10%, P(loss), IRR, payback, funding, DSCR, dilution."""
        rows = []
        years = self.config.years
        for (share, conv), g in self.paths.groupby(["ai_share", "conversion_year"], sort=True):
            v = g["npv_usd"].to_numpy(dtype=float)
            irr = g["irr"].to_numpy(dtype=float)
            rows.append(
                {
                    "ai_share": float(share),
                    "conversion_year": int(conv),
                    "npv_p10_musd": _q(v, 10) / 1e6,
                    "npv_p50_musd": _q(v, 50) / 1e6,
                    "npv_p90_musd": _q(v, 90) / 1e6,
                    "npv_mean_musd": float(v.mean()) / 1e6,
                    "npv_cvar10_musd": cvar(v, 0.10) / 1e6,
                    "loss_probability": float((v < 0).mean()),
                    "npv_p50_usd_per_mw": _q(v, 50) / self.site_mw,
                    "revenue_usd_per_mw_year": float(g["revenue_usd"].mean() / self.site_mw / years),
                    "ai_revenue_share_last_year": float(g["ai_revenue_share"].median()),
                    "irr_p50": _q(irr, 50) if np.isfinite(irr).mean() >= 0.5 else float("nan"),
                    "payback_p50_years": _q(g["payback_years"].to_numpy(dtype=float), 50),
                    "peak_funding_p50_musd": _q(g["peak_funding_usd"].to_numpy(dtype=float), 50) / 1e6,
                    "min_dscr_p50": _q(g["min_dscr"].to_numpy(dtype=float), 50),
                    "dilution_mean_fraction": float(g["dilution_fraction"].mean()),
                    "terminal_value_pv_mean_musd": float(g["terminal_value_pv_usd"].mean()) / 1e6,
                }
            )
        return pd.DataFrame(rows)

    def criterion_text(self) -> str:
        """The recommendation criterion in words."""
        what = {"mean": "highest mean NPV", "p50": "highest median (P50) NPV", "cvar": "highest CVaR at 10% (mean of the worst 10% of NPVs)"}[
            self.config.criterion
        ]
        return f"{what} among strategies with P(NPV < 0) <= {self.config.max_loss_probability:.0%} (exit counts, with P(loss) 0)"

    def _score_column(self) -> str:
        return {"mean": "npv_mean_musd", "p50": "npv_p50_musd", "cvar": "npv_cvar10_musd"}[self.config.criterion]

    def recommended(self) -> StrategyKey | None:
        """The (AI share, conversion year) that meets :meth:`criterion_text`; None when exit wins or no path finished."""
        t = self.table()
        if t.empty:
            return None
        col = self._score_column()
        ok = t[t["loss_probability"] <= self.config.max_loss_probability]
        if ok.empty:
            return None
        best = ok.loc[ok[col].idxmax()]
        if best[col] <= self.exit_npv_usd / 1e6:
            return None
        return float(best["ai_share"]), int(best["conversion_year"])

    def strategies(self) -> pd.DataFrame:
        """Pure mining, pure AI, the best hybrid (by the criterion), and exit (sale today at ``exit_ev_usd_per_mw``)."""
        t = self.table()
        col = self._score_column()
        picks: dict[str, Any] = {}
        if not t.empty:
            groups = (("pure mining", t[t["ai_share"] == 0.0]), ("pure AI", t[t["ai_share"] == 1.0]), ("hybrid", t[(t["ai_share"] > 0) & (t["ai_share"] < 1)]))
            for name, frame in groups:
                if len(frame):
                    ok = frame[frame["loss_probability"] <= self.config.max_loss_probability]
                    pick = (ok if len(ok) else frame)[col].idxmax()
                    picks[name] = frame.loc[pick].to_dict()
        e = self.exit_npv_usd / 1e6
        picks["exit"] = {
            "ai_share": float("nan"),
            "conversion_year": 0,
            "npv_p10_musd": e,
            "npv_p50_musd": e,
            "npv_p90_musd": e,
            "npv_mean_musd": e,
            "npv_cvar10_musd": e,
            "loss_probability": 0.0,
            "irr_p50": float("nan"),
        }
        out = pd.DataFrame(picks).T.rename_axis("strategy")
        out["conversion_year"] = out["conversion_year"].astype(int)
        rec = self.recommended()
        out["recommended"] = False
        for name in out.index:
            row = out.loc[name]
            if rec is None:
                out.loc[name, "recommended"] = name == "exit"
            else:
                out.loc[name, "recommended"] = bool(row["ai_share"] == rec[0] and row["conversion_year"] == rec[1])
        return out.infer_objects()

    def summary(self) -> pd.DataFrame:
        """The risk-aware strategy table (:meth:`strategies`): P10/P50/P90, mean, CVaR 10%, P(loss), IRR per strategy."""
        cols = ["ai_share", "conversion_year", "npv_p10_musd", "npv_p50_musd", "npv_p90_musd", "npv_mean_musd", "npv_cvar10_musd", "loss_probability"]
        cols += ["irr_p50", "recommended"]
        s = self.strategies()
        return s[[c for c in cols if c in s.columns]]

    def waterfall(self, share: float, conv: int) -> pd.Series:
        """Mean present value per path of each cash-flow component of one strategy [USD]; they add up to its mean NPV."""
        c = self.components
        g = c[(c["ai_share"] == share) & (c["conversion_year"] == conv)].set_index("component")["pv_usd"]
        return g.reindex(list(COMPONENTS)).astype(float)

    def summary_json(self, scenario_name: str) -> dict[str, Any]:
        """JSON-ready summary stored with the run and printed by ``--format json``."""
        from mullet._output import to_jsonable

        rec = self.recommended()
        key = rec or (max(self.config.ai_shares), min(self.config.conversion_years))
        wf = self.waterfall(*key) if self.completed_paths else pd.Series(dtype=float)
        return to_jsonable(
            {
                "waterfall": {"ai_share": key[0], "conversion_year": key[1], "pv_usd": {k: float(v) for k, v in wf.items()}},
                "scenario": scenario_name,
                "paths_completed": self.completed_paths,
                "interrupted": self.interrupted,
                "recommended": {"ai_share": rec[0], "conversion_year": rec[1]} if rec else {"strategy": "exit" if self.completed_paths else None},
                "criterion": self.criterion_text(),
                "assumptions": self.config.assumptions(),
                "strategies": self.strategies().reset_index().to_dict(orient="records"),
                "table": self.table().to_dict(orient="records"),
                "notes": self.notes,
            }
        )
