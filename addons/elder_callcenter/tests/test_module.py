# This file is part of the eldercare platform. See LICENSE.
import datetime as dt

from trytond.modules.elder_base.tests.test_access import create_user
from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, region)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import T0, call_events, setup_center


class ElderCallCenterTestCase(ModuleTestCase):
    "Test elder_callcenter module"
    module = 'elder_callcenter'

    @with_transaction()
    def test_ingest_answered_call_with_screen_pop(self):
        "Events of an answered call make one record with the elder popped"
        pool = Pool()
        Call = pool.get('call.call')
        center = setup_center()
        elder = create_elder('王秀英', citizen_id('150102', '19450101', 1),
            '150102', phone='13912345678')
        events = call_events('c1', '13912345678', seat='8001',
            outcome='answered')
        self.assertEqual(Call.ingest(events), ['new'] * 4)
        call, = Call.search([])
        self.assertEqual(call.elder, elder)
        self.assertEqual(call.caller_kind, 'elder')
        self.assertEqual(call.outcome, 'answered')
        self.assertEqual(call.state, 'ended')
        self.assertEqual(call.seat, center['seat'])
        self.assertEqual(call.agent, center['agent'])
        self.assertEqual(call.queue, center['queue'])
        self.assertEqual(call.region, elder.region)
        self.assertEqual(call.wait_seconds, 5)
        self.assertEqual(call.talk_seconds, 60)
        self.assertEqual(call.hangup_by, 'caller')
        self.assertEqual(call.caller, '13912345678')  # server side: plain
        self.assertEqual(center['agent'].state, 'wrap_up')

    @with_transaction()
    def test_ingest_idempotent_and_out_of_batch(self):
        "A replayed event changes nothing; a split call is put together"
        Call = Pool().get('call.call')
        setup_center()
        events = call_events('c2', '13800000001', seat='8001',
            outcome='answered')
        self.assertEqual(Call.ingest(events[:2]), ['new', 'new'])
        self.assertEqual(Call.ingest(events), ['duplicate'] * 2 + ['new'] * 2)
        self.assertEqual(Call.ingest(events), ['duplicate'] * 4)
        call, = Call.search([])
        self.assertEqual(call.outcome, 'answered')
        self.assertEqual(len(call.events), 4)

    @with_transaction()
    def test_unknown_seat_keeps_the_call(self):
        "A seat the platform does not know: call kept and flagged"
        Call = Pool().get('call.call')
        setup_center()
        Call.ingest(call_events('c3', '13800000002', seat='9999',
                outcome='answered'))
        call, = Call.search([])
        self.assertEqual(call.anomaly, 'unknown_seat')
        self.assertEqual(call.seat_code, '9999')
        self.assertIsNone(call.seat)
        self.assertEqual(call.outcome, 'answered')

    @with_transaction()
    def test_outcomes(self):
        "busy, no answer, caller cancel and hang-up before answer"
        Call = Pool().get('call.call')
        setup_center()
        for call_id, outcome in [('b', 'busy'), ('n', 'no_answer'),
                ('a', 'abandoned')]:
            Call.ingest(call_events(call_id, '13800000003', seat='8001',
                    outcome=outcome))
        self.assertEqual(
            {c.call_id: c.outcome for c in Call.search([])},
            {'b': 'busy', 'n': 'no_answer', 'a': 'abandoned'})

    @with_transaction()
    def test_screen_pop_contact_and_provider(self):
        "A family member's number pops the family and their older person"
        pool = Pool()
        Call = pool.get('call.call')
        Contact = pool.get('elder.contact')
        setup_center()
        elder = create_elder('李桂兰', citizen_id('150102', '19400303', 4),
            '150102')
        contact, = Contact.create([{'elder': elder.id, 'name': '李强',
                    'relationship': 'son', 'phone': '13700001111'}])
        Call.ingest(call_events('k', '+8613700001111', seat='8001',
                outcome='answered'))
        call, = Call.search([])
        self.assertEqual(call.caller_kind, 'contact')
        self.assertEqual(call.contact, contact)
        self.assertEqual(call.elder, elder)
        self.assertEqual(call.pop_contacts, (contact,))

    @with_transaction()
    def test_kpi(self):
        "Connection rate, ASA, abandon rate and AHT from the calls"
        pool = Pool()
        Call = pool.get('call.call')
        KpiDay = pool.get('call.kpi.day')
        KpiQueue = pool.get('call.kpi.queue')
        setup_center()
        outcomes = ['answered'] * 3 + ['abandoned']
        for i, outcome in enumerate(outcomes):
            Call.ingest(call_events('k%s' % i, '13800000009', seat='8001',
                    outcome=outcome))
        with Transaction().set_context(from_date=T0.date(),
                to_date=T0.date(), timezone='UTC'):
            day, = KpiDay.search([])
            queue, = KpiQueue.search([])
        self.assertEqual((day.offered, day.answered, day.abandoned),
            (4, 3, 1))
        self.assertEqual(day.answer_rate, 75)
        self.assertEqual(day.target, 95)
        self.assertEqual(day.abandon_rate, 25)
        self.assertEqual(day.asa, 5)
        self.assertEqual(day.aht, 60)
        self.assertEqual(queue.answered, 3)

    @with_transaction()
    def test_agent_presence(self):
        "Presence changes are logged; wrap-up ends after its time"
        pool = Pool()
        Agent = pool.get('call.agent')
        center = setup_center()
        agent = center['agent']
        Agent.go_away([agent])
        Agent.go_available([agent])
        self.assertEqual([p.state for p in agent.presence_log],
            ['available', 'away', 'available'])
        Agent.set_presence([agent], 'wrap_up')
        later = dt.datetime.utcnow() + dt.timedelta(seconds=31)
        with Transaction().set_context(callcenter_now=later):
            Agent.end_wrap_up()
        self.assertEqual(agent.state, 'available')


del create_user, region, ModuleTestCase
