# This file is part of the eldercare platform. See LICENSE.
"""The worker app's check-in with face verification, and the face routes,
through the WSGI application."""
import base64
import json

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.tests.test_tryton import (
    DB_NAME, Client, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .tools import consent, enrolled_elder, face

PASSWORD = 'Worker@2026!visit'  # noqa: S105 (test user's password)


def b64(data):
    return base64.b64encode(data).decode()


class FaceRoutesTestCase(TestCase):
    "Test the face verification of the worker check-in and the face routes"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['elder_face', 'elder_service'])
        from trytond.modules.elder_service.tests.tools import (
            HOME, XINCHENG, active_provider, create_order,
            create_practitioner, create_user)
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            Order = pool.get('service.order')
            User = pool.get('res.user')
            Gallery = pool.get('face.gallery')
            Enrolment = pool.get('face.enrolment')
            elder, enrol = enrolled_elder('巴特尔', 12, 'amy')
            elder.latitude, elder.longitude = HOME
            elder.save()
            other, other_enrol = enrolled_elder('乌兰', 13, 'raj')
            provider = active_provider('青城中心', XINCHENG, [XINCHENG])
            carer_user = create_user(
                'carer', 'elder_base.group_caregiver',
                elder_provider=provider.id)
            terminal = create_user('canteen', 'elder_face.group_face_terminal')
            nobody = create_user('nobody', 'elder_base.group_finance')
            User.write([carer_user, terminal, nobody], {'password': PASSWORD})
            carer = create_practitioner('王护理', 1, provider,
                user=carer_user.id)
            consent(carer.party)
            carer_enrol, = Enrolment.create([{
                        'subject': 'practitioner',
                        'practitioner': carer.id}])
            Enrolment.register_images(
                carer_enrol, [face('penny', 1), face('penny', 2)])
            orders = []
            for _ in range(2):
                order = create_order(elder)
                Order.submit([order])
                Order.dispatch([order])
                Order.accept([order])
                order.practitioner = carer
                order.save()
                Order.assign([order])
                orders.append(order.id)
            cls.orders = orders
            cls.elder_id, cls.other_id = elder.id, other.id
            Gallery.create([{
                        'name': '新城区助餐点', 'code': 'XC01',
                        'members': [('add', [enrol.id, other_enrol.id])],
                        'terminals': [('add', [terminal.id])],
                        }])
            cls.home = HOME
            transaction.commit()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def headers(self, login='carer'):
        token = base64.b64encode(f'{login}:{PASSWORD}'.encode()).decode()
        return {'Authorization': 'Basic ' + token}

    def post(self, path, data, login='carer'):
        c = Client(app, Response)
        return c.post(f'/{DB_NAME}/{path}', data=json.dumps(data),
            headers=self.headers(login), content_type='application/json')

    def checkin(self, order, photo):
        return self.post(f'service/worker/{order}/checkin', {
                'latitude': float(self.home[0]),
                'longitude': float(self.home[1]),
                'accuracy': 10,
                'photo': b64(photo)})

    def attempts(self):
        with Transaction().start(DB_NAME, 0):
            Attempt = Pool(DB_NAME).get('face.attempt')
            return [(a.source, a.reference, a.decision, a.reason,
                    a.liveness_verdict, a.liveness_provider)
                for a in Attempt.search([], order=[('id', 'ASC')])]

    def test_checkin_verifies_elder(self):
        """Check-in through the worker app: the older person's face passes,
        another person's face flags the order with a 'face' anomaly"""
        response = self.checkin(self.orders[0], face('amy', 4))
        self.assertEqual(response.status_code, HTTPStatus.OK,
            response.data)
        body = json.loads(response.data)
        self.assertNotIn('face', body['anomalies'])
        self.assertEqual(body['order']['state'], 'in_service')

        response = self.checkin(self.orders[1], face('raj', 3))
        self.assertEqual(response.status_code, HTTPStatus.OK)
        body = json.loads(response.data)
        self.assertIn('face', body['anomalies'])
        self.assertTrue(body['order']['flagged'])

        log = [a for a in self.attempts() if a[0] == 'checkin']
        self.assertEqual(log[0][1:], (
                'service.order,%s' % self.orders[0], 'accepted', None,
                'live', 'human'))
        self.assertEqual(log[1][1:4], (
                'service.order,%s' % self.orders[1], 'rejected',
                'no_match'))

    def test_verify_self(self):
        "The caregiver verifies their own face; another face is rejected"
        response = self.post('face/verify', {
                'subject': 'self', 'image': b64(face('penny', 4))})
        self.assertEqual(response.status_code, HTTPStatus.OK, response.data)
        self.assertEqual(json.loads(response.data)['decision'], 'accepted')
        response = self.post('face/verify', {
                'subject': 'self', 'image': b64(face('howard', 4))})
        body = json.loads(response.data)
        self.assertEqual(body['decision'], 'rejected')
        self.assertEqual(body['reason'], 'no_match')
        self.assertTrue(body['message'])
        self.assertNotIn('embedding', response.data.decode())

    def test_verify_refusals(self):
        "Bad input, users without the group and foreign elders are refused"
        response = self.post('face/verify', {'subject': 'self',
                'image': 'not base64!'})
        self.assertEqual(response.status_code, HTTPStatus.BAD_REQUEST)
        response = self.post('face/verify', {'subject': 'self',
                'image': b64(face('penny', 4))}, login='nobody')
        self.assertEqual(response.status_code, HTTPStatus.FORBIDDEN)
        # 乌兰 has no order with this caregiver: not reachable
        response = self.post('face/verify', {'subject': 'elder',
                'id': self.other_id, 'image': b64(face('raj', 3))})
        self.assertIn(response.status_code,
            {HTTPStatus.NOT_FOUND, HTTPStatus.FORBIDDEN})
        # the caregiver is no canteen terminal
        response = self.post('face/identify', {'gallery': 'XC01',
                'image': b64(face('raj', 3))})
        self.assertEqual(response.status_code, HTTPStatus.FORBIDDEN)

    def test_identify_canteen(self):
        "A canteen terminal identifies its members, not strangers"
        response = self.post('face/identify', {'gallery': 'XC01',
                'image': b64(face('raj', 3))}, login='canteen')
        self.assertEqual(response.status_code, HTTPStatus.OK, response.data)
        body = json.loads(response.data)
        self.assertEqual(body['decision'], 'accepted')
        self.assertEqual(body['person']['id'], self.other_id)
        self.assertEqual(body['person']['name'], '乌兰')
        response = self.post('face/identify', {'gallery': 'XC01',
                'image': b64(face('howard', 4))}, login='canteen')
        body = json.loads(response.data)
        self.assertEqual(body['decision'], 'rejected')
        self.assertIsNone(body['person'])
        response = self.post('face/identify', {'gallery': 'NOPE',
                'image': b64(face('raj', 3))}, login='canteen')
        self.assertEqual(response.status_code, HTTPStatus.NOT_FOUND)
