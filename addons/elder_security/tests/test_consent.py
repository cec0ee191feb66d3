# This file is part of the eldercare platform. See LICENSE.
"Consents and data-subject requests of elder_security"
import datetime
import json
import pathlib
import re

from trytond.model.exceptions import AccessError
from trytond.modules.elder_security.consent import ConsentError
from trytond.modules.elder_security.dsr import ANONYMISED
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction


def create_party(name='王淑芬'):
    Party = Pool().get('party.party')
    party, = Party.create([{
                'name': name,
                'contact_mechanisms': [('create', [
                            {'type': 'mobile', 'value': '+8613800138000'}])],
                'addresses': [('create', [{'street': '新城区中山路 1 号'}])],
                }])
    return party


def create_user(login, group=None):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    values = {'login': login, 'name': login}
    if group:
        values['groups'] = [
            ('add', [ModelData.get_id('elder_security', group)])]
    user, = User.create([values])
    return user


class ElderSecurityConsentTestCase(ModuleTestCase):
    "Test consents and data-subject requests"
    module = 'elder_security'

    def consent(self, party, purpose='biometrics', **values):
        Consent = Pool().get('security.consent')
        consent, = Consent.create([dict(
                    party=party.id, purpose=purpose, version='2025-01',
                    **values)])
        return consent

    @with_transaction()
    def test_require_missing(self):
        "require() refuses a person without consent, naming the purpose"
        pool = Pool()
        Consent = pool.get('security.consent')
        party = create_party()
        with self.assertRaises(ConsentError) as cm:
            Consent.require(party, 'biometrics')
        self.assertIn('王淑芬', cm.exception.message)
        self.assertIn('Biometrics', cm.exception.message)

    @with_transaction()
    def test_require_given(self):
        "require() returns the valid consent of that purpose only"
        pool = Pool()
        Consent = pool.get('security.consent')
        party = create_party()
        consent = self.consent(party, 'biometrics')
        self.assertEqual(Consent.require(party, 'biometrics'), consent)
        self.assertEqual(Consent.require(party.id, 'biometrics'), consent)
        with self.assertRaises(ConsentError):
            Consent.require(party, 'family_sharing')

    @with_transaction()
    def test_require_withdrawn(self):
        "A withdrawn consent no longer counts and says so"
        pool = Pool()
        Consent = pool.get('security.consent')
        party = create_party()
        consent = self.consent(party, 'family_sharing', given_by='guardian',
            guardian=create_party('李强').id)
        Consent.withdraw([consent])
        self.assertTrue(consent.withdrawn_at)
        self.assertFalse(consent.valid)
        with self.assertRaises(ConsentError) as cm:
            Consent.require(party, 'family_sharing')
        self.assertIn('withdrawn', cm.exception.message)
        # a new consent counts again
        self.consent(party, 'family_sharing')
        self.assertTrue(Consent.has(party, 'family_sharing'))

    def test_messages_translated(self):
        "Every message of consents, requests, exports and reports is in zh_CN"
        base = pathlib.Path(__file__).resolve().parents[1]
        po = (base / 'locale' / 'zh_CN.po').read_text(encoding='utf-8')
        xml = (base / 'message.xml').read_text(encoding='utf-8')
        ids = re.findall(
            r'id="(msg_(?:consent|subject|export|separation|report|'
            r'credential)_\w+)"', xml)
        self.assertTrue(ids)
        for id_ in ids:
            self.assertTrue(
                'msgctxt "model:ir.message,text:%s"' % id_ in po, id_)

    @with_transaction()
    def test_consent_immutable(self):
        "A consent is never changed nor deleted through the clients"
        pool = Pool()
        Consent = pool.get('security.consent')
        party = create_party()
        consent = self.consent(party)
        user = create_user('privacy1')
        ModelData = pool.get('ir.model.data')
        user.groups = [ModelData.get_id('elder_security', 'group_privacy')]
        user.save()
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Consent.write([Consent(consent.id)], {'version': 'x'})
            with self.assertRaises(AccessError):
                Consent.delete([Consent(consent.id)])
            Consent.write([Consent(consent.id)], {'note': 'scanned form'})
            Consent.withdraw([Consent(consent.id)])
            with self.assertRaises(AccessError):
                Consent.write(
                    [Consent(consent.id)], {'withdrawn_at': None})

    @with_transaction()
    def test_consent_no_access_without_group(self):
        "A user without the privacy group cannot read consents"
        pool = Pool()
        Consent = pool.get('security.consent')
        party = create_party()
        self.consent(party)
        user = create_user('clerk')
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Consent.search([])

    # -- data-subject requests -------------------------------------------

    def request(self, party, kind, **values):
        Request = Pool().get('security.subject.request')
        request, = Request.create([dict(
                    party=party.id, kind=kind, description='请求',
                    **values)])
        return request

    @with_transaction()
    def test_request_due_in_30_days(self):
        "A request is due 30 days after it was received"
        pool = Pool()
        Date = pool.get('ir.date')
        party = create_party()
        request = self.request(party, 'access')
        self.assertEqual(request.state, 'received')
        self.assertEqual(
            request.due_date, Date.today() + datetime.timedelta(days=30))

    @with_transaction()
    def test_request_overdue_list(self):
        "Open requests past their due date are listed as overdue"
        pool = Pool()
        Request = pool.get('security.subject.request')
        Date = pool.get('ir.date')
        party = create_party()
        old = self.request(party, 'access',
            received_date=Date.today() - datetime.timedelta(days=31))
        recent = self.request(party, 'correction',
            received_date=Date.today() - datetime.timedelta(days=29))
        closed = self.request(party, 'correction',
            received_date=Date.today() - datetime.timedelta(days=40),
            response='不符合条件')
        Request.refuse([closed])
        self.assertEqual(Request.overdue_requests(), [old])
        self.assertTrue(old.overdue)
        self.assertFalse(recent.overdue)
        self.assertFalse(closed.overdue)
        self.assertEqual(
            set(Request.search([('overdue', '=', False)])), {recent, closed})

    @with_transaction()
    def test_request_states(self):
        "received → in progress → done; refusing needs a response"
        pool = Pool()
        Request = pool.get('security.subject.request')
        party = create_party()
        request = self.request(party, 'correction')
        Request.start([request])
        self.assertEqual(request.state, 'in_progress')
        with self.assertRaises(AccessError):
            Request.refuse([request])
        Request.process([request])
        self.assertEqual(request.state, 'done')
        self.assertTrue(request.done_at)
        with self.assertRaises(AccessError):
            Request.delete([request])

    @with_transaction()
    def test_request_access_copy(self):
        "An access request produces a JSON copy of the person's data"
        pool = Pool()
        Request = pool.get('security.subject.request')
        party = create_party()
        self.consent(party, 'biometrics')
        request = self.request(party, 'access')
        Request.start([request])
        Request.process([request])
        data = json.loads(request.data)
        self.assertEqual(data['party']['name'], '王淑芬')
        self.assertEqual(
            [c['value'] for c in data['contact_mechanisms']],
            ['+86 138 0013 8000'])
        self.assertEqual(
            [c['purpose'] for c in data['consents']], ['biometrics'])
        self.assertTrue(request.data_filename.endswith('.json'))

    @with_transaction()
    def test_request_deletion_anonymises(self):
        "A deletion request anonymises the party, keeping the record"
        pool = Pool()
        Request = pool.get('security.subject.request')
        Party = pool.get('party.party')
        party = create_party()
        request = self.request(party, 'deletion')
        Request.start([request])
        Request.process([request])
        party = Party(party.id)
        self.assertEqual(party.name, ANONYMISED)
        self.assertEqual(party.contact_mechanisms, ())
        self.assertFalse(party.addresses[0].street)

    @with_transaction()
    def test_request_withdrawal(self):
        "A withdrawal request withdraws the consents of its purpose"
        pool = Pool()
        Request = pool.get('security.subject.request')
        Consent = pool.get('security.consent')
        party = create_party()
        bio = self.consent(party, 'biometrics')
        family = self.consent(party, 'family_sharing')
        request = self.request(party, 'withdrawal', purpose='biometrics')
        Request.start([request])
        Request.process([request])
        self.assertFalse(Consent(bio.id).valid)
        self.assertTrue(Consent(family.id).valid)
        request = self.request(party, 'withdrawal')
        Request.start([request])
        Request.process([request])
        self.assertFalse(Consent(family.id).valid)


del ModuleTestCase
