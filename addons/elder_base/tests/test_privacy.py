# This file is part of the eldercare platform. See LICENSE.
"""elder_base and elder_security together: the auditor reads and never
writes, data-subject requests on older people, bulk export approval."""
import json

from trytond.model.exceptions import AccessError
from trytond.modules.elder_security.dsr import ANONYMISED
from trytond.modules.elder_security.separation import ExportApprovalError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .test_access import create_user
from .tools import citizen_id, create_elder


class ElderBasePrivacyTestCase(ModuleTestCase):
    "Test separation of duties and data-subject requests on elder data"
    module = 'elder_base'

    @with_transaction()
    def test_auditor_reads_never_writes(self):
        "The audit administrator reads older people and cannot change them"
        pool = Pool()
        Elder = pool.get('elder.elder')
        elder = create_elder(
            '王淑芬', citizen_id('150102', '19450101', 2), '150102')
        auditor = create_user('auditor', 'elder_security.group_audit_admin')
        with Transaction().set_user(auditor.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Elder.search([]), [elder])
            Elder.read([elder.id], ['name'])
            with self.assertRaises(AccessError):
                Elder.write([Elder(elder.id)], {'note': 'x'})
            with self.assertRaises(AccessError):
                Elder.create([{'name': 'x'}])
            with self.assertRaises(AccessError):
                Elder.delete([Elder(elder.id)])

    @with_transaction()
    def test_subject_access_and_deletion(self):
        "The copy holds the elder record; deletion anonymises it"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Request = pool.get('security.subject.request')
        id_number = citizen_id('150102', '19450101', 2)
        elder = create_elder('王淑芬', id_number, '150102',
            phone='13800138000', address='中山路 1 号', contacts=[('create', [{
                            'name': '李强', 'relationship': 'son',
                            'phone': '13900139000'}])])
        access, = Request.create([{
                    'party': elder.party.id, 'kind': 'access',
                    'description': '查阅'}])
        Request.start([access])
        Request.process([access])
        data = json.loads(access.data)
        self.assertEqual(data['elder'][0]['name'], '王淑芬')
        self.assertEqual(data['elder'][0]['id_number'], id_number)
        self.assertEqual(data['elder_contacts'][0]['name'], '李强')

        deletion, = Request.create([{
                    'party': elder.party.id, 'kind': 'deletion',
                    'description': '删除'}])
        Request.start([deletion])
        Request.process([deletion])
        elder = Elder(elder.id)
        self.assertEqual(elder.name, ANONYMISED)
        self.assertNotEqual(elder.id_number, id_number)
        self.assertFalse(elder.phone)
        self.assertFalse(elder.address)
        self.assertEqual(elder.contacts, ())
        self.assertEqual(elder.party.name, ANONYMISED)

    @with_transaction()
    def test_bulk_export_needs_approval(self):
        "An export above 100 rows needs an approved request of the user"
        pool = Pool()
        Export = pool.get('elder.export.xlsx', type='report')
        Request = pool.get('security.export.request')
        IrModel = pool.get('ir.model')
        operator = create_user('op', 'elder_base.group_operator')
        secadm = create_user('sec', 'elder_security.group_security_admin')
        ids = list(range(1, 102))
        with Transaction().set_user(operator.id):
            Export.check_export_approval('elder.elder', ids[:100])
            with self.assertRaises(ExportApprovalError):
                Export.check_export_approval('elder.elder', ids)
            model, = IrModel.search([('name', '=', 'elder.elder')])
            request, = Request.create([{
                        'model': model.id, 'description': '全部',
                        'reason': '年报'}])
            Request.request([request])
        with Transaction().set_user(secadm.id):
            Request.approve([request])
        with Transaction().set_user(operator.id):
            Export.check_export_approval('elder.elder', ids)


del ModuleTestCase
