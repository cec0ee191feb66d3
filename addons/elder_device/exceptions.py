# This file is part of the eldercare platform. See LICENSE.
from trytond.model.exceptions import ValidationError


class DeviceValidationError(ValidationError):
    pass
