# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction


class ElderSecurityTestCase(ModuleTestCase):
    "Test elder_security module"
    module = 'elder_security'

    @with_transaction()
    def test_three_administrator_groups(self):
        "The three separated administrator groups exist and are distinct"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ids = {
            ModelData.get_id('elder_security', name)
            for name in [
                'group_system_admin', 'group_security_admin',
                'group_audit_admin']}
        self.assertEqual(len(ids), 3)


del ModuleTestCase
