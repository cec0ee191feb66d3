# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import os

import trytond.ir
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.elder_base.tests.test_access import create_user
from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, create_provider, region)
from trytond.modules import elder_base
from trytond.modules.elder_device import rules
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

XINCHENG, HUIMIN = '150102', '150103'
NOW = dt.datetime.utcnow().replace(microsecond=0)


def device_type(code):
    DeviceType = Pool().get('device.type')
    record, = DeviceType.search([('code', '=', code)])
    return record


def create_device(identifier, type_code='WATCH', elder=None, provider=None,
        state='active', protocol='mqtt'):
    Device = Pool().get('device.device')
    device, = Device.create([{
                'type': device_type(type_code).id,
                'protocol': protocol,
                'identifier': identifier,
                'elder': elder.id if elder else None,
                'provider': provider.id if provider else None,
                }])
    if state in {'installed', 'active'}:
        Device.install([device])
    if state == 'active':
        Device.activate([device])
    return device


def event(key, message_id, kind='state', time=None, protocol='mqtt', **values):
    return {
        'protocol': protocol, 'device_key': key, 'message_id': message_id,
        'kind': kind, 'time': time or NOW, 'values': values,
        'raw': '{}'}


class ElderDeviceTestCase(ModuleTestCase):
    "Test elder_device module"
    module = 'elder_device'

    def _elder(self, serial=1, region_code=XINCHENG, **values):
        return create_elder(
            '老人%s' % serial,
            citizen_id(region_code, '19450101', serial), region_code,
            **values)

    def test_rules_registry(self):
        "Rules turn values into signals; a module may add a rule"
        signals = rules.evaluate({'kind': 'alarm', 'values': {'sos': True}})
        self.assertEqual([s.kind for s in signals], ['sos'])
        signals = rules.evaluate(
            {'kind': 'vitals', 'values': {'heart_rate': 130, 'spo2': 95}},
            {'heart_rate_max': 125})
        self.assertEqual(signals, [rules.Signal(
                    'vitals', rules.HIGH, 'heart rate 130 > 125')])
        self.assertEqual(rules.evaluate(
                {'kind': 'vitals', 'values': {'heart_rate': 'x', 'sos': 0}}),
            [])
        self.assertEqual(rules.evaluate({'values': ['not a dict']}), [])

        @rules.register('test_glucose_low')
        class Low:
            def __call__(self, event, values, limits):
                if values.get('glucose', 99) < 3:
                    yield rules.Signal('vitals', rules.HIGH, 'low glucose')
        try:
            self.assertEqual(len(rules.evaluate(
                        {'values': {'glucose': 2.5}})), 1)
        finally:
            del rules.RULES['test_glucose_low']

    @with_transaction()
    def test_lifecycle(self):
        "in_stock → installed → active → fault → under_repair → retired, logged"
        pool = Pool()
        Device = pool.get('device.device')
        elder = self._elder()
        device = create_device('IMEI001', state='in_stock')
        self.assertEqual(device.state, 'in_stock')
        with self.assertRaises(UserError):
            Device.install([device])  # no older person
        device.elder = elder
        device.save()
        self.assertEqual(device.region, elder.region)
        Device.install([device])
        Device.activate([device])
        Device.report_fault([device])
        Device.repair([device])
        Device.retire([device])
        self.assertEqual(device.state, 'retired')
        self.assertEqual(
            [(e.from_state, e.to_state) for e in reversed(device.events)],
            [('in_stock', 'installed'), ('installed', 'active'),
                ('active', 'fault'), ('fault', 'under_repair'),
                ('under_repair', 'retired')])
        self.assertTrue(all(e.user and e.date for e in device.events))
        # retired is the end: no transition back
        Device.activate([device])
        self.assertEqual(device.state, 'retired')

    @with_transaction()
    def test_identifier_unique_per_protocol(self):
        "The same identifier may exist once per protocol"
        create_device('0x00124b0001', protocol='zigbee', state='in_stock')
        create_device('0x00124b0001', protocol='lora', state='in_stock')
        with self.assertRaises(UserError):
            create_device('0x00124b0001', protocol='zigbee', state='in_stock')

    @with_transaction()
    def test_thresholds(self):
        "The older person's thresholds win over the type's defaults"
        pool = Pool()
        Threshold = pool.get('device.threshold')
        elder = self._elder()
        device = create_device('W1', elder=elder)
        limits = Threshold.limits_for(device)
        self.assertEqual(limits['heart_rate_max'], 120)  # WATCH default
        self.assertEqual(limits['systolic_max'], 160)  # platform default
        Threshold.create([{'elder': elder.id, 'heart_rate_max': 100}])
        self.assertEqual(Threshold.limits_for(device)['heart_rate_max'], 100)
        with self.assertRaises(UserError):
            Threshold.create([{
                        'elder': self._elder(2).id,
                        'heart_rate_min': 90, 'heart_rate_max': 80}])

    @with_transaction()
    def test_ingest_idempotent(self):
        "A message is stored once; unknown devices are reported"
        pool = Pool()
        Device = pool.get('device.device')
        Telemetry = pool.get('device.telemetry')
        device = create_device('W1', elder=self._elder())
        statuses = Device.ingest([
                event('W1', 'm1', heart_rate=70, battery=80),
                event('W1', 'm1', heart_rate=70),
                event('NOPE', 'm2'),
                event('W1', 'm3', kind='heartbeat',
                    time=NOW + dt.timedelta(seconds=5)),
                ])
        self.assertEqual(
            statuses, ['new', 'duplicate', 'unknown_device', 'new'])
        self.assertEqual(Device.ingest([event('W1', 'm1')]), ['duplicate'])
        self.assertEqual(Telemetry.search_count([('device', '=', device.id)]), 2)
        self.assertEqual(device.last_seen, NOW + dt.timedelta(seconds=5))
        self.assertEqual(device.battery, 80)
        self.assertTrue(device.online)
        self.assertEqual(Device.search([('online', '=', True)]), [device])
        row, = Telemetry.search([('message_id', '=', 'm1')])
        self.assertEqual(row.values, {'heart_rate': 70, 'battery': 80})

    @with_transaction()
    def test_alarms_and_dedup(self):
        "Events raise alarms; repeats within the window are counted"
        pool = Pool()
        Device = pool.get('device.device')
        Alarm = pool.get('device.alarm')
        Threshold = pool.get('device.threshold')
        elder = self._elder()
        Threshold.create([{'elder': elder.id, 'spo2_min': 93}])
        device = create_device('W1', elder=elder)
        Device.ingest([
                event('W1', 'a1', kind='alarm', sos=True),
                event('W1', 'a2', kind='alarm', sos=True,
                    time=NOW + dt.timedelta(minutes=2)),
                event('W1', 'v1', kind='vitals', spo2=92),
                ])
        Device.ingest([event('W1', 'a3', kind='alarm', sos=True,
                    time=NOW + dt.timedelta(minutes=4))])
        sos, = Alarm.search([('kind', '=', 'sos')])
        self.assertEqual(sos.repeat_count, 3)
        self.assertEqual(sos.first_occurrence, NOW)
        self.assertEqual(sos.last_occurrence, NOW + dt.timedelta(minutes=4))
        self.assertEqual(sos.priority, '1')
        self.assertEqual(sos.elder, elder)
        self.assertEqual(sos.device, device)
        vitals, = Alarm.search([('kind', '=', 'vitals')])
        self.assertIn('SpO2 92', vitals.description)
        # After the window, or once closed, a new alarm
        Device.ingest([event('W1', 'a4', kind='alarm', sos=True,
                    time=NOW + dt.timedelta(minutes=30))])
        self.assertEqual(Alarm.search_count([('kind', '=', 'sos')]), 2)
        # Closing needs notes
        with self.assertRaises(UserError):
            Alarm.close([sos])
        sos.notes = '已电话联系家属'
        sos.save()
        Alarm.close([sos])
        self.assertEqual(sos.state, 'closed')
        self.assertTrue(sos.closed_at and sos.acknowledged_at)
        # A device out of service raises none
        stock = create_device('W2', state='in_stock')
        Device.ingest([event('W2', 'x', kind='alarm', sos=True)])
        self.assertEqual(Alarm.search_count([('device', '=', stock.id)]), 0)

    @with_transaction()
    def test_notify_agents_in_region(self):
        "An alarm notifies the agents whose scope covers the older person"
        pool = Pool()
        Device = pool.get('device.device')
        Notification = pool.get('res.notification')
        elder = self._elder()
        city = create_user('agent_city', 'elder_base.group_agent',
            elder_region=region('150100').id)
        local = create_user('agent_xc', 'elder_base.group_agent',
            elder_region=region(XINCHENG).id)
        other = create_user('agent_hm', 'elder_base.group_agent',
            elder_region=region(HUIMIN).id)
        create_device('W1', elder=elder)
        Device.ingest([event('W1', 'f1', kind='alarm', fall=True)])
        users = {n.user for n in Notification.search([])}
        self.assertEqual(users, {city, local})
        self.assertNotIn(other, users)
        notification = Notification.search([('user', '=', local.id)])[0]
        self.assertEqual(notification.model, 'device.alarm')

    @with_transaction()
    def test_notification_body(self):
        "The agent's notification: address, contacts, last position; audited"
        pool = Pool()
        Device = pool.get('device.device')
        Notification = pool.get('res.notification')
        Event = pool.get('security.audit.event')
        elder = self._elder(address='新华大街 12 号', contacts=[('create', [{
                        'name': '王芳', 'relationship': 'daughter',
                        'phone': '13800000001', 'is_emergency': True}])])
        agent = create_user('agent_body', 'elder_base.group_agent',
            elder_region=region(XINCHENG).id)
        create_device('W1', elder=elder)
        create_device('SMK1', type_code='SMOKE', elder=elder)
        Device.ingest([event('W1', 'p1', kind='position',
                    time=NOW - dt.timedelta(minutes=5),
                    latitude=40.8424, longitude=111.749)])
        def audited():
            # the audit log is written in a transaction of its own
            with Transaction().new_transaction():
                return Event.search_count([
                        ('event_type', '=', 'full_view'),
                        ('object', '=', 'elder.elder,%s' % elder.id)])
        Device.ingest([event('SMK1', 's1', kind='alarm', smoke=True)])
        notification, = Notification.search([('user', '=', agent.id)])
        text = notification.description
        self.assertIn('新华大街 12 号', text)
        self.assertIn('王芳', text)
        self.assertIn('13800000001', text)
        self.assertIn('40.84240, 111.74900', text)
        self.assertIn('老人1', notification.label)
        self.assertEqual(audited(), 1)
        # Nothing known: said so, no error
        lonely = self._elder(serial=2)
        create_device('W2', elder=lonely)
        Device.ingest([event('W2', 's2', kind='alarm', sos=True)])
        alarm, = pool.get('device.alarm').search(
            [('device.identifier', '=', 'W2')])
        self.assertIsNone(alarm.last_position())

    @with_transaction()
    def test_offline_and_inactivity_cron(self):
        "The schedule raises offline and inactivity alarms once"
        pool = Pool()
        Device = pool.get('device.device')
        Alarm = pool.get('device.alarm')
        elder = self._elder()
        watch = create_device('W1', elder=elder)
        presence = create_device('P1', 'PRESENCE', elder=elder)
        old = NOW - dt.timedelta(hours=13)
        Device.ingest([
                event('W1', 'h1', kind='heartbeat', time=old),
                event('P1', 'o1', occupancy=True, time=old),
                ])
        Device.ingest([event('P1', 'o2', occupancy=False)])  # alive, no motion
        self.assertFalse(watch.online)
        Device.check_connections()
        Device.check_connections()
        self.assertEqual(
            sorted((a.device.identifier, a.kind) for a in Alarm.search([])),
            [('P1', 'inactivity'), ('W1', 'offline')])
        self.assertTrue(Device(presence.id).inactivity_alarmed)
        # a new message clears the flag
        Device.ingest([event('W1', 'h2', kind='heartbeat')])
        self.assertFalse(Device(watch.id).offline_alarmed)

    @with_transaction()
    def test_deceased_stops_devices(self):
        "§7.3.4: devices of a deceased person go to collection, alarms close"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Device = pool.get('device.device')
        Alarm = pool.get('device.alarm')
        Notification = pool.get('res.notification')
        provider = create_provider('维修公司', XINCHENG)
        maintainer = create_user('prov_admin', 'elder_base.group_provider_admin',
            elder_provider=provider.id)
        elder = self._elder()
        device = create_device('W1', elder=elder, provider=provider)
        Device.ingest([event('W1', 's1', kind='alarm', sos=True)])
        Elder.deceased([elder], dt.date.today())
        device = Device(device.id)
        self.assertEqual(device.state, 'in_stock')
        self.assertTrue(device.to_collect)
        self.assertEqual(device.elder, elder)
        self.assertIn('7.3.4', device.events[0].note)
        self.assertEqual(Alarm.search([])[0].state, 'closed')
        self.assertEqual(
            Notification.search_count([('user', '=', maintainer.id)]), 1)
        # Messages from it no longer raise alarms
        Device.ingest([event('W1', 's2', kind='alarm', sos=True)])
        self.assertEqual(Alarm.search_count([('state', '!=', 'closed')]), 0)
        Device.collect([device])
        self.assertFalse(device.to_collect)
        self.assertIsNone(device.elder)

    @with_transaction()
    def test_acknowledged_twice(self):
        "The second agent acknowledging an alarm is told why, in Chinese"
        pool = Pool()
        Device = pool.get('device.device')
        Alarm = pool.get('device.alarm')
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        zh, = Lang.search([('code', '=', 'zh_CN')])
        Lang.write([zh], {'translatable': True})
        for module, package in [('ir', trytond.ir), ('elder_base', elder_base)]:
            Translation.translation_import('zh_CN', module, os.path.join(
                    os.path.dirname(package.__file__), 'locale', 'zh_CN.po'))
        provider = create_provider('甲公司', XINCHENG)
        create_device('XC1', elder=self._elder(1, XINCHENG), provider=provider)
        Device.ingest([event('XC1', '1', kind='alarm', sos=True)])
        alarm, = Alarm.search([])
        agents = [create_user(login, 'elder_base.group_agent',
                elder_region=region(XINCHENG).id)
            for login in ['agent_a', 'agent_b']]
        with Transaction().set_user(agents[0].id), \
                Transaction().set_context(_check_access=True):
            Alarm.acknowledge([Alarm(alarm.id)])
        with Transaction().set_user(agents[1].id), \
                Transaction().set_context(
                    _check_access=True, language='zh_CN'), \
                self.assertRaises(AccessButtonError) as cm:
            Alarm.acknowledge([Alarm(alarm.id)])
        self.assertIn('可能已被他人处理', cm.exception.message)
        self.assertEqual(Alarm(alarm.id).acknowledged_by, agents[0])

    @with_transaction()
    def test_access(self):
        "Agents see their region's alarms; providers their devices only"
        pool = Pool()
        Device = pool.get('device.device')
        Alarm = pool.get('device.alarm')
        Telemetry = pool.get('device.telemetry')
        prov_a = create_provider('甲公司', XINCHENG)
        prov_b = create_provider('乙公司', HUIMIN)
        xc = self._elder(1, XINCHENG)
        hm = self._elder(2, HUIMIN)
        d_xc = create_device('XC1', elder=xc, provider=prov_a)
        d_hm = create_device('HM1', elder=hm, provider=prov_b)
        Device.ingest([
                event('XC1', '1', kind='alarm', sos=True),
                event('HM1', '1', kind='alarm', sos=True)])
        a_xc, = Alarm.search([('device', '=', d_xc.id)])
        a_hm, = Alarm.search([('device', '=', d_hm.id)])
        agent = create_user('agent_xc', 'elder_base.group_agent',
            elder_region=region(XINCHENG).id)
        prov_user = create_user('prov_a', 'elder_base.group_provider_admin',
            elder_provider=prov_a.id)
        caregiver = create_user('care', 'elder_base.group_caregiver',
            elder_provider=prov_a.id)

        with Transaction().set_user(agent.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Alarm.search([]), [a_xc])
            with self.assertRaises(AccessError):
                Alarm.read([a_hm.id], ['kind'])
            Alarm.acknowledge([Alarm(a_xc.id)])
            self.assertEqual(Device.search([]), [d_xc])
            self.assertEqual(
                {t.device for t in Telemetry.search([])}, {d_xc})
            with self.assertRaises(AccessButtonError):
                Device.retire([Device(d_xc.id)])
        self.assertEqual(Alarm(a_xc.id).acknowledged_by, agent)

        with Transaction().set_user(prov_user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Device.search([]), [d_xc])
            self.assertEqual(Alarm.search([]), [a_xc])
            with self.assertRaises(AccessError):
                Device.read([d_hm.id], ['identifier'])
            with self.assertRaises(AccessButtonError):
                Alarm.close([Alarm(a_xc.id)])
            with self.assertRaises(AccessError):
                Alarm.write([Alarm(a_xc.id)], {'notes': 'x'})

        with Transaction().set_user(caregiver.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Device.search([])
            with self.assertRaises(AccessError):
                Alarm.search([])


del ModuleTestCase
