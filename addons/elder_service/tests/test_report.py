# This file is part of the eldercare platform. See LICENSE.
"Provider self-service: Excel export and work sheet of orders; face hook."
import zipfile
from io import BytesIO
from unittest.mock import patch

from openpyxl import load_workbook

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from . import test_access
from .test_access import as_user
from .tools import (
    HOME, XINCHENG, active_provider, create_order, create_practitioner,
    home_elder)


def odt_content(data):
    "Return content.xml of an ODT (or the flat ODT itself) as text"
    data = bytes(data)
    if data.startswith(b'PK'):
        with zipfile.ZipFile(BytesIO(data)) as odt:
            return odt.read('content.xml').decode('utf-8')
    return data.decode('utf-8')


class ElderServiceReportTestCase(ModuleTestCase):
    "Test elder_service reports"
    module = 'elder_service'

    _two_providers = test_access.ElderServiceAccessTestCase._two_providers

    def _export(self, ids):
        ExcelExport = Pool().get('elder.export.xlsx', type='report')
        return ExcelExport.execute(ids, {'model': 'service.order'})

    def _sheet(self, ids):
        OrderSheet = Pool().get('service.order.sheet', type='report')
        return OrderSheet.execute(ids, {'model': 'service.order'})

    @with_transaction()
    def test_export_own_orders(self):
        "A provider administrator exports their orders to Excel"
        pool = Pool()
        Order = pool.get('service.order')
        w = self._two_providers()
        order_a, order_b, order_c = w['orders']
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            ids = [o.id for o in Order.search([])]
            ext, content, _, name = self._export(ids)
        self.assertEqual(ext, 'xlsx')
        sheet = load_workbook(BytesIO(content)).active
        rows = list(sheet.values)
        self.assertEqual(len(rows), 3)
        numbers = {r[0] for r in rows[1:]}
        self.assertEqual(numbers, {order_a.number, order_c.number})
        self.assertIn('甲服务中心', {c for r in rows[1:] for c in r})

    @with_transaction()
    def test_export_other_provider_order(self):
        "Exporting another provider's order fails"
        w = self._two_providers()
        order_a, order_b, order_c = w['orders']
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            with self.assertRaises(AccessError):
                self._export([order_a.id, order_b.id])

    @with_transaction()
    def test_export_caregiver_refused(self):
        "The export is not among a caregiver's actions"
        w = self._two_providers()
        order_a = w['orders'][0]
        user, ctx = as_user(w['carer_user'])
        with user, ctx:
            with self.assertRaises(AccessError):
                self._export([order_a.id])

    @with_transaction()
    def test_work_sheet(self):
        "A provider administrator prints the work sheet of their order"
        pool = Pool()
        Order = pool.get('service.order')
        Elder = pool.get('elder.elder')
        w = self._two_providers()
        order_a = w['orders'][0]
        elder_a = w['elders'][0]
        Elder.write([elder_a], {'phone': '13912345678'})
        Order.depart([order_a])
        with patch.object(
                type(order_a), '_verify_face', classmethod(
                    lambda cls, order, photo: '相似度过低')):
            Order.checkin(order_a, HOME[0], HOME[1], 10)
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            ext, content, _, name = self._sheet([order_a.id])
        self.assertEqual(ext, 'odt')
        text = odt_content(content)
        self.assertIn(order_a.number, text)
        self.assertIn(elder_a.name, text)
        self.assertIn('甲服务中心', text)
        self.assertIn('王护理', text)
        self.assertIn('相似度过低', text)
        # neither the ID number nor the full phone is printed
        self.assertNotIn(elder_a.id_number, text)
        self.assertNotIn(elder_a.id_number[6:14], text)
        self.assertNotIn('13912345678', text)
        self.assertIn('139****5678', text)

    @with_transaction()
    def test_work_sheet_other_provider(self):
        "The work sheet of another provider's order is refused"
        w = self._two_providers()
        order_a, order_b, order_c = w['orders']
        user, ctx = as_user(w['admin_a'])
        with user, ctx:
            with self.assertRaises(AccessError):
                self._sheet([order_b.id])
            with self.assertRaises(AccessError):
                self._sheet([order_a.id, order_b.id])

    def _checkin_with_face(self, reason):
        pool = Pool()
        Order = pool.get('service.order')
        elder = home_elder('巴特尔', 12, XINCHENG)
        provider = active_provider('青城中心', XINCHENG, [XINCHENG])
        carer = create_practitioner('王护理', 1, provider)
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        Order.accept([order])
        order.practitioner = carer
        order.save()
        calls = []

        def verify(cls, order, photo):
            calls.append((order.id, photo))
            return reason
        with patch.object(Order, '_verify_face', classmethod(verify)):
            kinds = Order.checkin(
                order, HOME[0], HOME[1], 10, photo=b'jpeg')
        self.assertEqual(calls, [(order.id, b'jpeg')])
        return Order(order.id), kinds

    @with_transaction()
    def test_face_hook_failure_flags(self):
        "A failure reason of the face hook flags the check-in"
        order, kinds = self._checkin_with_face('not the assigned caregiver')
        self.assertEqual(kinds, ['face'])
        self.assertEqual(order.state, 'in_service')
        self.assertTrue(order.flagged)
        anomaly, = order.anomalies
        self.assertEqual(anomaly.kind, 'face')
        self.assertIn('not the assigned caregiver', anomaly.detail)

    @with_transaction()
    def test_face_hook_pass(self):
        "A face hook returning None does not flag the check-in"
        order, kinds = self._checkin_with_face(None)
        self.assertEqual(kinds, [])
        self.assertEqual(order.state, 'in_service')
        self.assertFalse(order.flagged)
        self.assertEqual(order.anomalies, ())

    @with_transaction()
    def test_face_hook_default(self):
        "elder_service itself does no face check"
        Order = Pool().get('service.order')
        self.assertIsNone(Order._verify_face(None, b'jpeg'))


del ModuleTestCase
