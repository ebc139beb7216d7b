"""The demo city: `groundwork demo [--seed N] [--scale X] [--force]`."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.commands import console, fail
from app.db import new_session
from models.layers import LayerKind

_NOUNS = {LayerKind.district: "districts", LayerKind.tract: "census tracts", LayerKind.pavement: "pavement segments",
          LayerKind.sidewalk: "sidewalk segments", LayerKind.ramp: "curb ramps", LayerKind.streetlight: "streetlights",
          LayerKind.address: "address points"}


def demo(
    seed: int = typer.Option(42, min=0, help="Random seed: the same seed always gives the same city."),
    scale: float = typer.Option(1.0, min=0.01, max=50, help="Residents in units of 100,000 (10 ≈ a 1M-resident city)."),
    force: bool = typer.Option(False, help="Replace imported layers too."),
    if_empty: bool = typer.Option(False, help="Only load into a database with no layers yet (the run script's way)."),
) -> None:
    """Load the generated demo city (about 100,000 residents per unit of scale); running it again changes nothing."""
    from app.demo import STEPS, DemoRefused, has_layers, load_demo_city
    from app.demo.delivery import seed_demo_delivery
    from app.demo.proposals import DEMO_PASSWORD, seed_demo_proposals
    from app.settings import get_settings

    started = time.perf_counter()
    if if_empty:
        with new_session() as session:
            if has_layers(session=session):
                console.print("The database already holds layers; the demo city was not loaded "
                              "(run [bold]groundwork demo[/] to reload it).")
                return
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(STEPS[0], total=len(STEPS))
        labels = iter(STEPS[1:])

        def advance(_done: str) -> None:
            progress.update(task, advance=1, description=next(labels, "Done"))

        with new_session() as session:
            try:
                city = load_demo_city(session=session, seed=seed, scale=scale, force=force, progress=advance)
            except DemoRefused as error:
                raise fail(str(error)) from error
    with console.status("Sample groups, accounts and proposals"), new_session() as session:
        sample = seed_demo_proposals(session=session, settings=get_settings(), seed=seed)
    with console.status("The vote and the delivery of the ballot projects"), new_session() as session:
        delivered = seed_demo_delivery(session=session, settings=get_settings())
    counts = ", ".join(f"{count:,} {_NOUNS[kind]}" for kind, count in city.counts.items())
    program = "the demo program and cost catalog" if city.program_written else "the existing program kept"
    sampled = (f"; {sample.groups} community groups with {sample.proposals} sample proposals "
               f"(${sample.total_cents // 100:,} proposed)") if not sample.skipped else f" ({sample.skipped})"
    console.print(f"Loaded the demo city ({city.source}) in {time.perf_counter() - started:.1f} s: {counts}; "
                  f"{program}{sampled}.", highlight=False)
    if delivered.by_phase:
        phases = ", ".join(f"{count} in {phase}" for phase, count in delivered.by_phase.items())
        console.print(f"The ballot list is voted and being delivered: {phases} (see /projects).", highlight=False)
    elif delivered.skipped:
        console.print(f"No voted program: {delivered.skipped}.", highlight=False)
    if sample.sign_ins:
        console.print(f"Sign in with the password [bold]{DEMO_PASSWORD}[/] as:", highlight=False)
    for email, who in sample.sign_ins:
        console.print(f"  {email}  ({who})", highlight=False)


def register(cli: typer.Typer) -> None:
    cli.command("demo")(demo)
