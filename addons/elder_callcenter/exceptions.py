# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class CallCenterError(UserError):
    pass


class CallCenterValidationError(ValidationError):
    pass
