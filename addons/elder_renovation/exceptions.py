# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class RenovationError(UserError):
    pass


class RenovationValidationError(ValidationError):
    pass


class SeparationError(AccessError):
    pass
