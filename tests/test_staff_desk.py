"""Staff land on what needs them now: waiting reviews, their own, groups' replies, lost assets, imports."""

from __future__ import annotations

from sqlmodel import Session, select

from app.proposals import states
from models.proposals import ProposalAsset
from tests.conftest import post_form
from tests.triage_data import build_triage


def test_staff_land_on_what_needs_them_now_after_sign_in(client, session: Session, settings, resident, staff):
    t = build_triage(session, resident)
    first, second = t.proposals[0], t.proposals[1]
    states.start_review(session=session, proposal_id=second.id, actor=staff)
    states.request_info(session=session, proposal_id=second.id, actor=staff, reason="width?",
                        public_note="How wide is the path?")
    states.submit(session=session, group_id=t.group.id, proposal_id=second.id, actor=resident,
                  expected_version=session.get(type(second), second.id).version)
    link = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == first.id)).first()
    link.missing, link.asset_id = True, -link.id
    session.add(link)
    session.commit()

    response = post_form(client, "/signin", {"email": staff.email, "password": "a-long-test-password"})
    assert response.status_code == 303 and response.headers["location"] == "/staff"
    page = client.get("/staff").text
    assert "What needs me now" in page
    waiting = page.split("Submitted, waiting for a reviewer")[1].split("</section>")[0]
    assert first.title in waiting and second.title not in waiting
    replies = page.split("Groups answered your questions")[1].split("</section>")[0]
    assert second.title in replies and "resubmitted" in replies
    lost = page.split("Lost assets in an import")[1].split("</section>")[0]
    assert first.title in lost and "1 asset no longer in the layer" in lost
    assert "Phase:" in page and "Imports in the last two weeks" in page


def test_residents_do_not_land_on_the_staff_desk(client, session: Session, resident):
    response = post_form(client, "/signin", {"email": resident.email, "password": "a-long-test-password"})
    assert response.headers["location"] == "/"
    assert client.get("/staff").status_code in (403, 404)


def test_the_desk_follows_the_viewers_language(client, session: Session, resident, staff):
    t = build_triage(session, resident)
    link = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == t.proposals[0].id)).first()
    link.missing, link.asset_id = True, -link.id
    session.add(link)
    session.commit()
    post_form(client, "/signin", {"email": staff.email, "password": "a-long-test-password"})
    assert "Lost assets in an import" in client.get("/staff").text
    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    page = client.get("/staff").text
    assert "<h1>Lo que requiere mi atención</h1>" in page and "Enviadas, en espera de un revisor" in page
    assert "Fase: <strong>" in page and "Phase:" not in page  # the program's phase of today, in Spanish
    lost = page.split("Elementos perdidos en una importación")[1].split("</section>")[0]
    assert t.proposals[0].title in lost and "1 elemento ya no está en la capa" in lost
    assert "Importaciones de las últimas dos semanas" in page and "Nothing is assigned to you." not in page
