"""`paycascade demo DIR --no-serve` as a new user runs it: one statement per clinician."""

from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from paycascade.cli import main


def test_demo_default_size_end_to_end(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", str(target), "--no-serve"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "value-linked" in result.output and "national reference" in result.output
    with (target / "data" / "physicians.csv").open() as fh:
        people = list(csv.DictReader(fh))
    (out,) = [p.parent for p in (target / "out").glob("*/run.json")]
    with (out / "statements.csv").open() as fh:
        statements = list(csv.DictReader(fh))
    assert len(people) == 300
    assert sorted(r["npi"] for r in statements) == sorted(p["npi"] for p in people)
    assert len({p["specialty"] for p in people}) >= 12
    # every plan of the demo pays somebody, and the system's value-linked share is reported
    plans = Counter(r["plan"] for r in statements)
    assert set(plans) >= {
        "pcp-aligned",
        "cardio-ob-withhold",
        "surgery-tiered",
        "hospitalist-shift",
        "specialist-wrvu",
        "academic",
        "locum",
        "new-hire-guarantee",
    }
    assert all(Decimal(r["total"]) > 0 for r in statements)
    # the ledger is the statements, to the cent
    with (out / "ledger.csv").open() as fh:
        ledger = list(csv.DictReader(fh))
    net: dict[str, Decimal] = {}
    for posting in ledger:
        if posting["destination"].startswith("physician:"):
            npi = posting["destination"].split(":", 1)[1]
            net[npi] = net.get(npi, Decimal(0)) + Decimal(posting["amount"])
        if posting["source"].startswith("physician:"):
            npi = posting["source"].split(":", 1)[1]
            net[npi] = net.get(npi, Decimal(0)) - Decimal(posting["amount"])
    for row in statements:
        assert net.get(row["npi"], Decimal(0)) == Decimal(row["total"])
    # the surgical plan's mid-year change gives two production lines per surgeon
    surgeon = next(r["npi"] for r in statements if r["plan"] == "surgery-tiered")
    halves = [p for p in ledger if p["npi"] == surgeon and p["component"] == "production"]
    assert [p["segment_start"] for p in halves] == ["2026-01-01", "2026-07-01"]


def test_demo_cascade_and_line_of_sight(tmp_path: Path) -> None:
    import json

    target = tmp_path / "demo"
    result = CliRunner().invoke(
        main, ["demo", str(target), "--physicians", "60", "--no-serve"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "pass-through" in result.output
    (out,) = [p.parent for p in (target / "out").glob("*/run.json")]
    with (out / "contracts.csv").open() as fh:
        contracts = {r["contract_id"]: r for r in csv.DictReader(fh)}
    assert set(contracts) == {"mssp-aco", "commercial-ss", "ma-capitation", "lejr-bundle"}
    assert contracts["commercial-ss"]["retained"] == contracts["commercial-ss"]["result"]
    with (out / "cascade.csv").open() as fh:
        flows = list(csv.DictReader(fh))
    pairs = {(f["source"], f["destination"]) for f in flows}
    assert ("payer:CMS", "contract:mssp-aco") in pairs
    assert ("contract:mssp-aco", "pool:pcp_shared_savings") in pairs
    assert any(s == "pool:pcp_shared_savings" and d.startswith("physician:") for s, d in pairs)
    # Σ contract results = Σ flows into system and physician accounts
    results = sum(Decimal(c["result"]) for c in contracts.values())
    delivered = Decimal(0)
    for f in flows:
        if f["destination"].startswith(("system:", "physician:")):
            delivered += Decimal(f["amount"])
        if f["source"].startswith(("system:", "physician:")):
            delivered -= Decimal(f["amount"])
    assert delivered == results
    # a primary-care physician's statement shows the line of sight, with or without a share
    details = json.loads((out / "statements.json").read_text())
    pcp = [s for s in details.values() if s["plan"] == "pcp-aligned"]
    authorized = next(s for s in pcp if s["pass_through_authorized"])
    mssp = next(c for c in authorized["line_of_sight"] if c["contract"] == "mssp-aco")
    assert Decimal(mssp["pools"][0]["your_share"]) > 0
    unauthorized = next(s for s in pcp if not s["pass_through_authorized"])
    mssp = next(c for c in unauthorized["line_of_sight"] if c["contract"] == "mssp-aco")
    assert Decimal(mssp["pools"][0]["your_share"]) == 0
    assert "authoriz" in mssp["pools"][0]["reason"]
