# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ProviderConfigError(ValidationError):
    pass


class FaceQualityError(UserError):
    pass


class LivenessError(UserError):
    pass


class EnrolmentError(UserError):
    pass
