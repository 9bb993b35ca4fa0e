"""The store's tables. Importing this package registers every table on `SQLModel.metadata`."""

from pilotscale.models.base import NAMING_CONVENTION, UTCDateTime, utcnow
from pilotscale.models.control_records import (
    ProgramControl,
    ProgramControlBase,
    Waiver,
    WaiverBase,
)
from pilotscale.models.department import Department, DepartmentBase
from pilotscale.models.evidence import (
    Approval,
    ApprovalBase,
    Attestation,
    AttestationBase,
    MetricDaily,
    MetricObservation,
    MetricObservationBase,
)
from pilotscale.models.history import (
    GateResultRecord,
    GateResultRecordBase,
    Transition,
    TransitionBase,
)
from pilotscale.models.notification import (
    Notification,
    NotificationBase,
    NotificationItem,
    NotificationItemBase,
    NotificationStatus,
    new_notification_id,
)
from pilotscale.models.people_input import (
    Barrier,
    BarrierBase,
    LinkUse,
    LinkUseBase,
    Note,
    NoteBase,
)
from pilotscale.models.person import Person, PersonBase, PersonRole, PersonRoleBase
from pilotscale.models.program import Program, ProgramBase
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
    "Attestation",
    "AttestationBase",
    "Barrier",
    "BarrierBase",
    "ChampionOnboarding",
    "ChampionOnboardingBase",
    "Department",
    "DepartmentBase",
    "GateResultRecord",
    "GateResultRecordBase",
    "LinkUse",
    "LinkUseBase",
    "MetricDaily",
    "MetricObservation",
    "MetricObservationBase",
    "Note",
    "NoteBase",
    "Notification",
    "NotificationBase",
    "NotificationItem",
    "NotificationItemBase",
    "NotificationStatus",
    "Person",
    "PersonBase",
    "PersonRole",
    "PersonRoleBase",
    "Program",
    "ProgramBase",
    "ProgramControl",
    "ProgramControlBase",
    "TrainingAssignment",
    "TrainingAssignmentBase",
    "Transition",
    "TransitionBase",
    "UTCDateTime",
    "Waiver",
    "WaiverBase",
    "new_notification_id",
    "utcnow",
]
