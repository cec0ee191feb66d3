# This file is part of the eldercare platform. See LICENSE.
"The worker app's JSON routes, through the WSGI application."
import base64
import datetime as dt
import json

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.tests.test_tryton import (
    DB_NAME, Client, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .tools import (
    HOME, XINCHENG, active_provider, create_order, create_practitioner,
    create_user, home_elder)

PASSWORD = 'Worker@2026!visit'  # noqa: S105 (test user's password)


class ServiceRoutesTestCase(TestCase):
    "Test the worker routes of elder_service"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['elder_service'])
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            Order = pool.get('service.order')
            User = pool.get('res.user')
            elder = home_elder()
            provider = active_provider('青城中心', XINCHENG, [XINCHENG])
            carer_user = create_user(
                'carer', 'elder_base.group_caregiver',
                elder_provider=provider.id)
            other_user = create_user(
                'carer2', 'elder_base.group_caregiver',
                elder_provider=provider.id)
            User.write([carer_user, other_user], {'password': PASSWORD})
            carer = create_practitioner('王护理', 1, provider,
                user=carer_user.id)
            create_practitioner('李护理', 2, provider, user=other_user.id)
            order = create_order(elder)
            Order.submit([order])
            Order.dispatch([order])
            Order.accept([order])
            order.practitioner = carer
            order.save()
            Order.assign([order])
            cls.order_id = order.id
            transaction.commit()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def headers(self, login='carer', password=PASSWORD):
        token = base64.b64encode(f'{login}:{password}'.encode()).decode()
        return {'Authorization': 'Basic ' + token}

    def url(self, path):
        return f'/{DB_NAME}/service/worker/{path}'

    def test_worker_path(self):
        "Tasks, refused foreign check-in, check-in, bad check-out, check-out"
        c = Client(app, Response)

        response = c.get(self.url('tasks'))
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)

        response = c.get(self.url('tasks'), headers=self.headers())
        self.assertEqual(response.status_code, HTTPStatus.OK)
        tasks = json.loads(response.data)['tasks']
        self.assertEqual([t['id'] for t in tasks], [self.order_id])
        self.assertEqual(tasks[0]['elder'], '巴特尔')
        self.assertEqual(len(tasks[0]['steps']), 3)

        response = c.get(self.url('tasks'), headers=self.headers('carer2'))
        self.assertEqual(json.loads(response.data)['tasks'], [])

        body = {'latitude': str(HOME[0]), 'longitude': str(HOME[1]),
            'accuracy': 12,
            'photo': base64.b64encode(b'jpeg').decode()}
        # Another caregiver cannot check in this order
        response = c.post(self.url(f'{self.order_id}/checkin'),
            data=json.dumps(body), headers=self.headers('carer2'))
        self.assertIn(response.status_code,
            {HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})

        # Malformed input
        response = c.post(self.url(f'{self.order_id}/checkin'),
            data='{"latitude": 1}', headers=self.headers())
        self.assertEqual(response.status_code, HTTPStatus.BAD_REQUEST)

        response = c.post(self.url(f'{self.order_id}/depart'),
            headers=self.headers())
        self.assertEqual(response.status_code, HTTPStatus.OK)
        self.assertEqual(
            json.loads(response.data)['order']['state'], 'on_the_way')

        start = (dt.datetime.now() - dt.timedelta(hours=2)).replace(
            microsecond=0)
        body['timestamp'] = start.isoformat()
        response = c.post(self.url(f'{self.order_id}/checkin'),
            data=json.dumps(body), headers=self.headers())
        self.assertEqual(response.status_code, HTTPStatus.OK)
        result = json.loads(response.data)
        self.assertEqual(result['anomalies'], [])
        self.assertEqual(result['order']['state'], 'in_service')

        body['timestamp'] = (start - dt.timedelta(minutes=5)).isoformat()
        response = c.post(self.url(f'{self.order_id}/checkout'),
            data=json.dumps(body), headers=self.headers())
        self.assertEqual(response.status_code, HTTPStatus.CONFLICT)
        self.assertIn(
            'before its check-in', json.loads(response.data)['error'])

        body['timestamp'] = (start + dt.timedelta(minutes=40)).isoformat()
        body['signature'] = base64.b64encode(b'png').decode()
        response = c.post(self.url(f'{self.order_id}/checkout'),
            data=json.dumps(body), headers=self.headers())
        self.assertEqual(response.status_code, HTTPStatus.OK)
        result = json.loads(response.data)
        self.assertEqual(result['order']['state'], 'completed')
        self.assertEqual(result['anomalies'], [])
