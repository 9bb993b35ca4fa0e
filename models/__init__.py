"""The store's tables. Importing this package registers every table on `SQLModel.metadata`."""

from models.base import NAMING_CONVENTION, UTCDateTime, utcnow
from models.department import Department, DepartmentBase, DepartmentPublic
from models.evidence import (
    Approval,
    ApprovalBase,
    ApprovalCreate,
    ApprovalPublic,
    Attestation,
    AttestationBase,
    AttestationCreate,
    AttestationPublic,
    MetricObservation,
    MetricObservationBase,
    MetricObservationCreate,
)
from models.history import (
    GateResult,
    GateResultBase,
    GateResultPublic,
    Transition,
    TransitionBase,
    TransitionPublic,
)
from models.outbox import (
    Notification,
    NotificationBase,
    NotificationPublic,
    NotificationStatus,
    new_notification_id,
)
from models.person import Person, PersonBase, PersonPublic, PersonRole, PersonRoleBase
from models.program import Program, ProgramBase, ProgramPublic
from models.training import (
    ChampionOnboarding,
    ChampionOnboardingBase,
    TrainingAssignment,
    TrainingAssignmentBase,
)

__all__ = [
    "NAMING_CONVENTION",
    "Approval",
    "ApprovalBase",
    "ApprovalCreate",
    "ApprovalPublic",
    "Attestation",
    "AttestationBase",
    "AttestationCreate",
    "AttestationPublic",
    "ChampionOnboarding",
    "ChampionOnboardingBase",
    "Department",
    "DepartmentBase",
    "DepartmentPublic",
    "GateResult",
    "GateResultBase",
    "GateResultPublic",
    "MetricObservation",
    "MetricObservationBase",
    "MetricObservationCreate",
    "Notification",
    "NotificationBase",
    "NotificationPublic",
    "NotificationStatus",
    "Person",
    "PersonBase",
    "PersonPublic",
    "PersonRole",
    "PersonRoleBase",
    "Program",
    "ProgramBase",
    "ProgramPublic",
    "TrainingAssignment",
    "TrainingAssignmentBase",
    "Transition",
    "TransitionBase",
    "TransitionPublic",
    "UTCDateTime",
    "new_notification_id",
    "utcnow",
]
