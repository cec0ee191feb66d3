# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class SettlementError(UserError):
    "A settlement step that cannot be taken"


class SeparationOfDutiesError(UserError):
    "The same person may not approve twice"


class SettlementValidationError(ValidationError):
    pass


class EvaluationError(UserError):
    pass
