"""One-click unsubscribe from a followed project's mail, without signing in.

Every follow mail carries a link to /unsubscribe/{token}, in its text and in the List-Unsubscribe
header with List-Unsubscribe-Post (RFC 8058), so mail clients offer their own "unsubscribe"
button. The token is signed with the site's secret for this purpose only and names one follower
and one project; it works for ``settings.delivery.unsubscribe_link_days``. Opening the link shows
a confirmation; the POST (from that page, or the mail client's one-click POST) stops the mail.
Stopping twice is fine: the second time says the mail was already stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app import audit
from app.delivery import projects
from app.i18n import N_, translations
from app.i18n import gettext as _
from app.security import UNSUBSCRIBE_PURPOSE, TokenExpired, TokenInvalid, read_token, sign_token
from app.settings import Settings
from models.accounts import User
from models.delivery import DeliveryFollow, DeliveryProject

STOP_LINE = N_("Stop these e-mails in one click: {link}")


class UnsubscribeError(ValueError):
    """The link cannot be used; the message says why and what to do instead."""


def link(*, settings: Settings, user_id: int, project_id: int) -> str:
    token = sign_token(settings, UNSUBSCRIBE_PURPOSE, [user_id, project_id])
    return f"{settings.base_url.rstrip('/')}/unsubscribe/{token}"


def mail_parts(*, settings: Settings, user_id: int, project_id: int) -> tuple[str, dict[str, str]]:
    """The lines to add to a follow mail (English and Spanish) and its RFC 8058 headers."""
    url = link(settings=settings, user_id=user_id, project_id=project_id)
    es = translations("es").gettext
    lines = f"{STOP_LINE.format(link=url)}\n{es(STOP_LINE).format(link=url)}\n"
    return lines, {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@dataclass(frozen=True)
class Subscription:
    user: User
    project: DeliveryProject
    title: str
    following: bool


def read(*, session: Session, settings: Settings, token: str) -> Subscription:
    """Who and what the link is for; UnsubscribeError when it is not valid or too old."""
    try:
        user_id, project_id = read_token(settings, UNSUBSCRIBE_PURPOSE, token,
                                         max_age_s=settings.delivery.unsubscribe_link_days * 86_400)
    except TokenExpired:
        raise UnsubscribeError(_("This unsubscribe link is too old to use. Sign in and choose Unfollow on the "
                                 "project's page; nothing was changed.")) from None
    except (TokenInvalid, ValueError, TypeError):
        raise UnsubscribeError(_("This unsubscribe link is not valid: it may have been cut short when it was "
                                 "copied. Open it again from the e-mail, or sign in and choose Unfollow on the "
                                 "project's page; nothing was changed.")) from None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    project = session.get(DeliveryProject, project_id) if isinstance(project_id, int) else None
    if user is None or project is None:
        raise UnsubscribeError(_("This link is for a project or an account that no longer exists, so there is "
                                 "no mail to stop."))
    try:
        title = projects._item(session, project.proposal_id).title
    except LookupError:
        title = ""
    following = session.exec(select(DeliveryFollow.id).where(DeliveryFollow.project_id == project.id,
                                                             DeliveryFollow.user_id == user.id)).first()
    return Subscription(user, project, title, following is not None)


def unsubscribe(*, session: Session, settings: Settings, token: str) -> tuple[Subscription, bool]:
    """Stop the follower's mail for the project; False when it was stopped already."""
    subscription = read(session=session, settings=settings, token=token)
    row = session.exec(select(DeliveryFollow).where(DeliveryFollow.project_id == subscription.project.id,
                                                    DeliveryFollow.user_id == subscription.user.id)).first()
    if row is None:
        return subscription, False
    session.delete(row)
    audit.record(session=session, actor=subscription.user, action="delivery.unsubscribe",
                 object_type="delivery_project", object_id=subscription.project.id,
                 after={"proposal_id": subscription.project.proposal_id, "by": "unsubscribe link"})
    session.commit()
    return subscription, True
