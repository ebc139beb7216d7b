"""`groundwork verify [SOURCE ...]`: recompute the ballot list's hashes and check the chain of versions.

SOURCE is an export file, an export's URL (``…/ballot/v/2/export.json``: checked against the hash
the site sends with it), or a site's address (``https://city.example/``: every version listed at
``/ballot/versions.json`` is fetched and checked). Several exports are checked as a chain. With no
SOURCE, the versions in this installation's database are checked. The exit status is 1 when any
hash or link of the chain does not match.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import typer
from rich.console import Console

from app.commands import fail
from app.db import new_session
from app.scenarios import verify as verifying
from app.scenarios.chain import Checked, check_chain, check_export
from app.settings import get_settings


def _client() -> httpx.Client:
    return httpx.Client(timeout=get_settings().imports.http_timeout_s, follow_redirects=True)


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        response = client.get(url)
    except httpx.HTTPError as error:
        raise fail(f"{url} could not be fetched: {error}") from error
    if response.status_code != 200:
        raise fail(f"{url} answered HTTP {response.status_code}; is it a Groundwork site or ballot export?")
    return response


def _from_url(client: httpx.Client, url: str) -> list[Checked]:
    if urlsplit(url).path.endswith(".json") and not urlsplit(url).path.endswith("/versions.json"):
        response = _get(client, url)
        return [check_export(response.content, source=url, claimed_hash=response.headers.get("x-content-sha256"))]
    root = url if url.endswith("/versions.json") else urljoin(url.split("/ballot")[0].rstrip("/") + "/",
                                                              "ballot/versions.json")
    try:
        versions = _get(client, root).json()
    except ValueError as error:
        raise fail(f"{root} is not the list of ballot versions (not JSON).") from error
    if not versions:
        raise fail(f"{root} lists no published version of the ballot list.")
    return [check_export(_get(client, urljoin(root, v["export"])).content, source=f"version {v['version']}",
                         claimed_hash=v["content_hash"]) for v in versions]


def _from_file(path: Path) -> Checked:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise fail(f"{path} cannot be read: {error.strerror}.") from error
    return check_export(raw, source=str(path))


def verify(sources: list[str] | None = typer.Argument(
        None, help="Export files, export URLs or a site's address; none: this installation's database.")) -> None:
    """Recompute every ballot list version's hash from its export and check the chain of versions."""
    out = Console(highlight=False, soft_wrap=True)  # hashes stay whole, one line each
    if not sources:
        with new_session() as session:
            report = verifying.database(session=session)
        checked, chain = report.versions, report.chain_problems
        if not checked:
            raise fail("No ballot list has been published in this installation.")
    else:
        checked = []
        with _client() as client:
            for source in sources:
                if source.startswith(("http://", "https://")):
                    checked += _from_url(client, source)
                else:
                    checked.append(_from_file(Path(source)))
        chain = check_chain(checked)
    for c in sorted(checked, key=lambda c: c.version or 0):
        status = "[green]✓[/]" if c.ok else "[bold red]✗[/]"
        claim = (" matches the published hash" if c.claimed_hash == c.computed_hash
                 else " (no published hash given to compare)" if c.claimed_hash is None else "")
        out.print(f"{status} version {c.version}: sha256 {c.computed_hash}{claim}")
        if c.previous_hash:
            out.print(f"    records version {(c.version or 1) - 1}'s hash {c.previous_hash}; reason: {c.reason}")
    problems = [p for c in checked for p in c.problems] + chain
    if problems:
        for problem in problems:
            out.print(f"[bold red]mismatch:[/] {problem}")
        raise typer.Exit(1)
    linked = len(checked) > 1
    out.print(f"[green]All {len(checked)} version{'s' if len(checked) != 1 else ''} verified"
              + (" and the chain is intact." if linked else "."))


def register(cli: typer.Typer) -> None:
    cli.command("verify")(verify)
