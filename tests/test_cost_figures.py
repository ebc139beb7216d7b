"""A project page's cost agrees with itself: when the group's own figure or staff's revised estimate
replaces the computed one, the page says so and shows each figure with its basis and range, and the
headline is the figure the budget uses."""

from __future__ import annotations

import re

from sqlmodel import Session

from app.proposals import editor, states
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from app.triage import review
from models.proposals import Proposal
from tests.triage_data import build_triage


def _override_proposal(session: Session, t) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A submitted proposal whose group put its own figure (three times the computed one) in its place."""
    keys = [AssetKey("pavement", t.city.segments[0])]
    probe = editor.create_proposal(session=session, group_id=t.group.id, actor=t.member, data=ProposalInput(
        title="Probe", category_key="pavement", scheduled_year=2027, assets=keys))  # stays a private draft
    figure = (probe.estimate_total_cents or 0) * 3
    proposal = editor.create_proposal(session=session, group_id=t.group.id, actor=t.member, data=ProposalInput(
        title="Rebuild Main", category_key="pavement", scheduled_year=2027, assets=keys, override_cents=figure,
        override_reason="Our engineer priced a full-depth rebuild"))
    states.submit(session=session, group_id=t.group.id, proposal_id=proposal.id or 0, actor=t.member,
                  expected_version=proposal.version)
    return proposal.id or 0, figure


def _money(cents: int) -> str:
    return f"${(cents + 50) // 100:,}"  # whole dollars, as the page rounds them


def _figure(text: str, kind: str) -> str:
    found = re.search(rf'data-kind="{kind}">(.*?)</div>', text, re.S)
    assert found, f"no {kind} figure"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_a_groups_figure_is_shown_beside_the_computed_estimate(client, session, resident):
    t = build_triage(session, resident)
    pid, figure = _override_proposal(session, t)
    proposal = session.get(Proposal, pid)
    text = client.get(f"/proposals/{pid}").text
    assert re.search(rf'data-testid="project-cost">{re.escape(_money(figure))}<', text)
    assert "own figure replaces the computed estimate" in text
    group = _figure(text, "group")
    assert _money(figure) in group and "used for the budget" in group and "a single figure, no range given" in group
    assert "Our engineer priced a full-depth rebuild" in group
    computed = _figure(text, "computed")
    assert _money(proposal.estimate_total_cents) in computed
    assert f"range {_money(proposal.estimate_low_cents)} – {_money(proposal.estimate_high_cents)}" in computed
    assert "unit costs" in computed and "used for the budget" not in computed


def test_staff_revision_is_the_figure_used_and_the_others_stay_visible(client, session, resident, staff):
    t = build_triage(session, resident)
    pid = t.proposals[0].id
    states.start_review(session=session, proposal_id=pid, actor=staff)
    review.revise_estimate(session=session, actor=staff, proposal_id=pid, reason="Quantities re-measured on site",
                           revisions=[review.LineRevision(0, "10", 1_000_000)])
    staff_total = review.staff_estimates(session=session, proposal_id=pid)[0].total_cents
    text = client.get(f"/proposals/{pid}").text
    assert re.search(rf'data-testid="project-cost">{re.escape(_money(staff_total))}<', text)
    assert "revised estimate replaces the earlier figures" in text
    revised = _figure(text, "staff")
    assert "Quantities re-measured on site" in revised and "used for the budget" in revised
    assert "range $" in revised
    assert "used for the budget" not in _figure(text, "computed")


def test_a_plain_estimate_shows_one_figure_and_its_range(client, session, resident):
    t = build_triage(session, resident)
    text = client.get(f"/proposals/{t.proposals[0].id}").text
    assert 'data-testid="cost-override"' not in text and 'class="cost-figures"' not in text
    assert "range $" in text
