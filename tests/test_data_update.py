"""`mullet data update`: recorded responses (tests/recordings), merge over bundled files, rejection, offline, resume."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import mullet.data as data
from mullet.data.update import DATASETS, UpdateError, status, update
from mullet.testing import run_cli

REC = Path(__file__).parent / "recordings"
CUT = {  # rows cut off the end of each bundled copy; the recordings hold exactly these rows
    "btc_network_daily.csv": 6,
    "btc_difficulty_adjustments_mempool.csv": 3,
    "btc_hashrate_mempool_daily.csv": 12,
    "ercot_rtm_hub_spp_15min_2021_2024.csv.gz": 8,
    "ercot_native_load_hourly.csv.gz": 6,
    "ercot_rtm_loadzone_spp_hourly_2023.csv.gz": 2,
}
NO_WAIT = {"mempool": 0.0, "coinmetrics": 0.0, "ercot": 0.0}
Handler = Callable[[httpx.Request], httpx.Response]


def recorded(request: httpx.Request) -> httpx.Response:
    url = request.url
    if url.host == "mempool.space":
        return httpx.Response(200, content=(REC / "mempool_hashrate_3m.json").read_bytes())
    if url.host == "community-api.coinmetrics.io":
        page = 2 if "next_page_token" in url.params else 1
        return httpx.Response(200, content=(REC / f"coinmetrics_page{page}.json").read_bytes())
    if url.path.endswith("IceDocListJsonWS"):
        return httpx.Response(200, content=(REC / f"ercot_{url.params['reportTypeId']}_list.json").read_bytes())
    if url.path.endswith("mirDownload"):
        doc = url.params["doclookupId"]
        name = "ercot_12301_doc_lz.zip" if doc.startswith("1072") else "ercot_12301_doc.zip" if doc.startswith("107") else "ercot_13101_doc.zip"
        return httpx.Response(200, content=(REC / name).read_bytes())
    return httpx.Response(404)


def client(handler: Handler = recorded) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def originals() -> dict[str, pd.DataFrame]:
    return {
        "network": data.load_network_daily(),
        "difficulty": data.load_difficulty_adjustments(),
        "hashrate": data.load_hashrate_mempool_daily(),
        "hubs": data.load_ercot_hub_prices(),
        "load": data.load_system_load(),
        "zones": data.load_ercot_loadzone_prices(),
    }


@pytest.fixture(scope="module")
def cut_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of the bundled files without their last rows (written once per module)."""
    files = tmp_path_factory.mktemp("files")
    for name, n in CUT.items():
        src = data.bundled_path(name)
        opener = gzip.open if name.endswith(".gz") else open
        with opener(src, "rt", encoding="utf-8") as f:  # type: ignore[operator]
            lines = f.read().splitlines(keepends=True)
        kwargs = {"compresslevel": 1} if name.endswith(".gz") else {}
        with opener(files / name, "wt", encoding="utf-8", **kwargs) as f:  # type: ignore[operator]
            f.writelines(lines[:-n])
    return files


@pytest.fixture
def cut_bundle(cut_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Loaders read the cut copies; the update store is tmp_path/store."""
    store = tmp_path / "store"
    monkeypatch.setenv("MULLET_DATA_DIR", str(store))
    original_path = data.bundled_path
    monkeypatch.setattr(data, "bundled_path", lambda name: cut_files / name if name in CUT else original_path(name))
    data._BUNDLED_CACHE.clear()
    store.mkdir()
    yield store
    data._BUNDLED_CACHE.clear()


def snapshot(store: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.glob("*.csv"))}


def test_update_restores_the_cut_history_exactly(cut_bundle: Path) -> None:
    before = {"network": data.load_network_daily(), "hubs": data.load_ercot_hub_prices()}
    assert len(before["network"]) == 4381 - 6 and len(before["hubs"]) == 140_199 - 8
    report = update(client=client(), min_interval_s=NO_WAIT)
    assert report.rows_changed == {
        "btc_difficulty_adjustments": 3,
        "btc_hashrate_mempool_daily": 12,
        "btc_network_daily": 6,
        "ercot_rtm_hub_spp_15min": 8,
        "ercot_rtm_loadzone_spp_hourly": 2,
        "ercot_system_load_hourly": 6,
    }
    got = originals()  # every loader now reads bundled + stored rows
    assert len(got["network"]) == 4381 and got["network"].index[-1] == pd.Timestamp("2025-12-29", tz="UTC")
    assert len(got["hubs"]) == 140_199 and got["hubs"].index[-1] == pd.Timestamp("2025-01-01T05:45Z")
    assert got["load"].index[-1] == pd.Timestamp("2024-09-01T04:00Z")  # interval start of the last hour
    assert got["zones"].index[-1] == pd.Timestamp("2024-01-01T05:00Z") and len(got["zones"]) == 8759
    assert got["difficulty"].index[-1] == pd.Timestamp("2025-03-09T15:58:46Z")
    assert got["hashrate"].index[-1] == pd.Timestamp("2025-03-22", tz="UTC")


def test_merged_values_equal_the_uncut_files(cut_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data._BUNDLED_CACHE.clear()
    real = originals()
    monkeypatch.setenv("MULLET_DATA_DIR", str(tmp_path / "store"))
    original_path = data.bundled_path
    monkeypatch.setattr(data, "bundled_path", lambda name: cut_files / name if name in CUT else original_path(name))
    data._BUNDLED_CACHE.clear()
    update(client=client(), min_interval_s=NO_WAIT)
    got = originals()
    data._BUNDLED_CACHE.clear()
    cols = {
        "network": ["price_usd", "block_count", "hashrate_ths", "issuance_btc", "fees_btc"],
        "difficulty": ["height", "difficulty", "adjustment_ratio"],
        "hashrate": ["hashrate_ths"],
        "hubs": list(data.ERCOT_HUBS),
        "load": ["load_mw"],
        "zones": list(data.ERCOT_LOAD_ZONES),
    }
    for key, columns in cols.items():
        assert got[key].index.equals(real[key].index), key
        np.testing.assert_allclose(got[key][columns].to_numpy(dtype=float), real[key][columns].to_numpy(dtype=float), rtol=1e-12, err_msg=key)
    # difficulty_mean is derived from HashRate and BlkCnt for new rows, as the bundled file does since 2023-02-18
    np.testing.assert_allclose(got["network"]["difficulty_mean"].tail(6), real["network"]["difficulty_mean"].tail(6), rtol=1e-6)
    prov = json.loads((tmp_path / "store" / "provenance.json").read_text())
    assert set(prov) == set(DATASETS)
    assert prov["btc_network_daily"]["licence"].startswith("CC BY-NC") and prov["btc_network_daily"]["rows"] == 6
    assert prov["ercot_rtm_hub_spp_15min"]["last_utc"] == "2025-01-01T05:45:00Z" and prov["ercot_rtm_hub_spp_15min"]["retrieved_utc"].endswith("Z")
    table = status(tmp_path / "store")
    assert table.loc["btc_network_daily", "updated_rows"] == 6
    assert table.loc["ercot_system_load_hourly", "merged_last_utc"] == pd.Timestamp("2024-09-01T05:00Z")


def test_rerun_and_overlap_neither_duplicate_nor_reorder(cut_bundle: Path) -> None:
    update(["mempool", "coinmetrics"], client=client(), min_interval_s=NO_WAIT)
    first = snapshot(cut_bundle)
    report = update(["mempool", "coinmetrics"], client=client(), min_interval_s=NO_WAIT)
    assert snapshot(cut_bundle) == first  # same rows again: revised in place, nothing added, nothing moved
    assert report.rows_changed["btc_network_daily"] == 6  # counted as revised
    stored = pd.read_csv(cut_bundle / "btc_network_daily.csv")
    assert stored["date"].is_unique and stored["date"].is_monotonic_increasing and len(stored) == 6
    # an overlapping answer that starts earlier (the last 3 days only) keeps one row per day, in order
    page2 = json.loads((REC / "coinmetrics_page2.json").read_text())

    def overlap(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page2)

    update(["coinmetrics"], since="2025-12-20", client=client(overlap), min_interval_s=NO_WAIT)
    again = pd.read_csv(cut_bundle / "btc_network_daily.csv")
    pd.testing.assert_frame_equal(again, stored)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("mempool", lambda: (REC / "mempool_hashrate_3m.json").read_bytes()[:500]),  # truncated JSON
        (
            "mempool",
            lambda: (REC / "mempool_hashrate_3m.json").read_text().replace('"avgHashrate": ', '"avgHashrate": "x').replace(', "time', '", "time', 1).encode(),
        ),
        ("mempool", lambda: b'{"hashrates": []}'),
        ("coinmetrics", lambda: (REC / "coinmetrics_page1.json").read_text().replace('"PriceUSD"', '"PriceUsd"').encode()),
        ("coinmetrics", lambda: (REC / "coinmetrics_page1.json").read_bytes()[:-40]),
        ("ercot", lambda: (REC / "ercot_12301_doc.zip").read_bytes()[:300]),  # truncated ZIP
    ],
)
def test_truncated_or_malformed_response_leaves_the_store_as_it_was(cut_bundle: Path, source: str, bad: Callable[[], bytes]) -> None:
    update([source], client=client(), min_interval_s=NO_WAIT)
    before = snapshot(cut_bundle)
    prov_before = (cut_bundle / "provenance.json").read_bytes()
    body = bad()

    def broken(request: httpx.Request) -> httpx.Response:
        if source == "ercot" and request.url.path.endswith("IceDocListJsonWS"):
            listing = json.loads((REC / f"ercot_{request.url.params['reportTypeId']}_list.json").read_text())
            for d in listing["ListDocsByRptTypeRes"]["DocumentList"]:
                d["Document"]["PublishDate"] = "2099-01-01T00:00:00-06:00"  # newer than what was seen
            return httpx.Response(200, json=listing)
        if source == "ercot" and request.url.path.endswith("mirDownload"):
            return httpx.Response(200, content=body)
        return httpx.Response(200, content=body) if source != "ercot" else recorded(request)

    with pytest.raises(UpdateError, match="rejected, nothing written"):
        update([source], since="2024-01-01", client=client(broken), min_interval_s=NO_WAIT)
    assert snapshot(cut_bundle) == before
    assert (cut_bundle / "provenance.json").read_bytes() == prov_before


def test_values_the_loader_would_refuse_are_refused(cut_bundle: Path) -> None:
    page = json.loads((REC / "coinmetrics_page2.json").read_text())
    page["data"][1]["PriceUSD"] = "-5"  # the loader's schema: price_usd >= 0

    def negative(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page)

    with pytest.raises(UpdateError, match=r"rejected, nothing written: .*column 'price_usd': negative value"):
        update(["coinmetrics"], client=client(negative), min_interval_s=NO_WAIT)
    assert snapshot(cut_bundle) == {}


def test_offline_is_one_clear_error_and_changes_nothing(cut_bundle: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    with pytest.raises(UpdateError, match=r"mempool: cannot reach mempool.space .* offline\? nothing was changed"):
        update(["mempool"], client=client(down), min_interval_s=NO_WAIT)
    assert snapshot(cut_bundle) == {}


def test_rate_limit_answer_is_retried_after_its_delay(cut_bundle: Path) -> None:
    calls: list[int] = []

    def limited(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"}, text="Too Many Requests")
        return recorded(request)

    report = update(["mempool"], client=client(limited), min_interval_s=NO_WAIT)
    assert len(calls) == 2 and report.rows_changed["btc_hashrate_mempool_daily"] == 12


def test_interrupted_paging_keeps_finished_pages_and_resumes(cut_bundle: Path) -> None:
    def fails_on_page_two(request: httpx.Request) -> httpx.Response:
        if "next_page_token" in request.url.params:
            return httpx.Response(500, text="server error")
        return recorded(request)

    with pytest.raises(UpdateError, match="HTTP 500"):
        update(["coinmetrics"], client=client(fails_on_page_two), min_interval_s=NO_WAIT)
    kept = pd.read_csv(cut_bundle / "btc_network_daily.csv")
    assert len(kept) == 3  # the first page is kept
    seen: list[str] = []

    def resume(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return recorded(request)

    update(["coinmetrics"], client=client(resume), min_interval_s=NO_WAIT)
    assert "start_time=2025-12-27" in seen[0]  # continues after the last stored day
    assert len(pd.read_csv(cut_bundle / "btc_network_daily.csv")) == 6


def test_cli_status_and_offline_update(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MULLET_DATA_DIR", str(tmp_path / "store"))
    # no network at test time: every request goes to a closed loopback port, as on a machine without internet
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    data._BUNDLED_CACHE.clear()
    code, out, err = run_cli(["data", "status", "--format", "json"], capsys)
    assert code == 0, err
    rows = {r["dataset"]: r for r in json.loads(out)}
    assert rows["btc_network_daily"]["updated_rows"] == 0 and rows["btc_network_daily"]["bundled_last_utc"].startswith("2025-12-29")
    code, out, err = run_cli(["data", "update", "--source", "mempool"], capsys)
    assert code == 2 and "cannot reach" in err and "nothing was changed" in err and "Traceback" not in err
    code, out, err = run_cli(["data", "update", "--source", "nasdaq"], capsys)
    assert code == 2 and "source: got nasdaq, allowed: any of mempool, coinmetrics, ercot" in err
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").glob("*.csv"))


def test_ercot_documents_already_read_are_not_fetched_again(cut_bundle: Path) -> None:
    update(["ercot"], client=client(), min_interval_s=NO_WAIT)
    seen: list[str] = []

    def logged(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return recorded(request)

    report = update(["ercot"], client=client(logged), min_interval_s=NO_WAIT)
    assert report.rows_changed == {"ercot_rtm_hub_spp_15min": 0, "ercot_rtm_loadzone_spp_hourly": 0, "ercot_system_load_hourly": 0}
    assert all(p.endswith("IceDocListJsonWS") for p in seen) and len(seen) == 2  # the lists only, no download


# --- ERCOT load-zone prices (issue 15, round 3): NP6-905-CD load-zone rows, hourly means, merged like the hubs ----------


def _lz_doc(frame: pd.DataFrame) -> bytes:
    """A NP6-905-CD ZIP holding ``frame``'s rows (a subset or an edit of the recorded load-zone document)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cdr.00012301.SPPHLZNP6905.csv", frame.to_csv(index=False))
    return buf.getvalue()


def _recorded_lz() -> pd.DataFrame:
    with zipfile.ZipFile(REC / "ercot_12301_doc_lz.zip") as z:
        return pd.read_csv(io.BytesIO(z.read(z.namelist()[0])), dtype=str)


def _serving(docs: list[bytes], first_minute: int = 0) -> Handler:
    """ERCOT answering with one listed CSV document per entry of ``docs`` (publish times in order, newer than any seen)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("IceDocListJsonWS"):
            if request.url.params["reportTypeId"] != "12301":
                return httpx.Response(200, json={"ListDocsByRptTypeRes": {"DocumentList": []}})
            items = [
                {"Document": {"DocID": f"20{i}", "FriendlyName": f"SPPHLZNP6905_{i}_csv", "PublishDate": f"2099-01-01T00:{first_minute + i:02d}:00-06:00"}}
                for i in range(len(docs))
            ]
            return httpx.Response(200, json={"ListDocsByRptTypeRes": {"DocumentList": items}})
        return httpx.Response(200, content=docs[int(request.url.params["doclookupId"][2:])])

    return handler


def test_loadzone_hours_are_means_of_complete_hours_only() -> None:
    from mullet.data.update import loadzone_hours

    idx = pd.date_range("2024-01-01T04:00Z", periods=7, freq="15min")  # 22:00-23:30 CST: one whole hour and three quarters
    quarters = pd.DataFrame({"LZ_WEST": [10.0, 20.0, 30.0, 40.0, 1.0, 2.0, 3.0]}, index=idx)
    hourly, pending = loadzone_hours(quarters)
    assert hourly.to_dict("records") == [{"interval_start_utc": "2024-01-01T04:00:00Z", "interval_start_cpt": "2023-12-31 22:00", "LZ_WEST": 25.0}]
    assert pending.index.equals(idx[4:])


def test_loadzone_hours_wait_for_their_fourth_quarter_across_documents(cut_bundle: Path) -> None:
    rows = _recorded_lz()
    last_quarter = (rows["DeliveryHour"] == "24") & (rows["DeliveryInterval"] == "4")
    first, second = _lz_doc(rows[~last_quarter]), _lz_doc(rows[last_quarter])  # ERCOT publishes one interval per document
    update(["ercot"], client=client(_serving([first])), min_interval_s=NO_WAIT)
    stored = pd.read_csv(cut_bundle / "ercot_rtm_loadzone_spp_hourly.csv")
    assert list(stored["interval_start_utc"]) == ["2024-01-01T04:00:00Z"]  # HE24 has 3 of its 4 quarters: it waits
    assert len(pd.read_csv(cut_bundle / "ercot_rtm_loadzone_spp_hourly.pending.csv")) == 3
    update(["ercot"], client=client(_serving([first, second])), min_interval_s=NO_WAIT)
    stored = pd.read_csv(cut_bundle / "ercot_rtm_loadzone_spp_hourly.csv")
    assert list(stored["interval_start_utc"]) == ["2024-01-01T04:00:00Z", "2024-01-01T05:00:00Z"]  # once each, in order
    assert pd.read_csv(cut_bundle / "ercot_rtm_loadzone_spp_hourly.pending.csv").empty
    data._BUNDLED_CACHE.clear()
    zones = data.load_ercot_loadzone_prices()
    assert zones.loc["2024-01-01T05:00Z", "LZ_WEST"] == pytest.approx(15.425)  # the bundled value of that hour, restored


def test_loadzone_rerun_neither_duplicates_nor_reorders(cut_bundle: Path) -> None:
    doc = (REC / "ercot_12301_doc_lz.zip").read_bytes()
    update(["ercot"], client=client(_serving([doc])), min_interval_s=NO_WAIT)
    first = snapshot(cut_bundle)
    report = update(["ercot"], client=client(_serving([doc, doc])), min_interval_s=NO_WAIT)  # the same document twice, republished
    assert snapshot(cut_bundle) == first and report.rows_changed["ercot_rtm_loadzone_spp_hourly"] == 0  # nothing after what is held
    lz_file = cut_bundle / "ercot_rtm_loadzone_spp_hourly.csv"
    report = update(["ercot"], since="2023-12-31", client=client(_serving([doc, doc], first_minute=10)), min_interval_s=NO_WAIT)
    assert lz_file.read_bytes() == first[lz_file.name] and report.rows_changed["ercot_rtm_loadzone_spp_hourly"] == 4  # 2 hours x 2, revised in place
    stored = pd.read_csv(lz_file)
    assert stored["interval_start_utc"].is_unique and stored["interval_start_utc"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("what", "edit"),
    [
        ("truncated", lambda rows: (REC / "ercot_12301_doc_lz.zip").read_bytes()[:400]),
        (
            "not a number",
            lambda rows: _lz_doc(rows.assign(SettlementPointPrice=rows["SettlementPointPrice"].where(rows["SettlementPointName"] != "LZ_WEST", "n/a"))),
        ),
        ("a zone missing", lambda rows: _lz_doc(rows[~((rows["SettlementPointName"] == "LZ_CPS") & (rows["DeliveryInterval"] == "2"))])),
    ],
)
def test_malformed_loadzone_document_leaves_the_store_as_it_was(cut_bundle: Path, what: str, edit: Callable[[pd.DataFrame], bytes]) -> None:
    update(["ercot"], client=client(), min_interval_s=NO_WAIT)
    before, prov_before = snapshot(cut_bundle), (cut_bundle / "provenance.json").read_bytes()
    with pytest.raises(UpdateError, match="rejected, nothing written"):
        update(["ercot"], since="2023-12-31", client=client(_serving([edit(_recorded_lz())])), min_interval_s=NO_WAIT)
    assert snapshot(cut_bundle) == before and (cut_bundle / "provenance.json").read_bytes() == prov_before
