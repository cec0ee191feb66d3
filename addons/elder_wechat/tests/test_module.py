# This file is part of the eldercare platform. See LICENSE.
from trytond.tests.test_tryton import ModuleTestCase


class ElderWechatTestCase(ModuleTestCase):
    "Test elder_wechat module"
    module = 'elder_wechat'
    extras = ['elder_assess', 'elder_settlement']


del ModuleTestCase
