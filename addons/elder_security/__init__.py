# This file is part of the eldercare platform. See LICENSE.

from . import routes  # noqa: F401 (registers the HTTP routes)
from . import speedups

speedups.patch()
