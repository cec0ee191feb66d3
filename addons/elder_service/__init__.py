# This file is part of the eldercare platform. See LICENSE.
from . import routes  # noqa: F401  (registers the worker app's routes)
from . import h5  # noqa: F401  (registers the H5 pages' routes)
from . import family  # noqa: F401  (registers the family API's routes)
