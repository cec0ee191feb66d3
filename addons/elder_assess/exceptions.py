# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class InvalidOptionError(ValidationError):
    pass


class AssessmentError(UserError):
    pass


class SeparationError(AccessError):
    pass


class PolicyError(ValidationError):
    pass
