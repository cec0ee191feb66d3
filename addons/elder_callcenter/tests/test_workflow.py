# This file is part of the eldercare platform. See LICENSE.
"SOS handling, tickets, return visits, and what users may NOT see or do."
import datetime as dt

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.elder_base.tests.test_access import create_user
from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, create_provider, region)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import call_events, setup_center


def sos_alarm(elder, identifier='SOS001'):
    "An SOS press on an active device of the older person → alarm"
    pool = Pool()
    Device = pool.get('device.device')
    Type = pool.get('device.type')
    sos, = Type.search([('code', '=', 'SOS')])
    device, = Device.create([{'type': sos.id, 'protocol': 'mqtt',
                'identifier': identifier, 'elder': elder.id}])
    Device.install([device])
    Device.activate([device])
    Device.ingest([{'protocol': 'mqtt', 'device_key': identifier,
                'message_id': 'm1', 'kind': 'alarm',
                'time': dt.datetime.utcnow().replace(microsecond=0),
                'values': {'sos': True}, 'raw': '{}'}])
    return device


class CallCenterWorkflowTestCase(ModuleTestCase):
    "Test elder_callcenter workflows and access"
    module = 'elder_callcenter'

    def _elder(self, serial=1, code='150102', **values):
        return create_elder('老人%s' % serial,
            citizen_id(code, '19450101', serial), code, **values)

    @with_transaction()
    def test_sos_workflow(self):
        "accept → call elder → contacts → dispatch → follow-up → close"
        pool = Pool()
        Handling = pool.get('call.alarm.handling')
        Contact = pool.get('elder.contact')
        Item = pool.get('service.item')
        center = setup_center()
        elder = self._elder(phone='13912340001')
        Contact.create([{'elder': elder.id, 'name': '王强',
                    'relationship': 'son', 'phone': '13712340002'}])
        sos_alarm(elder)
        handling, = Handling.search([])
        self.assertEqual((handling.kind, handling.priority, handling.state),
            ('sos', '1', 'waiting'))
        user = center['user']
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            handling = Handling(handling.id)
            Handling.accept([handling])
            self.assertEqual(handling.alarm.state, 'acknowledged')
            Handling.call_elder([handling])
            with self.assertRaises(UserError):
                Handling.dispatch([handling])  # no help chosen
            Handling.call_contacts([handling])  # elder not reached
            self.assertTrue(handling.elder_unreachable)
            Handling.reached([handling])
            item, = Item.search([], limit=1)
            handling.dispatch_kind = 'service_order'
            handling.service_item = item
            handling.save()
            Handling.dispatch([handling])
            self.assertEqual(handling.order.state, 'submitted')
            self.assertEqual(handling.order.channel, 'call_center')
            Handling.follow_up([handling])
            with self.assertRaises(UserError):
                Handling.close([handling])  # no outcome
            handling.outcome = 'help_arrived'
            handling.save()
            Handling.close([handling])
        self.assertEqual(handling.state, 'closed')
        self.assertEqual(handling.alarm.state, 'closed')
        actions = [(s.action, s.user.id) for s in handling.steps]
        self.assertEqual([a for a, _ in actions], ['accept', 'call_elder',
                'unreachable', 'call_contact', 'reached', 'dispatch',
                'follow_up', 'close'])
        self.assertTrue(all(u == user.id for _, u in actions))
        self.assertTrue(all(s.at for s in handling.steps))
        self.assertTrue(handling.first_contact_at >= handling.accepted_at)

    @with_transaction()
    def test_escalation(self):
        "Not accepted in time, and unreachable, are escalated once each"
        pool = Pool()
        Handling = pool.get('call.alarm.handling')
        Notification = pool.get('res.notification')
        setup_center()
        supervisor = create_user('sup', 'elder_base.group_supervisor',
            elder_region=region('150102').id)
        elder = self._elder()
        sos_alarm(elder)
        handling, = Handling.search([])
        later = handling.raised_at + dt.timedelta(minutes=3)
        with Transaction().set_context(callcenter_now=later):
            self.assertEqual(Handling.escalate(), [handling])
            self.assertEqual(Handling.escalate(), [])
        self.assertEqual(handling.escalation, 'not_accepted')
        self.assertTrue(Notification.search([('user', '=', supervisor.id)]))
        with Transaction().set_context(callcenter_now=later):
            Handling.accept([handling])
            Handling.call_elder([handling])
        much_later = later + dt.timedelta(minutes=11)
        with Transaction().set_context(callcenter_now=much_later):
            self.assertEqual(Handling.escalate(), [handling])
        self.assertEqual(handling.escalation, 'unreachable')

    @with_transaction()
    def test_tickets(self):
        "A service request makes an order; a fault a repair ticket"
        pool = Pool()
        Ticket = pool.get('call.ticket')
        Item = pool.get('service.item')
        Device = pool.get('device.device')
        setup_center()
        elder = self._elder()
        item, = Item.search([], limit=1)
        ticket, = Ticket.create([{'kind': 'service_request',
                    'elder': elder.id, 'description': '需要助浴',
                    'service_item': item.id}])
        self.assertTrue(ticket.number)
        self.assertEqual(ticket.region, elder.region)
        self.assertEqual(
            (ticket.deadline - ticket.opened_at), dt.timedelta(hours=24))
        Ticket.process([ticket])
        self.assertEqual(ticket.order.state, 'submitted')
        with self.assertRaises(UserError):
            Ticket.resolve([ticket])  # no resolution
        ticket.resolution = '已派单'
        ticket.save()
        Ticket.resolve([ticket])
        with self.assertRaises(UserError):
            Ticket.close([ticket])  # no survey
        ticket.survey_score = 5
        ticket.save()
        Ticket.close([ticket])
        device = sos_alarm(elder, 'SOS009')
        fault, = Ticket.create([{'kind': 'device_fault', 'elder': elder.id,
                    'description': '按键失灵', 'device': device.id}])
        Ticket.process([fault])
        self.assertEqual(fault.repair.source, 'hotline')
        self.assertEqual(Device(device.id).repairs, (fault.repair,))

    @with_transaction()
    def test_callbacks(self):
        "Care calls for those living alone, scripted answers checked"
        pool = Pool()
        Callback = pool.get('call.callback')
        elder = self._elder(living_situation='alone')
        self._elder(2)
        callbacks = Callback.generate()
        self.assertEqual([(c.elder, c.kind) for c in callbacks],
            [(elder, 'care')])
        self.assertEqual(Callback.generate(), [])  # nothing twice
        callback, = callbacks
        Callback.load_script([callback])
        self.assertEqual(len(callback.answers), 3)
        yes_no = callback.answers[0]
        yes_no.answer = 'maybe'
        yes_no.save()
        with self.assertRaises(UserError):
            Callback.done([callback])
        for answer, value in zip(callback.answers, ['是', '否', '']):
            answer.answer = value
            answer.save()
        Callback.done([callback])
        self.assertEqual(callback.state, 'done')

    @with_transaction()
    def test_agents_see_calls_of_their_league_only(self):
        """An agent of 呼和浩特市 does not see 包头市's calls; a provider
        administrator sees no call at all"""
        pool = Pool()
        Call = pool.get('call.call')
        Handling = pool.get('call.alarm.handling')
        hohhot = setup_center('150100', login='agent_hh')
        setup_center('150200', seat_code='8101', login='agent_bt',
            queue_code='bt', number='12349-bt', subcenter_code='BT')
        self._elder(1, '150102', phone='13912340001')
        self._elder(2, '150200', phone='13912340002')
        Call.ingest(call_events('hh', '13912340001', seat='8001'))
        Call.ingest(call_events('bt', '13912340002', seat='8101',
                queue='bt'))
        bt_id, = [c.id for c in Call.search([('call_id', '=', 'bt')])]
        provider = create_provider('某养老服务中心', '150102')
        provider_admin = create_user('padmin',
            'elder_base.group_provider_admin',
            elder_provider=provider.id)
        with Transaction().set_user(hohhot['user'].id), \
                Transaction().set_context(_check_access=True):
            calls = Call.search([])
            self.assertEqual([c.call_id for c in calls], ['hh'])
            self.assertEqual(Call.search([('call_id', '=', 'bt')]), [])
            with self.assertRaises(AccessError):
                Call.read([bt_id], ['caller'])
            # the number is masked through the API
            caller, = Call.read([calls[0].id], ['caller'])
            self.assertEqual(caller['caller'], '139****0001')
        with Transaction().set_user(provider_admin.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Call.search([])
            with self.assertRaises(AccessError):
                Handling.search([])

    @with_transaction()
    def test_agent_cannot_configure_or_delete(self):
        "Agents read queues and seats but do not change them"
        pool = Pool()
        Queue = pool.get('call.queue')
        Call = pool.get('call.call')
        center = setup_center()
        Call.ingest(call_events('x', '13800000000', seat='8001'))
        with Transaction().set_user(center['user'].id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(len(Queue.search([])), 1)
            with self.assertRaises(AccessError):
                Queue.write(Queue.search([]), {'answer_target': 5})
            with self.assertRaises(AccessError):
                Call.delete(Call.search([]))
            with self.assertRaises(AccessError):
                Call.create([{'call_id': 'forged', 'source': 'manual'}])


del ModuleTestCase
