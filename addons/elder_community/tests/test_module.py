# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import json
from decimal import Decimal

from psycopg.errors import CheckViolation

from trytond.exceptions import UserError
from trytond.model.exceptions import SQLConstraintError, ValidationError
from trytond.modules.elder_base.tests.tools import region
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import (
    HOME, XINCHENG, active_provider, at, create_order, create_practitioner,
    day_care, earn, enrol, home_elder, serve, volunteer)


class ElderCommunityTestCase(ModuleTestCase):
    "Test elder_community module"
    module = 'elder_community'

    # --- facilities and day care -------------------------------------------

    @with_transaction()
    def test_attendance(self):
        "Check-in by card and by hand, one visit at a time, check-out"
        pool = Pool()
        Attendance = pool.get('community.attendance')
        Utilisation = pool.get('community.facility.utilisation')
        facility = day_care(seats=2)
        elder = home_elder()
        enrol(facility, elder, 'CARD-001')
        visit = Attendance.check_in(facility, method='card', card='CARD-001',
            when=at(0))
        self.assertEqual(visit.elder, elder)
        self.assertEqual(visit.checkin_method, 'card')
        self.assertTrue(visit.meal)
        self.assertEqual(facility.present, 1)
        with self.assertRaises(UserError) as cm:
            Attendance.check_in(facility, elder, when=at(5))
        self.assertIn('already checked in', cm.exception.message)
        with self.assertRaises(UserError):
            Attendance.check_in(facility, method='card', card='NOPE')
        with self.assertRaises(UserError) as cm:
            Attendance.check_in(facility, elder, method='face', photo=b'x')
        self.assertIn('not recognised', cm.exception.message)
        with self.assertRaises(UserError):
            Attendance.check_out(facility, elder, when=at(-10))
        Attendance.check_out(facility, elder, method='card', card='CARD-001',
            when=at(240))
        self.assertEqual(visit.state, 'left')
        self.assertEqual(visit.minutes, 240)
        self.assertEqual(Attendance.present_count(facility), 0)
        with self.assertRaises(UserError):
            Attendance.delete([visit])

        # Capacity: two places
        other = home_elder('其其格', 22)
        third = home_elder('乌云', 32)
        Attendance.check_in(facility, elder, when=at(300))
        Attendance.check_in(facility, other, when=at(301))
        with self.assertRaises(UserError) as cm:
            Attendance.check_in(facility, third, when=at(302))
        self.assertIn('is full', cm.exception.message)
        # The scheduler closes what stayed open on a past day.
        closed = Attendance.cron_close_day()
        self.assertEqual(len(closed), 2)
        self.assertTrue(all(a.auto_closed for a in closed))

        day = at(0).date()
        with Transaction().set_context(from_date=day, to_date=day):
            row, = Utilisation.search([('facility', '=', facility.id)])
        self.assertEqual((row.visits, row.people, row.meals, row.seats),
            (3, 2, 2, 2))
        self.assertEqual(row.occupancy, 100.0)

    @with_transaction()
    def test_face_hook(self):
        "elder_face plugs into _verify_face; a match checks in by face"
        pool = Pool()
        Attendance = pool.get('community.attendance')
        facility = day_care()
        elder = home_elder()
        original = Attendance._verify_face
        try:
            Attendance._verify_face = classmethod(
                lambda cls, f, e, photo: elder if photo == b'face' else None)
            visit = Attendance.check_in(facility, method='face',
                photo=b'face', when=at(0))
            self.assertEqual((visit.elder, visit.checkin_method),
                (elder, 'face'))
        finally:
            Attendance._verify_face = original

    @with_transaction()
    def test_activity_and_inspection(self):
        "Sign-ups stop at capacity; an inspection gives the rating"
        pool = Pool()
        Activity = pool.get('community.activity')
        Inspection = pool.get('community.inspection')
        facility = day_care()
        activity, = Activity.create([{
                    'facility': facility.id, 'name': '八段锦',
                    'kind': 'fitness', 'capacity': 1,
                    'start': dt.datetime(2026, 5, 1, 9),
                    'end': dt.datetime(2026, 5, 1, 10)}])
        elder = home_elder()
        with self.assertRaises(UserError):
            Activity.sign_up(activity, elder)
        Activity.open([activity])
        registration = Activity.sign_up(activity, elder)
        with self.assertRaises(UserError):
            Activity.sign_up(activity, home_elder('其其格', 22))
        Activity.do([activity])
        self.assertEqual(registration.state, 'absent')

        inspection, = Inspection.create([{
                    'facility': facility.id, 'safety_score': 24,
                    'service_score': 22}])
        with self.assertRaises(ValidationError):
            Inspection.do([inspection])
        inspection.management_score = 20
        inspection.satisfaction_score = 21
        inspection.save()
        Inspection.do([inspection])
        self.assertEqual((inspection.score, inspection.grade), (87, '4'))
        self.assertEqual(facility.grade, '4')

    # --- practitioners ---------------------------------------------------

    @with_transaction()
    def test_training_and_qualification(self):
        "Platform training (§6.3) writes training records and trains providers"
        pool = Pool()
        Plan = pool.get('practitioner.training.plan')
        Level = pool.get('practitioner.qualification.level')
        Practitioner = pool.get('elder.practitioner')
        provider = active_provider('青城中心', XINCHENG, [XINCHENG])
        provider.training_date = None
        provider.save()
        carer = create_practitioner('王护理', 1, provider)
        level, = Level.search([('code', '=', 'HL-A')])
        carer.qualification_level = level
        carer.save()
        self.assertFalse(carer.qualification_ok)
        self.assertIn('training hours', carer.qualification_gaps)
        plan, = Plan.create([{
                    'name': '平台派单与服务流程培训', 'kind': 'platform',
                    'date': dt.date.today(), 'hours': Decimal(40),
                    'providers': [('add', [provider.id])],
                    'participants': [('create', [{
                                    'practitioner': carer.id}])]}])
        Plan.plan([plan])
        Plan.do([plan])
        carer = Practitioner(carer.id)
        self.assertEqual(len(carer.trainings), 1)
        self.assertEqual(carer.trainings[0].kind, 'platform')
        self.assertEqual(carer.training_hours_year, Decimal(40))
        self.assertEqual(provider.training_date, dt.date.today())
        # Still no certificate: the senior level requires one.
        self.assertIn('certificate', carer.qualification_gaps)

        other = active_provider('第二中心', XINCHENG, [XINCHENG])
        stranger = create_practitioner('李护理', 2, other)
        with self.assertRaises(ValidationError):
            Plan.create([{'name': '机构内训', 'kind': 'skills',
                        'provider': provider.id, 'date': dt.date.today(),
                        'hours': Decimal(2), 'participants': [('create', [{
                                        'practitioner': stranger.id}])]}])

    @with_transaction()
    def test_certificate_alerts(self):
        "The scheduler alerts expiring and expired certificates once"
        pool = Pool()
        Certificate = pool.get('elder.practitioner.certificate')
        Alert = pool.get('practitioner.certificate.alert')
        Notification = pool.get('res.notification')
        from .tools import create_user
        provider = active_provider('青城中心', XINCHENG, [XINCHENG])
        admin = create_user('padmin', 'elder_base.group_provider_admin',
            elder_provider=provider.id)
        carer = create_practitioner('王护理', 1, provider)
        today = dt.date.today()
        Certificate.create([{
                    'practitioner': carer.id, 'name': '养老护理员证',
                    'number': 'A1', 'expiry_date': today + dt.timedelta(30)},
                {'practitioner': carer.id, 'name': '健康证', 'number': 'B2',
                    'expiry_date': today - dt.timedelta(1)},
                {'practitioner': carer.id, 'name': '护士证', 'number': 'C3',
                    'expiry_date': today + dt.timedelta(365)}])
        alerts = Certificate.cron_alert_expiring()
        self.assertEqual(sorted(a.kind for a in alerts),
            ['expired', 'expiring'])
        self.assertEqual(Certificate.cron_alert_expiring(), [])
        self.assertEqual(Alert.search_count([('provider', '=', provider.id)]),
            2)
        self.assertEqual(
            Notification.search_count([('user', '=', admin.id)]), 2)

    @with_transaction()
    def test_appraisal_and_staffing(self):
        "Appraisal from service data; staffing shows the gap against demand"
        pool = Pool()
        Appraisal = pool.get('practitioner.appraisal')
        Staffing = pool.get('practitioner.staffing')
        Order = pool.get('service.order')
        provider = active_provider('青城中心', XINCHENG, [XINCHENG],
            latitude=HOME[0], longitude=HOME[1])
        carer = create_practitioner('王护理', 1, provider)
        elder = home_elder()
        yesterday = dt.date.today() - dt.timedelta(days=1)
        for rating in [5, 4]:
            order = create_order(elder, requested_date=yesterday)
            Order.submit([order])
            Order.dispatch([order])
            serve(order, carer, rating)
        appraisal, = Appraisal.create([{
                    'practitioner': carer.id,
                    'date_from': yesterday - dt.timedelta(days=29),
                    'date_to': yesterday}])
        Appraisal.compute([appraisal])
        self.assertEqual((appraisal.orders, appraisal.minutes,
                appraisal.rating), (2, 90, 4.5))
        # rating .9*.4 + volume 2/40*.2 + quality 1*.3 + training 1*.1
        self.assertEqual(appraisal.score, Decimal('77.0'))
        self.assertEqual(appraisal.grade, 'good')
        self.assertIn('4.5', appraisal.explanation)

        staffing, = Staffing.create([{
                    'provider': provider.id,
                    'date_from': yesterday, 'date_to': yesterday,
                    'lines': [('create', [{
                                    'kind': 'caregiver', 'planned': 2,
                                    'reserve': 1}])]}])
        line, = staffing.lines
        self.assertEqual((line.current, line.demand_minutes, line.required),
            (1, 90, 1))
        self.assertEqual((line.gap, line.status), (-1, 'shortage'))

    # --- social work -----------------------------------------------------

    @with_transaction()
    def test_social_case_to_closure(self):
        "Intake → assessment → plan → interventions → referral → closed"
        pool = Pool()
        Case = pool.get('social.case')
        Referral = pool.get('social.case.referral')
        elder = home_elder(living_situation='alone')
        case, = Case.create([{
                    'elder': elder.id, 'case_type': 'shidu',
                    'situation': '独子病故，长期独居，情绪低落'}])
        self.assertTrue(case.number.startswith('SG'))
        with self.assertRaises(UserError):
            Case.assess([case])
        case.assessments = [{
                'physical': 3, 'mental': 1, 'social_support': 2,
                'economic': 3, 'safety': 4, 'needs': '精神慰藉，定期探访'}]
        case.save()
        self.assertEqual(case.risk_level, 'high')
        Case.assess([case])
        with self.assertRaises(UserError):
            Case.plan([case])
        case.plan_summary = '每周探访一次，链接心理咨询'
        case.goals = [{'goal': '情绪稳定'}]
        case.referrals = [{'department': 'health', 'organisation': '社区卫生服务中心',
                'reason': '心理评估'}]
        case.save()
        Case.plan([case])
        Case.start([case])
        case.interventions = [{'kind': 'home_visit', 'minutes': 60,
                'note': '陪伴聊天'}]
        case.closing_reason = 'achieved'
        case.closing_summary = '情绪明显好转'
        case.save()
        with self.assertRaises(UserError) as cm:
            Case.close([case])
        self.assertIn('referral', cm.exception.message)
        referral, = case.referrals
        Referral.accept([referral])
        with self.assertRaises(UserError):
            Referral.complete([referral])
        referral.feedback = '已安排心理咨询师'
        referral.save()
        Referral.complete([referral])
        Case.close([case])
        self.assertEqual(case.state, 'closed')
        self.assertEqual(case.closed_date, dt.date.today())
        # The situation is stored encrypted.
        table = Case.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.situation_enc,
                where=table.id == case.id))
        self.assertNotIn('独居', cursor.fetchone()[0])

    # --- credit ------------------------------------------------------------

    @with_transaction()
    def test_credit_from_complaint_feeds_dispatch(self):
        "An upheld complaint lowers the score and turns dispatch around"
        pool = Pool()
        Order = pool.get('service.order')
        Complaint = pool.get('service.complaint')
        Provider = pool.get('elder.provider')
        Record = pool.get('credit.record')
        elder = home_elder()
        near = active_provider('附近中心', XINCHENG, ['150100'],
            latitude=HOME[0], longitude=HOME[1])
        far = active_provider('远处中心', XINCHENG, ['150100'],
            latitude=HOME[0] + Decimal('0.05'), longitude=HOME[1])
        carer = create_practitioner('王护理', 1, near)
        self.assertEqual((near.credit_score, near.credit_level), (100, 'A'))
        self.assertEqual(near.dispatch_penalty(), 0)

        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.provider, near)
        serve(order, carer, 2)
        complaint, = Complaint.create([{'order': order.id,
                    'description': '护理员迟到且态度差'}])
        Complaint.process([complaint])
        complaint.resolution = '机构道歉'
        complaint.substantiated = True
        complaint.save()
        Complaint.resolve([complaint])
        near = Provider(near.id)
        self.assertEqual((near.credit_score, near.credit_level), (90, 'A'))
        self.assertAlmostEqual(near.dispatch_penalty(), 0.1)
        self.assertEqual(len(Record.search([
                        ('origin', '=', str(complaint))])), 2)  # + carer
        self.assertEqual(carer.credit_score, 90)
        # Idempotent: closing does not record the complaint twice
        Complaint.close([complaint])
        self.assertEqual(Provider(near.id).credit_score, 90)

        # Two more upheld events bring it to C: penalty 0.5 > evaluation
        Record.record_event(near, 'violation', description='未按规定上报数据')
        self.assertEqual(Provider(near.id).credit_level, 'B')
        self.assertEqual(Provider(near.id).credit_score, 75)
        self.assertAlmostEqual(Provider(near.id).dispatch_penalty(), 0.25)
        Record.record_event(near, 'evaluation_failed')
        near = Provider(near.id)
        self.assertEqual((near.credit_score, near.credit_level), (55, 'D'))
        self.assertIn('Complaint upheld', near.credit_explanation)
        self.assertAlmostEqual(near.dispatch_penalty(), 0.8)
        near.penalty = Decimal('0.9')  # the evaluation's own penalty
        near.save()
        self.assertAlmostEqual(near.dispatch_penalty(), 0.9)
        near.penalty = None
        near.save()

        other = create_order(home_elder('其其格', 22))
        Order.submit([other])
        Order.dispatch([other])
        self.assertEqual(other.provider, far)
        scores = {c['provider']: c['scores'] for c in json.loads(
                other.dispatch_explanation)['candidates']}
        self.assertEqual(scores[near.id]['penalty'], 0.8)

        # A record can be revoked with a reason, never deleted or changed
        record, = Record.search([('event', '=', 'violation')])
        with self.assertRaises(UserError):
            Record.delete([record])
        with self.assertRaises(UserError):
            Record.write([record], {'points': -1})
        with self.assertRaises(UserError):
            Record.revoke([record])
        record.revoke_reason = '复核后撤销'
        record.save()
        Record.revoke([record])
        self.assertEqual(Provider(near.id).credit_score, 70)

    @with_transaction()
    def test_confirmed_anomaly_and_reopened_complaint(self):
        "Confirmed anomalies deduct; a complaint taken up again is revoked"
        pool = Pool()
        Order = pool.get('service.order')
        Complaint = pool.get('service.complaint')
        Provider = pool.get('elder.provider')
        elder = home_elder()
        provider = active_provider('中心', XINCHENG, [XINCHENG])
        carer = create_practitioner('王护理', 1, provider)
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        Order.accept([order])
        order.practitioner = carer
        order.save()
        Order.assign([order])
        Order.checkin(order, HOME[0] + Decimal('0.02'), HOME[1], 10, at(0))
        self.assertTrue(order.flagged)
        Order.confirm_anomalies([order])
        self.assertFalse(order.flagged)
        self.assertTrue(order.anomalies[0].confirmed)
        self.assertEqual(Provider(provider.id).credit_score, 95)
        self.assertEqual(carer.credit_score, 95)

        complaint, = Complaint.create([{'order': order.id,
                    'description': '未按时到达', 'substantiated': True,
                    'resolution': '已整改'}])
        Complaint.resolve([complaint])
        self.assertEqual(Provider(provider.id).credit_score, 85)
        Complaint.process([complaint])
        self.assertEqual(Provider(provider.id).credit_score, 95)

    @with_transaction()
    def test_dishonest_list(self):
        "Proposed below the threshold, published, repaired under the rules"
        pool = Pool()
        Listing = pool.get('credit.listing')
        Record = pool.get('credit.record')
        Provider = pool.get('elder.provider')
        provider = active_provider('失信中心', XINCHENG, [XINCHENG])
        past = dt.date.today() - dt.timedelta(days=120)
        for event in ['evaluation_failed', 'evaluation_failed', 'violation']:
            Record.record_event(provider, event, date=past)
        self.assertEqual(Provider(provider.id).credit_score, 45)
        listing, = Listing.cron_update()
        self.assertEqual(listing.provider, provider)
        self.assertEqual(Listing.cron_update(), [])  # once
        Listing.publish([listing])
        provider = Provider(provider.id)
        self.assertTrue(provider.credit_listed)
        self.assertEqual(provider.dispatch_penalty(), 1.0)
        self.assertEqual(Listing.published()[0]['name'], '失信中心')
        with self.assertRaises(UserError):
            Listing.request_repair([listing])  # no rectification
        listing.rectification = '已整改并完成全员培训'
        listing.save()
        Listing.request_repair([listing])
        with self.assertRaises(UserError) as cm:
            Listing.approve_repair([listing])  # too early
        self.assertIn('from', cm.exception.message)
        Listing.write([listing], {
                'publish_date': dt.date.today() - dt.timedelta(days=100)})
        Listing.approve_repair([listing])
        self.assertEqual(listing.state, 'repaired')
        provider = Provider(provider.id)
        self.assertFalse(provider.credit_listed)
        self.assertEqual(provider.credit_score, 55)  # + repair points

    # --- volunteers and time bank -----------------------------------------

    @with_transaction()
    def test_volunteer_id_validated(self):
        "A volunteer's citizen ID is checked to GB 11643"
        pool = Pool()
        Volunteer = pool.get('volunteer.volunteer')
        with self.assertRaises(ValidationError):
            Volunteer.create([{'name': '张三', 'id_number': '150102199001011234',
                        'phone': '13900139000', 'region': region(XINCHENG).id}])
        record = volunteer('张三', 1)
        self.assertEqual(record.birth_date, dt.date(1990, 1, 1))
        with self.assertRaises(SQLConstraintError):
            volunteer('张三', 1)

    @with_transaction()
    def test_volunteer_visit_and_ledger(self):
        "A visit earns hours; transfer and redemption keep the invariants"
        pool = Pool()
        Activity = pool.get('volunteer.activity')
        Signup = pool.get('volunteer.signup')
        Hours = pool.get('volunteer.hours')
        Transfer = pool.get('timebank.transfer')
        Redemption = pool.get('timebank.redemption')
        Account = pool.get('timebank.account')
        Case = pool.get('social.case')
        from ..timebank import ledger_totals
        elder = home_elder(living_situation='alone')
        mother = home_elder('李秀英', 42)
        case, = Case.create([{'elder': elder.id, 'case_type': 'living_alone'}])
        vol = volunteer('赵志愿', 1, family_elders=[('add', [mother.id])])
        activity, = Activity.create([{
                    'name': '探访独居老人', 'kind': 'visit',
                    'region': region(XINCHENG).id, 'elder': elder.id,
                    'case': case.id, 'start': at(0), 'end': at(180)}])
        Activity.open([activity])
        signup = Activity.sign_up(activity, vol)
        with self.assertRaises(UserError):
            Activity.sign_up(activity, vol)
        Signup.check_in(signup, method='qr', when=at(0))
        Signup.check_out(signup, when=at(155))
        hours, = signup.hours
        self.assertEqual(hours.hours, Decimal('2.5'))
        Activity.do([activity])
        self.assertEqual(case.interventions[0].kind, 'volunteer_visit')
        Hours.approve([hours])
        account = Account.of(vol)
        self.assertEqual(account.balance, Decimal('2.5'))
        with self.assertRaises(UserError):
            Account.post(account, 'earn', hours.hours, hours)  # twice

        earn(vol, 4)
        transfer, = Transfer.create([{'volunteer': vol.id,
                    'elder': mother.id, 'hours': Decimal(3)}])
        Transfer.do([transfer])
        with self.assertRaises(UserError):  # not of the family
            Transfer.create([{'volunteer': vol.id,
                        'elder': elder.id, 'hours': Decimal(1)}])
        mother_account = Account.of(mother)
        self.assertEqual((Account(account.id).balance, mother_account.balance),
            (Decimal('3.5'), Decimal(3)))

        order = create_order(mother)
        redemption, = Redemption.create([{'account': mother_account.id,
                    'order': order.id, 'hours': Decimal(2)}])
        Redemption.do([redemption])
        Redemption.do([redemption])  # pressed again: taken once
        self.assertEqual(Account(mother_account.id).balance, Decimal(1))
        with self.assertRaises(UserError):
            Redemption.create([{'account': mother_account.id,
                        'order': order.id, 'hours': Decimal(1)}])
        too_much, = Redemption.create([{'account': mother_account.id,
                    'service': '助浴', 'hours': Decimal(5)}])
        with self.assertRaises(UserError) as cm:
            Redemption.do([too_much])
        self.assertIn('has 1.0 hours', cm.exception.message)
        self.assertEqual(Account(mother_account.id).balance, Decimal(1))

        totals = ledger_totals()
        kinds = totals['by_kind']
        self.assertEqual(kinds['earn'], totals['approved'])
        self.assertEqual(kinds['transfer_in'], -kinds['transfer_out'])
        self.assertEqual(sum(kinds.values()), totals['balances'])
        self.assertEqual(totals['balances'], Decimal('4.5'))
        self.assertEqual((vol.hours_earned, vol.hours_transferred,
                vol.balance), (Decimal('6.5'), Decimal(3), Decimal('3.5')))

        # The database refuses a negative balance even past the ORM
        table = Account.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute('SAVEPOINT negative')
        with self.assertRaises(CheckViolation):
            cursor.execute(*table.update([table.balance], [-1],
                    where=table.id == account.id))
        cursor.execute('ROLLBACK TO SAVEPOINT negative')

    @with_transaction()
    def test_statement_report(self):
        "The statement lists the entries with the running balance"
        pool = Pool()
        Statement = pool.get('volunteer.statement', type='report')
        vol = volunteer('赵志愿', 1)
        earn(vol, 2)
        earn(vol, '1.5')
        statement, = Statement.statements([vol.id])
        self.assertEqual(statement['balance'], '3.5')
        self.assertEqual([e['balance'] for e in statement['entries']],
            ['2.0', '3.5'])
        oext, content, _, name = Statement.execute([vol.id], {})
        self.assertEqual(oext, 'odt')
        self.assertTrue(content)

    # --- customer service --------------------------------------------------

    @with_transaction()
    def test_feedback_and_dispute(self):
        "One queue for all channels; a dispute mediated to an outcome"
        pool = Pool()
        Feedback = pool.get('cs.feedback')
        Dispute = pool.get('cs.dispute')
        Provider = pool.get('elder.provider')
        Order = pool.get('service.order')
        provider = active_provider('中心', XINCHENG, [XINCHENG])
        carer = create_practitioner('王护理', 1, provider)
        elder = home_elder()
        order = create_order(elder)
        Order.submit([order])
        Order.dispatch([order])
        serve(order, carer)
        ids = [Feedback.intake({'channel': channel, 'kind': kind,
                    'region': region(XINCHENG).id, 'subject': subject,
                    'description': subject, 'contact_phone': '13900139000',
                    'provider': provider.id, 'order': order.id})
            for channel, kind, subject in [
                ('web', 'consultation', '如何申请助餐'),
                ('wechat', 'praise', '护理员很细心'),
                ('phone', 'dispute', '损坏家中物品要求赔偿')]]
        with self.assertRaises(UserError):
            Feedback.intake({'nonsense': 1})
        with self.assertRaises(ValidationError):
            Feedback.intake({'channel': 'phone', 'kind': 'request',
                    'region': region(XINCHENG).id, 'subject': 'x',
                    'description': 'x', 'contact_phone': '123'})
        question, praise, claim = Feedback.browse(ids)
        self.assertEqual(Feedback.search_count([]), 3)
        with self.assertRaises(UserError):
            Feedback.answer_button([question])
        question.answer = '请向社区提出申请'
        question.save()
        Feedback.answer_button([question])
        Feedback.close([question])
        Feedback.commend([praise])
        self.assertEqual(Provider(provider.id).credit_score, 100)  # capped
        self.assertEqual(len(Provider(provider.id).credit_records), 1)

        Feedback.to_dispute([claim])
        dispute = claim.dispute
        self.assertEqual(dispute.client_claim, '损坏家中物品要求赔偿')
        Dispute.mediate([dispute])
        dispute.steps = list(dispute.steps) + [{'kind': 'joint',
                'note': '双方到场调解', 'participants': '家属、机构负责人'}]
        dispute.outcome = 'apology'
        dispute.save()
        with self.assertRaises(UserError):  # no outcome text
            Dispute.settle([dispute])
        dispute.outcome = 'compensation'
        dispute.compensation = Decimal(300)
        dispute.outcome_note = '机构赔偿300元'
        dispute.provider_at_fault = True
        dispute.save()
        Dispute.settle([dispute])
        Dispute.close([dispute])
        self.assertEqual(len(dispute.steps), 2)
        self.assertEqual(Provider(provider.id).credit_score, 95)  # 100+5-10


del ModuleTestCase
