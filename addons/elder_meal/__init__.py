# This file is part of the eldercare platform. See LICENSE.
from . import routes  # noqa: F401 (registers the meal routes)
from . import h5  # noqa: F401 (registers the counter terminal's routes)
from . import family  # noqa: F401 (registers the family meal API)
