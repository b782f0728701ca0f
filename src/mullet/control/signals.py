"""Signals the controller acts on, as known at decision time.

Every signal carries its age in clock seconds: a price or heartbeat older than the configured limit is stale and
the controller then releases nothing. Powers are site MW (AI at the meter, deployments as instructed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mullet.errors import MulletError

__all__ = ["Deployment", "Signals", "read_signal_file"]

Manual = Literal["shed", "hold", "release"]


@dataclass(frozen=True, slots=True)
class Deployment:
    """An ancillary-service deployment instruction.

    Attributes
    ----------
    program : str
        ECRS, RRS, NSPIN or FAST (names of ``ControlConfig.deployment_deadline_s``).
    mw : float
        MW the site must give back [MW].
    started_s : float
        Clock time the instruction arrived [s]; the deadline counts from it.
    """

    program: str
    mw: float
    started_s: float


@dataclass(frozen=True, slots=True)
class Signals:
    """Everything the controller knows at one decision.

    Attributes
    ----------
    price_usd_per_mwh : float
        Last settled real-time price at the site's settlement point (nan: none yet) [USD/MWh].
    price_age_s : float
        Age of that price [s].
    hashprice_usd_per_ph_day : float
        Hashprice known now [USD/PH/day].
    deployments : tuple of Deployment
        Active deployments.
    four_cp_alert : bool or None
        A 4CP alert (True), an all-clear (False), or no information (None: risk hours count as peaks).
    ai_request_mw : float
        Extra AI site load the tenant asks for, on top of its contracted load [MW].
    manual : str or None
        Operator override: shed (curtail every miner), hold (no commands), release (no manual limit).
    heartbeat_age_s : float
        Age of the signal source's last heartbeat [s].
    """

    price_usd_per_mwh: float = math.nan
    price_age_s: float = 0.0
    hashprice_usd_per_ph_day: float = math.nan
    deployments: tuple[Deployment, ...] = ()
    four_cp_alert: bool | None = None
    ai_request_mw: float = 0.0
    manual: Manual | None = None
    heartbeat_age_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def deployment_mw(self) -> float:
        """MW of every active deployment [MW]."""
        return sum(d.mw for d in self.deployments)

    def as_record(self) -> dict[str, Any]:
        """The signals as plain JSON-able values (audit log)."""
        return {
            "price_usd_per_mwh": None if math.isnan(self.price_usd_per_mwh) else self.price_usd_per_mwh,
            "price_age_s": self.price_age_s,
            "hashprice_usd_per_ph_day": None if math.isnan(self.hashprice_usd_per_ph_day) else self.hashprice_usd_per_ph_day,
            "deployments": [{"program": d.program, "mw": d.mw, "started_s": d.started_s} for d in self.deployments],
            "four_cp_alert": self.four_cp_alert,
            "ai_request_mw": self.ai_request_mw,
            "manual": self.manual,
            "heartbeat_age_s": self.heartbeat_age_s,
        }


def read_signal_file(path: str | Path, now_s: float, file_age_s: float) -> Signals:
    """Signals from a JSON file an operator's systems keep up to date (the live feed of ``mullet control run``).

    Keys (all optional): ``price_usd_per_mwh``, ``hashprice_usd_per_ph_day``, ``deployments`` (list of
    ``{"program", "mw", "age_s"}``), ``four_cp_alert`` (true/false/null), ``ai_request_mw``, ``manual``
    (shed/hold/release). The file's age (modification time) is the age of the price and of the heartbeat.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise MulletError(f"signals: file '{p}' not found") from None
    except json.JSONDecodeError as exc:
        raise MulletError(f"signals: '{p}' is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise MulletError(f"signals: '{p}' must hold a JSON object")
    manual = data.get("manual")
    if manual not in (None, "shed", "hold", "release"):
        raise MulletError(f"signals.manual: got {manual!r}, allowed: shed, hold, release or null")
    deps = tuple(
        Deployment(str(d["program"]), float(d["mw"]), now_s - float(d.get("age_s", 0.0))) for d in data.get("deployments") or [] if float(d.get("mw", 0)) > 0
    )
    price = data.get("price_usd_per_mwh")
    hp = data.get("hashprice_usd_per_ph_day")
    return Signals(
        price_usd_per_mwh=math.nan if price is None else float(price),
        price_age_s=file_age_s,
        hashprice_usd_per_ph_day=math.nan if hp is None else float(hp),
        deployments=deps,
        four_cp_alert=data.get("four_cp_alert"),
        ai_request_mw=float(data.get("ai_request_mw") or 0.0),
        manual=manual,
        heartbeat_age_s=file_age_s,
    )
