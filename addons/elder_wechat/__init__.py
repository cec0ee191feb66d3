# This file is part of the eldercare platform. See LICENSE.
from . import api  # noqa: F401  (registers the mini program API's routes)
