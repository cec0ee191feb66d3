# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class OrderValidationError(ValidationError):
    pass


class AssignError(UserError):
    pass


class VisitError(UserError):
    "A check-in or check-out that cannot be accepted"


class DispatchError(UserError):
    pass
