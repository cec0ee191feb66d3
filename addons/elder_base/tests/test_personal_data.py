# This file is part of the eldercare platform. See LICENSE.
"Personal data at rest (SM4-GCM + blind index) and masking (elder_security)."
import datetime
import json
import os
import tempfile

from trytond.config import config  # noqa: E402
from trytond.model.exceptions import AccessError
from trytond.modules.elder_security import crypto
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from .test_access import create_user
from .tools import citizen_id, create_elder

ID = '150102194501010020'
PHONE = '13800138000'


class PersonalDataTestCase(ModuleTestCase):
    "Test encryption and masking of personal data"
    module = 'elder_base'

    def raw_rows(self, table):
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT * FROM "%s"' % table)  # noqa: S608 (test SQL from constants, no user input)
        return [' '.join(map(str, row)) for row in cursor]

    @with_transaction()
    def test_raw_sql_no_plaintext(self):
        "The database rows hold no plaintext of the personal fields"
        elder = create_elder('张桂兰', ID, '150102', phone=PHONE,
            address='新城区示例路1号3单元', health_summary='高血压二级',
            chronic_diseases='糖尿病', latitude='40.812345',
            contacts=[('create', [{
                            'name': '张明', 'relationship': 'son',
                            'phone': '13900139000',
                            'address': '赛罕区另一路8号'}])])
        for table in ['elder_elder', 'elder_contact']:
            text = '\n'.join(self.raw_rows(table))
            for secret in [ID, PHONE, '13900139000', '示例路', '高血压',
                    '糖尿病', '40.812345', '另一路']:
                self.assertNotIn(secret, text, (table, secret))
        # but the server reads them back
        self.assertEqual(elder.id_number, ID)
        self.assertEqual(elder.phone, PHONE)
        self.assertEqual(str(elder.latitude), '40.812345')
        self.assertEqual(elder.contacts[0].phone, '13900139000')
        self.assertEqual(elder.contacts[0].address, '赛罕区另一路8号')
        self.assertEqual(elder.sex, '2')

    @with_transaction()
    def test_search_exact(self):
        "Exact search by citizen ID and phone works (also sao's ilike)"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Contact = pool.get('elder.contact')
        elder = create_elder('张桂兰', ID, '150102', phone='138 0013 8000',
            contacts=[('create', [{
                            'name': '张明', 'relationship': 'son',
                            'phone': '13900139000'}])])
        create_elder('李四', citizen_id('150102', '19460101', 3), '150102')
        self.assertEqual(Elder.search([('id_number', '=', ID)]), [elder])
        self.assertEqual(
            Elder.search([('id_number', '=', ID.lower())]), [elder])
        self.assertEqual(
            Elder.search([('id_number', 'ilike', '%' + ID + '%')]), [elder])
        self.assertEqual(Elder.search([('rec_name', 'ilike', ID)]), [elder])
        self.assertEqual(Elder.search([('phone', '=', PHONE)]), [elder])
        self.assertEqual(Elder.search([('id_number', 'in', [ID])]), [elder])
        self.assertNotIn(elder, Elder.search([('id_number', '!=', ID)]))
        self.assertEqual(
            Contact.search([('phone', '=', '13900139000')]),
            list(elder.contacts))

    @with_transaction()
    def test_unique(self):
        "A citizen ID is registered once (unique on the blind index)"
        from trytond.exceptions import UserError
        create_elder('张桂兰', ID, '150102')
        with self.assertRaises(UserError):
            create_elder('张桂兰', ID.lower(), '150103')

    @with_transaction()
    def test_masked_read(self):
        "Reads through the API are masked, for an operator too"
        pool = Pool()
        Elder = pool.get('elder.elder')
        elder = create_elder('张桂兰', ID, '150102', phone=PHONE)
        operator = create_user('op_mask', 'elder_base.group_operator')
        for user_id in [operator.id, 1]:
            with Transaction().set_user(user_id), check_access():
                if user_id == operator.id:
                    with self.assertRaises(AccessError):
                        Elder.read([elder.id], ['id_number'])
                    continue
                values, = Elder.read(
                    [elder.id], ['id_number', 'phone', 'id_number_enc'])
                self.assertEqual(values['id_number'], '150102********0020')
                self.assertEqual(values['phone'], '138****8000')
                self.assertIsNone(values['id_number_enc'])
        # Writing back the masked value keeps the stored one
        with Transaction().set_user(1), check_access():
            Elder.write([Elder(elder.id)], {
                    'phone': '138****8000', 'note': 'x'})
        self.assertEqual(Elder(elder.id).phone, PHONE)

    @with_transaction()
    def test_batch_reads(self):
        """Lists read the encrypted fields, the age and the guardian of all
        their records at once, with the values a record attribute gives;
        an attribute decrypts its own field only"""
        pool = Pool()
        Elder = pool.get('elder.elder')
        elders = [create_elder(
                '老人%s' % i, citizen_id('150102', '1945%02d01' % (i + 1), i),
                '150102', phone='1380013800%s' % i,
                address='示例路%s号' % i, latitude='40.81234%s' % i,
                contacts=[('create', [{
                                'name': '子%s' % i, 'relationship': 'son',
                                'phone': '1390013900%s' % i,
                                'is_guardian': i != 1, 'sequence': 20,
                                }, {
                                'name': '女%s' % i,
                                'relationship': 'daughter',
                                'phone': '1370013700%s' % i,
                                'is_guardian': i == 2, 'sequence': 10,
                                }])])
            for i in range(3)]
        Elder.write([elders[0]], {'state': 'deceased',
                'death_date': datetime.date(2000, 1, 15)})
        names = ['id_number', 'phone', 'address', 'latitude', 'age',
            'guardian']
        rows = {r['id']: r for r in Elder.read(
                [e.id for e in elders], names)}
        for i, elder in enumerate(Elder.browse([e.id for e in elders])):
            for name in names:
                value = getattr(elder, name)
                self.assertEqual(rows[elder.id][name],
                    value.id if name == 'guardian' and value else value,
                    (i, name))
        self.assertEqual(rows[elders[0].id]['age'], 55)
        self.assertEqual(rows[elders[1].id]['guardian'], None)
        # the first guardian in the order of the contacts (sequence)
        self.assertEqual(Elder(elders[2].id).guardian.name, '女2')
        self.assertEqual(Elder(elders[0].id).guardian.name, '子0')
        self.assertEqual(rows[elders[1].id]['phone'], '13800138001')
        self.assertEqual(str(rows[elders[2].id]['latitude']), '40.812342')

        decrypted = []
        decrypt = crypto.Keyring.decrypt

        def spy(keyring, token, aad):
            decrypted.append(aad.split(':')[0])
            return decrypt(keyring, token, aad)
        crypto.Keyring.decrypt = spy
        try:
            self.assertEqual(
                [e.phone for e in Elder.browse([e.id for e in elders])],
                ['13800138000', '13800138001', '13800138002'])
        finally:
            crypto.Keyring.decrypt = decrypt
        self.assertEqual(decrypted, ['elder.elder.phone'] * 3)

    @with_transaction()
    def test_full_view_audited(self):
        "Show Full Data: refused without the group, audited with it"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Event = pool.get('security.audit.event')
        Reveal = pool.get('security.personal_data.reveal', type='wizard')
        elder = create_elder('张桂兰', ID, '150102', phone=PHONE)
        start = Event.log('other')
        plain = create_user('plain_admin', 'res.group_admin')
        full = create_user('full_admin', 'res.group_admin')
        full_group = pool.get('ir.model.data').get_id(
            'elder_security', 'group_personal_data_full')
        pool.get('res.user').write(
            [full], {'groups': [('add', [full_group])]})
        context = {
            'active_model': 'elder.elder', 'active_id': elder.id,
            'active_ids': [elder.id]}
        with Transaction().set_user(plain.id), \
                Transaction().set_context(context):
            session_id, _, _ = Reveal.create()
            with self.assertRaises(AccessError):
                Reveal.execute(session_id, {}, 'start')
        with Transaction().set_user(full.id), \
                Transaction().set_context(context):
            session_id, _, _ = Reveal.create()
            result = Reveal.execute(session_id, {}, 'start')
        data = result['view']['defaults']['data']
        self.assertIn(ID, data)
        self.assertIn(PHONE, data)
        with Transaction().new_transaction():
            events = Event.search([
                    ('seq', '>', start), ('event_type', '=', 'full_view')])
            seen = {(e.object, e.field, e.result, e.login) for e in events}
        obj = 'elder.elder,%s' % elder.id
        self.assertIn((obj, None, 'failure', 'plain_admin'), seen)
        self.assertIn((obj, 'id_number', 'success', 'full_admin'), seen)
        self.assertIn((obj, 'phone', 'success', 'full_admin'), seen)

    @with_transaction()
    def test_export_audited(self):
        "An Excel export is audited"
        pool = Pool()
        Event = pool.get('security.audit.event')
        Export = pool.get('elder.export.xlsx', type='report')
        elder = create_elder('张桂兰', ID, '150102', phone=PHONE)
        start = Event.log('other')
        with check_access():
            Export.execute([elder.id], {'model': 'elder.elder'})
        with Transaction().new_transaction():
            events = Event.search([
                    ('seq', '>', start), ('event_type', '=', 'export')])
            self.assertEqual(len(events), 1)
            self.assertEqual(events[0].object, 'elder.elder')
            self.assertIn(str(elder.id), events[0].details)

    @with_transaction()
    def test_key_rotation(self):
        "After a new key and the rotation, data stays readable"
        pool = Pool()
        Elder = pool.get('elder.elder')
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, 'keys.json')
        previous = config.get('elder_security', 'key_file')
        if not config.has_section('elder_security'):
            config.add_section('elder_security')
        config.set('elder_security', 'key_file', path)

        def restore():
            config.set('elder_security', 'key_file',
                previous or crypto.DEFAULT_KEY_FILE)
            crypto.Keyring.clear()
        self.addCleanup(restore)
        crypto.Keyring.clear()

        elder = create_elder('张桂兰', ID, '150102', phone=PHONE)
        cursor = Transaction().connection.cursor()
        cursor.execute(
            'SELECT id_number_enc FROM elder_elder WHERE id = %s',
            (elder.id,))
        token, = cursor.fetchone()
        self.assertTrue(token.startswith('v1:k1:'))

        crypto.add_key('k2')
        self.assertEqual(json.load(open(path))['active'], 'k2')
        count = Elder.rotate_encryption()
        self.assertGreaterEqual(count, 2)
        cursor.execute(
            'SELECT id_number_enc FROM elder_elder WHERE id = %s',
            (elder.id,))
        token, = cursor.fetchone()
        self.assertTrue(token.startswith('v1:k2:'))
        # Old key removed: still readable, search still works
        data = json.load(open(path))
        del data['keys']['k1']
        crypto.write_key_file(path, data)
        crypto.Keyring.clear()
        self.assertEqual(Elder.get_encrypted([elder], ['id_number'])[
                'id_number'][elder.id], ID)
        self.assertEqual(Elder.search([('id_number', '=', ID)]), [elder])

    @with_transaction()
    def test_import_duplicate_encrypted(self):
        "The Excel import still finds an already registered citizen ID"
        from trytond.modules.elder_base.import_export import ElderImporter
        create_elder('张桂兰', ID, '150102')
        importer = ElderImporter()
        from trytond.modules.elder_base.import_export import Row
        importer.check_existing([(Row(2, {}), {'id_number': ID})])
        self.assertEqual(len(importer.issues), 1)


del ModuleTestCase
