# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class CommunityValidationError(ValidationError):
    pass


class AttendanceError(UserError):
    "A check-in or check-out at a facility that cannot be accepted"


class RegistrationError(UserError):
    pass


class CaseError(UserError):
    pass


class CreditError(UserError):
    pass


class TimeBankError(UserError):
    "A time-bank movement that would break the ledger's rules"


class FeedbackError(UserError):
    pass
