# This file is part of the eldercare platform. See LICENSE.
"The public verification route of the report's QR code (WSGI, real DB)."
import datetime as dt
import json

from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.tests.test_tryton import (
    DB_NAME, Client, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .tools import an_elder, answers_for, assessment_agency, create_assessor


class AssessRoutesTestCase(TestCase):
    "Test the verification route of elder_assess"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['elder_assess'])
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            Assessment = pool.get('elder.assessment')
            agency = assessment_agency()
            a1 = create_assessor('王评估', 1, agency)
            a2 = create_assessor('李评估', 2, agency, certified=False)
            assessment, = Assessment.create([{
                        'elder': an_elder().id, 'reason': 'first',
                        'channel': 'family',
                        'scheduled_date': dt.date.today(),
                        'assessor1': a1.id, 'assessor2': a2.id,
                        **answers_for(50)}])
            Assessment.schedule([assessment])
            Assessment.complete([assessment])
            Assessment.review([assessment])
            Assessment.publish([assessment])
            cls.token = assessment.verify_token
            cls.number = assessment.number
            transaction.commit()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def test_verify(self):
        "Known token: minimal facts; unknown or malformed: 404"
        c = Client(app, Response)
        url = f'/{DB_NAME}/assess/verify/{self.token}'
        response = c.get(url, headers={'Accept': 'application/json'})
        self.assertEqual(response.status_code, HTTPStatus.OK)
        info = json.loads(response.data)
        self.assertEqual(info['number'], self.number)
        self.assertEqual(info['elder'], '巴*尔')
        self.assertEqual(info['level'], '2')
        self.assertEqual(info['state'], 'published')
        self.assertTrue(info['valid'])
        # nothing sensitive beyond the level
        self.assertEqual(set(info), {
                'number', 'elder', 'level', 'level_name', 'state',
                'state_name', 'assessment_date', 'effective_on',
                'effective_date', 'valid'})
        page = c.get(url)
        self.assertEqual(page.status_code, HTTPStatus.OK)
        text = page.data.decode('utf-8')
        self.assertIn('本报告真实有效', text)
        self.assertIn('能力中度受损', text)
        self.assertNotIn('巴特尔', text)
        for bad in ['x' * 20, 'short', "a'%20or%201=1--xxxxxx"]:
            with self.subTest(token=bad):
                response = c.get(f'/{DB_NAME}/assess/verify/{bad}')
                self.assertEqual(
                    response.status_code, HTTPStatus.NOT_FOUND)
