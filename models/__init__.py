"""SQLModel tables and their API shapes, one module per domain.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic's target).
"""

from models.accounts import (
    Group,
    GroupMembership,
    GroupRole,
    LoginAttempt,
    MailRequest,
    PasswordReset,
    PendingRegistration,
    Role,
    User,
    UserSession,
)
from models.audit import AuditEvent
from models.costs import CatalogVersion, Treatment
from models.delivery import (
    DeliveryAward,
    DeliveryFollow,
    DeliveryMilestone,
    DeliveryPhaseDates,
    DeliveryPhaseDefinition,
    DeliveryPhoto,
    DeliveryProject,
    DeliverySpending,
    DeliveryUpdate,
    RevenueCollection,
    VoteResult,
)
from models.groups import GroupInvite, GroupListShare
from models.imports import ImportJob
from models.outbox import OutboxMessage
from models.participation import ProposalComment, ProposalSupport
from models.pavement_plan import CurveVersion, PlanScenario, SurveyObservation
from models.program import Category, DistrictShare, Phase, Program, Tier
from models.proposals import Proposal, ProposalAsset, ProposalRevision, ProposalState, ProposalTransition
from models.triage import (
    ProposalLink,
    PublishedItem,
    PublishedList,
    ReviewerScore,
    RubricCriterion,
    Scenario,
    ScenarioItem,
    StaffEstimate,
    TriageReview,
)

__all__ = [
    "AuditEvent",
    "CatalogVersion",
    "Category",
    "DeliveryAward",
    "DeliveryFollow",
    "DeliveryMilestone",
    "DeliveryPhaseDates",
    "DeliveryPhaseDefinition",
    "DeliveryPhoto",
    "DeliveryProject",
    "DeliverySpending",
    "DeliveryUpdate",
    "CurveVersion",
    "DistrictShare",
    "Group",
    "ImportJob",
    "GroupInvite",
    "GroupListShare",
    "GroupMembership",
    "GroupRole",
    "LoginAttempt",
    "MailRequest",
    "OutboxMessage",
    "PasswordReset",
    "PendingRegistration",
    "Phase",
    "PlanScenario",
    "Program",
    "Proposal",
    "ProposalComment",
    "ProposalSupport",
    "ProposalAsset",
    "ProposalRevision",
    "ProposalState",
    "ProposalTransition",
    "ProposalLink",
    "PublishedItem",
    "PublishedList",
    "RevenueCollection",
    "ReviewerScore",
    "RubricCriterion",
    "Scenario",
    "ScenarioItem",
    "StaffEstimate",
    "SurveyObservation",
    "TriageReview",
    "Role",
    "Tier",
    "Treatment",
    "User",
    "UserSession",
    "VoteResult",
]
