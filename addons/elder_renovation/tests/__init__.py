# This file is part of the eldercare platform. See LICENSE.
