# This file is part of the eldercare platform. See LICENSE.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class StoreError(UserError):
    pass


class ImportFileError(ValidationError):
    pass


class UploadError(UserError):
    pass
