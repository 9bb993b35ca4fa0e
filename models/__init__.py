"""The store's tables. Importing this package registers every table on `SQLModel.metadata`."""

from pilotscale.models.base import NAMING_CONVENTION, UTCDateTime, utcnow
from pilotscale.models.department import Department, DepartmentBase, DepartmentPublic
from pilotscale.models.evidence import (
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
from pilotscale.models.history import (
    GateResult,
    GateResultBase,
    GateResultPublic,
    Transition,
    TransitionBase,
    TransitionPublic,
)
from pilotscale.models.notification import (
    Notification,
    NotificationBase,
    NotificationPublic,
    NotificationStatus,
    new_notification_id,
)
from pilotscale.models.person import Person, PersonBase, PersonPublic, PersonRole, PersonRoleBase
from pilotscale.models.program import Program, ProgramBase, ProgramPublic
from pilotscale.models.training import (
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
