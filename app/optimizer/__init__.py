"""The whittling optimizer: the best ballot list under the program's rules, proven optimal by an
integer program (HiGHS), with what binds it, what it would take to add a proposal, which rules
conflict when no list is possible, the CONSUL-style greedy list for comparison, and a checker for
hand-edited lists. Pure: no database; the scenarios service feeds it candidates and rules.
See docs/OPTIMIZER.md."""

from app.optimizer.check import Spending, Violation, check
from app.optimizer.greedy import greedy
from app.optimizer.model import (
    BPS,
    SCORE_UNITS_PER_POINT,
    Candidate,
    CashFlow,
    CategoryRule,
    DistrictMinimum,
    Lock,
    OptimizerInputError,
    Rules,
    Tier,
    score_units,
)
from app.optimizer.results import Binding, Conflict, Outcome, Placement, TierOutcome
from app.optimizer.rulebook import RuleKind, RuleRef, describe
from app.optimizer.solve import Addition, optimize, what_it_takes

__all__ = [
    "BPS", "SCORE_UNITS_PER_POINT", "Addition", "Binding", "Candidate", "CashFlow", "CategoryRule", "Conflict",
    "DistrictMinimum", "Lock", "OptimizerInputError", "Outcome", "Placement", "RuleKind", "RuleRef", "Rules",
    "Spending", "Tier", "TierOutcome", "Violation", "check", "describe", "greedy", "optimize", "score_units",
    "what_it_takes",
]
