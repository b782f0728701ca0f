"""The live page of the dashboard: what the controller sees now (``mullet control run`` writes it).

``GET /live`` is a self-contained page that refreshes itself every two seconds from ``GET /api/live``: site MW
(AI, mining commanded vs confirmed by read-back), the current price and strike, active signals, the last
decisions from the audit log and the miners not responding. It reads the status file the controller replaces
atomically and the append-only audit log; it never commands anything. It sits behind the dashboard's token guard
like every other route.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape

__all__ = ["LIVE_TEMPLATE", "live_snapshot", "register_live"]

LIVE_TEMPLATE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Live control · mullet</title><link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#222}nav{background:#222;padding:8px 16px}nav a{color:#fff;margin-right:16px;text-decoration:none}
main{max-width:1150px;margin:16px auto;padding:0 16px}.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px}.card b{display:block;font-size:1.6em}.warn{color:#b00020}
table{border-collapse:collapse;margin:8px 0;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;font-size:0.9em}th{background:#f5f5f5}
td.l{text-align:left}.note{color:#555;font-size:0.9em}
</style></head>
<body><nav><a href="{{ prefix }}/">Runs</a><a href="{{ prefix }}/live">Live</a><a href="{{ prefix }}/industry">Industry</a></nav>
<main><h1>Live control</h1>
<p class="note" id="head">Audit log <code>{{ db }}</code>. Waiting for a controller (<code>mullet control run</code>)...</p>
<div class="cards">
<div class="card">AI (site MW, never commanded)<b id="ai">-</b></div>
<div class="card">Mining target (site MW)<b id="target">-</b></div>
<div class="card">Mining commanded / confirmed (site MW)<b id="mining">-</b></div>
<div class="card">Price / strike (USD/MWh)<b id="price">-</b></div>
</div>
<p id="signals" class="note"></p>
<svg id="chart" width="1100" height="160" role="img" aria-label="confirmed mining MW and price over the last decisions"></svg>
<h2>Last decisions</h2>
<table><thead><tr><th>interval start (UTC)</th><th>kind</th><th>target MW</th><th>commanded MW</th><th>confirmed MW</th><th>ok</th><th class="l">reason</th></tr></thead><tbody id="rows"></tbody></table>
<h2>Miners not responding</h2><p id="dead" class="note">-</p>
</main>
<script>
const base = "{{ prefix }}";
function f(x, d) { return (x === null || x === undefined || Number.isNaN(x)) ? "-" : Number(x).toFixed(d === undefined ? 3 : d); }
function txt(id, s) { document.getElementById(id).textContent = s; }
function chart(rows) {
  const svg = document.getElementById("chart"); while (svg.firstChild) svg.removeChild(svg.firstChild);
  const pts = rows.filter(r => r.kind === "confirmation");
  if (pts.length < 2) return;
  const W = 1100, H = 160, n = pts.length;
  const ys = pts.map(r => r.confirmed_mw || 0), ps = pts.map(r => r.price_usd_per_mwh || 0);
  const maxY = Math.max(...ys, 1e-9), maxP = Math.max(...ps.map(Math.abs), 1e-9);
  function line(vals, max, colour) {
    const d = vals.map((v, i) => `${i ? "L" : "M"}${(i / (n - 1) * (W - 10) + 5).toFixed(1)},${(H - 5 - v / max * (H - 10)).toFixed(1)}`).join(" ");
    const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", d); p.setAttribute("fill", "none"); p.setAttribute("stroke", colour); p.setAttribute("stroke-width", "2"); svg.appendChild(p);
  }
  line(ys, maxY, "#1f77b4"); line(ps, maxP, "#d62728");
}
async function tick() {
  try {
    const r = await fetch(base + "/api/live", {credentials: "same-origin"});
    if (!r.ok) { txt("head", "live: HTTP " + r.status); return; }
    const s = await r.json(); const L = s.live;
    if (L) {
      txt("head", `${L.mode} · run ${L.run_id} · updated ${L.updated_utc} · ${L.miners} miners, ${L.responsive} answering, ${L.asleep} curtailed (read-back)` + (L.scale !== 1 ? ` · site scale ${f(L.scale, 6)}` : ""));
      txt("ai", f(L.ai_site_mw)); txt("target", f(L.target_site_mw));
      txt("mining", `${f(L.planned_site_mw)} / ${f(L.readback_site_mw)}`);
      const last = L.last || {}; const sig = L.signals || {};
      txt("price", `${f(L.price_usd_per_mwh !== undefined ? L.price_usd_per_mwh : sig.price_usd_per_mwh, 2)} / ${f(last.strike_usd_per_mwh, 2)}`);
      const flags = Object.entries(last.flags || {}).filter(([k, v]) => v).map(([k]) => k);
      txt("signals", `active: ${flags.length ? flags.join(", ") : "none"} · deployments ${JSON.stringify(sig.deployments || [])} · 4CP ${sig.four_cp_alert} · AI request ${f(sig.ai_request_mw)} MW · manual ${sig.manual} · ${last.reason || ""}`);
      txt("dead", (L.not_responding || []).length ? L.not_responding.join(", ") : "none");
    }
    const tb = document.getElementById("rows"); tb.textContent = "";
    for (const row of s.decisions.slice().reverse()) {
      const tr = document.createElement("tr");
      for (const [v, cls] of [[row.interval_start_utc, "l"], [row.kind, "l"], [f(row.target_mw)], [f(row.commanded_mw)], [f(row.confirmed_mw)], [String(row.ok)], [row.reason || "", "l"]]) {
        const td = document.createElement("td"); td.textContent = v; if (cls) td.className = cls; tr.appendChild(td);
      }
      tb.appendChild(tr);
    }
    chart(s.decisions);
  } catch (e) { txt("head", "live: " + e); }
}
tick(); setInterval(tick, 2000);
</script></body></html>"""


def live_snapshot(db_path: Path, last: int = 40) -> dict[str, Any]:
    """The controller's status file and its last decisions and confirmations from the audit log."""
    from mullet.control.audit import read_audit
    from mullet.control.run import status_path

    sp = status_path(db_path)
    try:
        live = json.loads(sp.read_text()) if sp.exists() else None
    except (OSError, json.JSONDecodeError):
        live = None  # replaced atomically, so this is a file someone else wrote: report nothing rather than guess
    rows = read_audit(db_path, kinds=["decision", "confirmation", "enforce"], limit=last) if db_path.exists() else []
    out = []
    for r in rows:
        detail = json.loads(r["detail"]) if r.get("detail") else {}
        sig = detail.get("signals") or {}
        out.append(
            {
                "interval_start_utc": None if r["interval_start_utc"] is None else r["interval_start_utc"].isoformat(),
                "kind": r["kind"],
                "target_mw": r["target_mw"],
                "commanded_mw": r["commanded_mw"],
                "confirmed_mw": r["confirmed_mw"],
                "ok": r["ok"],
                "reason": detail.get("reason"),
                "price_usd_per_mwh": sig.get("price_usd_per_mwh"),
            }
        )
    # a confirmation row carries no price; give it the price of the decision before it (for the chart)
    price = None
    for row in out:
        if row["kind"] == "decision":
            price = row["price_usd_per_mwh"]
        elif row["price_usd_per_mwh"] is None:
            row["price_usd_per_mwh"] = price
    return {"live": live, "decisions": out}


def register_live(api: FastAPI, db_path: str | Path) -> None:
    """Add ``GET /live`` and ``GET /api/live`` to the dashboard app (behind its guard like every route)."""
    db = Path(db_path)
    env = Environment(autoescape=select_autoescape(default=True))
    page = env.from_string(LIVE_TEMPLATE)

    @api.get("/live", response_class=HTMLResponse, include_in_schema=False)
    def live_page() -> HTMLResponse:
        return HTMLResponse(page.render(prefix="", db=str(db)))

    @api.get("/api/live")
    def live_api() -> dict[str, Any]:
        return live_snapshot(db)
