"""Pavement plan benchmark: the network needs (cold and remembered), a 5-year budget scenario and a
target-PCI search on a demo city, through the same service the pages, the API and the CLI use.

    .venv/bin/python bench/pavement_plan.py --database-url postgresql+psycopg://…/gw_peers_10_0
        [--budget 20000000] [--target-pci 72] [--years 5] [--repeat 3]

Build the city first (``groundwork demo --scale 10``: about 1 million residents, 36,569 pavement
segments); ``bench/peers.py`` leaves one as ``gw_peers_10_0``. Wall and CPU time are both printed
(the machine may be shared); each figure is the best of ``--repeat`` runs, the needs' cold figure
with the remembered backlog cleared first. Goals (issue 14): needs under 2 s, a 5-year scenario
under 10 s."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

from app.db import make_engine, new_session
from app.pavement_plan import service


def timed(function: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), os.times()
    result = function()
    after = os.times()
    return result, time.perf_counter() - wall, (after.user + after.system) - (cpu.user + cpu.system)


def best(function: Callable[[], Any], repeat: int,
         before: Callable[[], None] | None = None) -> tuple[Any, float, float]:
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(timed(function))
    return min(runs, key=lambda r: r[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--budget", type=int, default=20_000_000, help="yearly budget in dollars")
    parser.add_argument("--target-pci", type=float, default=72.0)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    with new_session(engine) as session:
        segments = len(service.load_segments(session=session))
        first = service.plan_years(session=session).first_year

        needs, wall, cpu = best(lambda: service.needs(session=session), args.repeat,
                                before=service._NEEDS_CACHE.clear)
        print(f"{segments:,} pavement segments; network needs ${needs.total_cents / 100:,.2f} "
              f"(catalog version {needs.catalog_version})")
        print(f"needs, computed:        {wall:6.2f} s wall {cpu:6.2f} s CPU")
        _, wall, cpu = best(lambda: service.needs(session=session), args.repeat)
        print(f"needs, remembered:      {wall:6.3f} s wall {cpu:6.3f} s CPU")

        def scenario() -> dict[str, Any]:
            return service.run_scenario(session=session, years=args.years, first_year=first,
                                        yearly_budget_cents=args.budget * 100)

        data, wall, cpu = best(scenario, args.repeat, before=service._SCENARIO_CACHE.clear)
        print(f"{args.years}-year scenario at ${args.budget:,} a year (and do nothing beside it): "
              f"{wall:6.2f} s wall {cpu:6.2f} s CPU; network PCI {data['rows'][0]['network_pci']} → "
              f"{data['rows'][-1]['network_pci']} (do nothing {data['do_nothing'][-1]['network_pci']})")

        def target() -> dict[str, Any]:
            return service.run_scenario(session=session, years=args.years, first_year=first,
                                        target_pci=args.target_pci)

        found, wall, cpu = best(target, 1, before=service._SCENARIO_CACHE.clear)
        amount = (found["yearly_budget_cents"] or 0) / 100
        print(f"target PCI {args.target_pci:g} in {args.years} years: ${amount:,.0f} "
              f"a year (within ${found['tolerance_cents'] / 100:,.0f}, {found['steps']} simulations): "
              f"{wall:6.2f} s wall {cpu:6.2f} s CPU")
    engine.dispose()


if __name__ == "__main__":
    main()
