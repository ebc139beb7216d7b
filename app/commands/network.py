"""The pavement network's needs (backlog) and budget scenarios: `groundwork network needs|scenario`."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from app.commands import console, fail
from app.costing.arithmetic import parse_dollars
from app.db import new_session
from app.pavement_plan import service
from app.pavement_plan.service import PlanError
from app.pavement_plan.simulate import DEFAULT_TOLERANCE_CENTS, POLICIES

NAME = "network"
app = typer.Typer(no_args_is_help=True, help="The pavement network's needs (backlog) and budget scenarios.")


def _money(cents: int | None) -> str:
    return "—" if cents is None else f"${cents / 100:,.2f}"


def _dollars(cents: int | None) -> str:
    """Whole dollars, for table cells (the JSON keeps every cent)."""
    return "—" if cents is None else f"${round(cents / 100):,}"


def _print_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def needs(
    year: int | None = typer.Option(None, "--year", help="Price the work for this year (default: this year)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (cents), as /api/v1/network/needs gives it."),
) -> None:
    """The backlog today: every rated segment's treatment by the catalog's rules, priced like a proposal."""
    try:
        with new_session() as session:
            data = service.needs_data(service.needs(session=session, year=year))
    except PlanError as error:
        raise fail(str(error)) from error
    if as_json:
        _print_json(data)
        return
    out = Console()
    out.print(f"Network needs for work in {data['year']} (cost catalog version {data['catalog_version']}): "
              f"[bold]{_money(data['total_cents'])}[/] — {data['needing_work']:,} of {data['segments']:,} rated "
              f"segments need work; {data['unrated']:,} unrated, {data['unpriced']:,} without a catalog treatment.",
              highlight=False)
    for title, key in (("By treatment", "by_treatment"), ("By functional class", "by_class"),
                       ("By district", "by_district"), ("By condition band", "by_band")):
        table = Table("", "segments", "miles", "cost", title=title, title_justify="left")
        for group in data[key]:
            table.add_row(group["label"], f"{group['segments']:,}", f"{group['miles']:,.1f}", _dollars(group["cents"]))
        out.print(table)


@app.command()
def scenario(
    budget: str | None = typer.Option(None, "--budget", help="A yearly budget in dollars, e.g. 2,500,000."),
    target_pci: float | None = typer.Option(None, "--target-pci", help="Find the smallest yearly budget that brings "
                                                                       "the network PCI up to this (0–100)."),
    years: int | None = typer.Option(None, "--years", help="Years to plan (default: the program's collection years)."),
    first_year: int | None = typer.Option(None, "--first-year", help="The first plan year (default: the year after "
                                                                     "the vote, else this year)."),
    policy: str = typer.Option("benefit_cost", "--policy", help="benefit_cost (best PCI-years per dollar, weighted "
                                                                "by class) or worst_first."),
    tolerance: str = typer.Option(f"{DEFAULT_TOLERANCE_CENTS // 100:,}", "--tolerance",
                                  help="With --target-pci: how close (in dollars) the search gets to the smallest "
                                       "budget."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (cents), as /api/v1/network/scenarios/run "
                                                       "gives it."),
) -> None:
    """Network PCI, backlog and deferred maintenance by year for a yearly budget, or the budget a target PCI needs."""
    if (budget is None) == (target_pci is None):
        raise fail("Give either --budget DOLLARS or --target-pci P.")
    if policy not in POLICIES:
        raise fail(f"--policy {policy}: choose {' or '.join(POLICIES)}.")
    try:
        cents = parse_dollars(budget, label="--budget") if budget is not None else None
        tolerance_cents = parse_dollars(tolerance, label="--tolerance")
    except ValueError as error:
        raise fail(str(error)) from error
    if budget is not None and cents is None:
        raise fail("--budget needs an amount in dollars, e.g. --budget 2,500,000.")
    if not tolerance_cents:
        raise fail("--tolerance must be at least $0.01.")
    try:
        with new_session() as session:
            data = service.run_scenario(session=session, years=years, first_year=first_year, policy=policy,
                                        yearly_budget_cents=cents, target_pci=target_pci,
                                        tolerance_cents=tolerance_cents)
    except PlanError as error:
        raise fail(str(error)) from error
    if as_json:
        _print_json(data)
        return
    _print_scenario(data)


def _print_scenario(data: dict[str, Any]) -> None:
    out = Console()
    span = f"{data['first_year']}–{data['first_year'] + data['years'] - 1}"
    if data["kind"] == "target":
        if not data["reachable"]:
            out.print(f"A network PCI of {data['target_pci']:g} cannot be reached by {span}: even treating every "
                      f"segment that needs work each year, it would be {data['rows'][-1]['network_pci']:.1f}.",
                      highlight=False)
        else:
            below = ("" if data["below_cents"] is None
                     else f"; {_money(data['below_cents'])} a year does not reach it")
            out.print(f"Smallest yearly budget reaching a network PCI of {data['target_pci']:g} by the end of "
                      f"{data['first_year'] + data['years'] - 1}: [bold]{_money(data['yearly_budget_cents'])}[/] "
                      f"(within {_money(data['tolerance_cents'])}{below}; {data['steps']} simulations).",
                      highlight=False)
    else:
        out.print(f"A yearly budget of {_money(data['yearly_budget_cents'])}, {span}, policy {data['policy']} "
                  f"(catalog version {data['catalog_version']}, curves "
                  f"{data['curve_version'] or 'Groundwork defaults'}):", highlight=False)
    table = Table("year", "PCI", "do nothing", "spent", "segments", "backlog", "deferred")
    for row, nothing in zip(data["rows"], data["do_nothing"], strict=True):
        pci = "—" if row["network_pci"] is None else f"{row['network_pci']:.1f}"
        idle = "—" if nothing["network_pci"] is None else f"{nothing['network_pci']:.1f}"
        table.add_row(str(row["year"]), pci, idle, _dollars(row["spent_cents"]), f"{row['treated_segments']:,}",
                      _dollars(row["backlog_cents"]), _dollars(row["deferred_cents"]))
    out.print(table)
    console.print("The first row is today; PCI is the network's, length-weighted; money in dollars of each year "
                  "(escalated as the catalog says); --json gives every cent and the miles treated.", highlight=False)
