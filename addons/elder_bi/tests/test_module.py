# This file is part of the eldercare platform. See LICENSE.
from trytond.tests.test_tryton import ModuleTestCase


class ElderBiTestCase(ModuleTestCase):
    "Test elder_bi module"
    module = 'elder_bi'


del ModuleTestCase
