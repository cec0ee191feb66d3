# This file is part of the eldercare platform. See LICENSE.
"""Maintenance (standard §7.3): repair tickets, the 48-hour on-site
deadline and its escalation, free repair within the service period, return
visits, access."""
import datetime as dt
import json
import unittest

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.exceptions import UserError
from trytond.modules.elder_base.tests.test_access import (
    create_practitioner, create_user)
from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, create_provider, region)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

from .test_module import create_device, event

XINCHENG, HUIMIN = '150102', '150103'
H = dt.timedelta(hours=1)


def utcnow():
    return dt.datetime.utcnow().replace(microsecond=0)


class ElderDeviceMaintenanceTestCase(unittest.TestCase):
    "Test the maintenance of devices"

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module(['elder_device'])

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def setup_data(self):
        self.prov_a = create_provider('甲维修公司', XINCHENG)
        self.prov_b = create_provider('乙维修公司', HUIMIN)
        self.xc = create_elder(
            '新城老人', citizen_id(XINCHENG, '19450101', 81), XINCHENG)
        self.hm = create_elder(
            '回民老人', citizen_id(HUIMIN, '19460101', 82), HUIMIN)
        self.tech_a = create_practitioner(
            '张师傅', citizen_id(XINCHENG, '19800101', 83), self.prov_a,
            kind='technician')
        self.carer_a = create_practitioner(
            '李护理', citizen_id(XINCHENG, '19810101', 84), self.prov_a,
            kind='caregiver')
        self.tech_b = create_practitioner(
            '王师傅', citizen_id(HUIMIN, '19820101', 85), self.prov_b,
            kind='technician')

    def notifications(self, user):
        Notification = Pool().get('res.notification')
        return Notification.search([('user', '=', user.id)])

    @with_transaction()
    def test_sla_deadline(self):
        "Reported + 48 h (configurable); one open ticket per device"
        pool = Pool()
        Repair = pool.get('device.repair')
        Configuration = pool.get('device.configuration')
        self.setup_data()
        device = create_device('R-SLA-1', elder=self.xc, provider=self.prov_a)
        frozen = dt.datetime(2025, 3, 1, 8, 0)
        with Transaction().set_context(maintenance_now=frozen):
            repair, = Repair.report([device], 'hotline', '屏幕不亮')
        self.assertEqual(repair.reported_at, frozen)
        self.assertEqual(repair.deadline, frozen + 48 * H)
        self.assertEqual(
            (repair.source, repair.elder, repair.region, repair.provider),
            ('hotline', self.xc, self.xc.region, self.prov_a))
        self.assertEqual(repair.state, 'reported')
        # reporting again (the family calls too) gives the open ticket
        again, = Repair.report([device], 'family', 'still broken')
        self.assertEqual(again, repair)

        Configuration.write([Configuration(1)], {'repair_sla_hours': 24})
        other = create_device('R-SLA-2', elder=self.xc, provider=self.prov_a)
        with Transaction().set_context(maintenance_now=frozen):
            repair2, = Repair.report([other], 'operator')
        self.assertEqual(repair2.deadline, frozen + 24 * H)

    @with_transaction()
    def test_fault_button_and_alarm(self):
        "Report Fault on the device and a device's fault alarm open tickets"
        pool = Pool()
        Device = pool.get('device.device')
        Repair = pool.get('device.repair')
        Alarm = pool.get('device.alarm')
        self.setup_data()
        admin_a = create_user('prov_admin_a',
            'elder_base.group_provider_admin', elder_provider=self.prov_a.id)
        device = create_device('R-BTN-1', elder=self.xc, provider=self.prov_a)
        agent = create_user('agent_x', 'elder_base.group_agent',
            elder_region=region(XINCHENG).id)
        with Transaction().set_user(agent.id), \
                Transaction().set_context(_check_access=True):
            Device.report_fault([Device(device.id)])
        repair, = Repair.search([('device', '=', device.id)])
        self.assertEqual((repair.source, repair.reported_by),
            ('device', agent))
        self.assertEqual(self.notifications(admin_a)[0].records,
            json.dumps([repair.id]))

        sensor = create_device('R-ALM-1', elder=self.xc, provider=self.prov_a)
        Device.ingest([event('R-ALM-1', 'm1', error_code='E07')])
        alarm, = Alarm.search([('device', '=', sensor.id)])
        self.assertEqual(alarm.kind, 'fault')
        repair, = Repair.search([('device', '=', sensor.id)])
        self.assertEqual((repair.source, repair.alarm), ('alarm', alarm))
        self.assertIn('E07', repair.description)
        # no fault: no ticket
        Device.ingest([event('R-ALM-1', 'm2', error_code=0, battery=90)])
        self.assertEqual(len(Repair.search([('device', '=', sensor.id)])), 1)

    @with_transaction()
    def test_free_replacement_within_warranty(self):
        "Technician of the maintainer; on site; free replacement; return visit"
        pool = Pool()
        Device = pool.get('device.device')
        Repair = pool.get('device.repair')
        ReturnVisit = pool.get('device.return_visit')
        Date = pool.get('ir.date')
        self.setup_data()
        today = Date.today()
        device = create_device('R-W-1', elder=self.xc, provider=self.prov_a)
        Device.write([device], {'warranty_end': today + dt.timedelta(days=30),
                'place': '卧室'})
        spare = create_device('R-W-2', provider=self.prov_a, state='in_stock')
        Device.report_fault([device])
        repair, = Repair.search([('device', '=', device.id)])

        for wrong in [self.carer_a, self.tech_b]:
            with self.assertRaises(UserError):
                Repair.write([repair], {'technician': wrong.id})
        with self.assertRaises(UserError):
            Repair.assign([repair])  # no technician yet
        repair.technician = self.tech_a
        repair.save()
        Repair.assign([repair])
        self.assertEqual(repair.state, 'assigned')
        Repair.arrive([repair])
        self.assertEqual(repair.state, 'on_site')
        self.assertTrue(repair.arrived_at)
        self.assertIs(repair.sla_met, True)
        self.assertEqual(Device(device.id).state, 'under_repair')

        with self.assertRaises(UserError):
            Repair.resolve([repair])  # no resolution
        repair.resolution = 'replaced'
        repair.save()
        with self.assertRaises(UserError):
            Repair.resolve([repair])  # no replacement
        repair.replacement = spare
        repair.cost = 120
        repair.save()
        Repair.resolve([repair])
        self.assertEqual(repair.state, 'resolved')
        self.assertTrue(repair.free)
        self.assertIsNone(repair.cost)
        device, spare = Device(device.id), Device(spare.id)
        self.assertEqual(device.state, 'retired')
        self.assertEqual(
            (spare.state, spare.elder, spare.place, spare.warranty_end),
            ('active', self.xc, '卧室', device.warranty_end))
        visit, = ReturnVisit.search([('repair', '=', repair.id)])
        self.assertEqual((visit.device, visit.date, visit.elder),
            (spare, today + dt.timedelta(days=7), self.xc))
        with self.assertRaises(UserError):
            ReturnVisit.do([visit])  # no outcome
        visit.outcome = 'working'
        visit.notes = '老人表示手环正常'
        visit.save()
        ReturnVisit.do([visit])
        self.assertEqual(visit.state, 'done')
        self.assertTrue(visit.visited_at)
        Repair.close([repair])
        self.assertEqual(repair.state, 'closed')

    @with_transaction()
    def test_paid_after_warranty(self):
        "After the service period the repair is not free; repaired → active"
        pool = Pool()
        Device = pool.get('device.device')
        Repair = pool.get('device.repair')
        Date = pool.get('ir.date')
        self.setup_data()
        device = create_device('R-P-1', elder=self.xc, provider=self.prov_a)
        Device.write([device], {
                'warranty_end': Date.today() - dt.timedelta(days=1)})
        repair, = Repair.report([device], 'family', '不充电')
        repair.technician = self.tech_a
        repair.save()
        Repair.arrive([repair])  # straight on site: assigned then too
        self.assertTrue(repair.assigned_at)
        repair.resolution = 'repaired'
        repair.cost = 80
        repair.save()
        Repair.resolve([repair])
        self.assertFalse(repair.free)
        self.assertEqual(repair.cost, 80)
        self.assertEqual(Device(device.id).state, 'active')

    @with_transaction()
    def test_escalation_cron(self):
        "Near and lapsed deadlines are flagged and notified once each"
        pool = Pool()
        Repair = pool.get('device.repair')
        self.setup_data()
        admin_a = create_user('prov_admin_a',
            'elder_base.group_provider_admin', elder_provider=self.prov_a.id)
        sup_xc = create_user('sup_xc', 'elder_base.group_supervisor',
            elder_region=region(XINCHENG).id)
        sup_city = create_user('sup_city', 'elder_base.group_supervisor',
            elder_region=region('150100').id)
        sup_hm = create_user('sup_hm', 'elder_base.group_supervisor',
            elder_region=region(HUIMIN).id)
        now = utcnow()
        devices = [create_device('R-E-%s' % i, elder=self.xc,
                provider=self.prov_a) for i in range(4)]
        ages = [47, 50, 10, 50]  # hours since reported
        repairs = []
        for device, age in zip(devices, ages):
            with Transaction().set_context(maintenance_now=now - age * H):
                repairs += Repair.report([device], 'hotline')
        near, lapsed, fresh, arrived = repairs
        arrived.technician = self.tech_a
        arrived.save()
        Repair.arrive([arrived])  # on site: the clock has stopped
        old = [n for u in [admin_a, sup_xc, sup_city, sup_hm]
            for n in self.notifications(u)]
        if old:
            Pool().get('res.notification').delete(old)

        Repair.escalate()
        self.assertEqual(
            [(r.escalation, bool(r.escalated_at)) for r in repairs],
            [('warning', True), ('lapsed', True), (None, False),
                (None, False)])
        for user in [admin_a, sup_xc, sup_city]:
            self.assertEqual(len(self.notifications(user)), 2, user.login)
        self.assertEqual(self.notifications(sup_hm), [])
        self.assertIs(Repair(lapsed.id).sla_met, False)

        Repair.escalate()  # once per level
        self.assertEqual(len(self.notifications(sup_xc)), 2)
        with Transaction().set_context(maintenance_now=now + 2 * H):
            Repair.escalate()  # the near one lapses
        self.assertEqual(near.escalation, 'lapsed')
        self.assertEqual(len(self.notifications(sup_xc)), 3)

    @with_transaction()
    def test_access(self):
        "Providers see their own tickets, regions theirs; who may press what"
        pool = Pool()
        Repair = pool.get('device.repair')
        ReturnVisit = pool.get('device.return_visit')
        Configuration = pool.get('device.configuration')
        self.setup_data()
        r_xc, = Repair.report([create_device(
                    'R-A-1', elder=self.xc, provider=self.prov_a)], 'hotline')
        r_hm, = Repair.report([create_device(
                    'R-A-2', elder=self.hm, provider=self.prov_b)], 'hotline')
        admin_a = create_user('prov_admin_a',
            'elder_base.group_provider_admin', elder_provider=self.prov_a.id)
        sup_hm = create_user('sup_hm', 'elder_base.group_supervisor',
            elder_region=region(HUIMIN).id)
        agent = create_user('agent_x', 'elder_base.group_agent',
            elder_region=region(XINCHENG).id)
        caregiver = create_user('care', 'elder_base.group_caregiver',
            elder_provider=self.prov_a.id)
        operator = create_user('op_x', 'elder_base.group_operator',
            elder_region=region(XINCHENG).id)

        def as_user(user):
            transaction = Transaction()
            return transaction.set_user(user.id), transaction.set_context(
                _check_access=True)

        u, c = as_user(admin_a)
        with u, c:
            self.assertEqual(Repair.search([]), [r_xc])
            with self.assertRaises(AccessError):
                Repair.read([r_hm.id], ['state'])
            Repair.write([Repair(r_xc.id)], {'technician': self.tech_a.id})
            Repair.assign([Repair(r_xc.id)])
            with self.assertRaises(AccessButtonError):
                Repair.close([Repair(r_xc.id)])
            with self.assertRaises(AccessError):
                Repair.create([{'device': r_xc.device.id}])
        u, c = as_user(sup_hm)
        with u, c:
            self.assertEqual(Repair.search([]), [r_hm])
            with self.assertRaises(AccessError):
                Repair.write([Repair(r_hm.id)], {'notes': 'x'})
        u, c = as_user(agent)
        with u, c:
            self.assertEqual(Repair.search([]), [r_xc])
            with self.assertRaises(AccessButtonError):
                Repair.arrive([Repair(r_xc.id)])
            self.assertEqual(ReturnVisit.search([]), [])
        u, c = as_user(operator)
        with u, c:
            self.assertEqual(Repair.search([]), [r_xc])
            config, = Configuration.read([1], ['onenet_token'])
            with self.assertRaises(AccessError):
                Configuration.write([Configuration(1)], {'onenet_token': 'x'})
        u, c = as_user(caregiver)
        with u, c:
            with self.assertRaises(AccessError):
                Repair.search([])
            with self.assertRaises(AccessError):
                ReturnVisit.search([])
            with self.assertRaises(AccessError):
                Configuration.read([1], ['repair_sla_hours'])
