# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class InvalidCitizenID(ValidationError):
    pass


class InvalidCreditCode(ValidationError):
    pass


class InvalidPhone(ValidationError):
    pass


class ImportError_(UserError):
    pass


class DeathDateError(ValidationError):
    pass
