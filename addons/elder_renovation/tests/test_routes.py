# This file is part of the eldercare platform. See LICENSE.
"The public verification route of the renovation documents's QR code (WSGI, real DB)."
import json

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.tests.test_tryton import (
    DB_NAME, Client, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction
from trytond.wsgi import app

from trytond.modules.elder_bed.tests.tools import home_elder


class RenovationRoutesTestCase(TestCase):
    "Test the verification route of elder_renovation"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(["elder_renovation", "elder_settlement"])
        with Transaction().start(DB_NAME, 0) as transaction:
            Project = Pool().get('renovation.project')
            project, = Project.create([{'elder': home_elder().id}])
            Project.write([project], {'state': 'designed',
                    'verify_token': 'tok-' + 'a' * 20})
            cls.number = project.number
            transaction.commit()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def test_verify(self):
        "Known token: number, masked name, state; unknown or malformed: 404"
        c = Client(app, Response)
        url = f'/{DB_NAME}/renovation/verify/tok-' + 'a' * 20
        response = c.get(url, headers={'Accept': 'application/json'})
        self.assertEqual(response.status_code, HTTPStatus.OK)
        info = json.loads(response.data)
        self.assertEqual(info['number'], self.number)
        self.assertEqual(info['elder'], '巴*尔')
        self.assertEqual(info['state'], 'designed')
        self.assertFalse(info['accepted'])
        self.assertTrue(info['valid'])
        page = c.get(url).data.decode('utf-8')
        self.assertIn('改造方案真实有效，尚未验收', page)
        self.assertNotIn('巴特尔', page)
        for bad in ['x' * 20, 'short', "a'%20or%201=1--xxxxxx"]:
            with self.subTest(token=bad):
                self.assertEqual(c.get(f'/{DB_NAME}/renovation/verify/{bad}')
                    .status_code, HTTPStatus.NOT_FOUND)
