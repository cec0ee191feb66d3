# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class MealPointError(ValidationError):
    pass


class MenuError(ValidationError):
    pass


class MealOrderError(UserError):
    pass


class CheckInError(UserError):
    pass


class InspectionError(UserError):
    pass
