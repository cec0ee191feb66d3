# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import json
import os
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.elder_assess.exceptions import (
    AssessmentError, InvalidOptionError, SeparationError)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import (
    HOHHOT, HUIMIN, XINCHENG, an_elder, answers_for, assessment_agency,
    category, create_assessor, create_user, region)

TODAY = dt.date.today()


def as_user(user):
    "Run as the user through the client's checks (model access, rules)"
    transaction = Transaction()

    class _Ctx:
        def __enter__(self):
            self.u = transaction.set_user(user.id)
            self.c = transaction.set_context(_check_access=True)
            self.u.__enter__()
            self.c.__enter__()

        def __exit__(self, *exc):
            self.c.__exit__(*exc)
            self.u.__exit__(*exc)
    return _Ctx()


class ElderAssessTestCase(ModuleTestCase):
    "Test elder_assess module"
    module = 'elder_assess'

    # --- helpers ----------------------------------------------------------

    def _team(self):
        "An assessment agency with a certified and an uncertified assessor"
        agency = assessment_agency()
        self.assessor_user = create_user(
            'assessor1', 'elder_assess.group_assessor',
            elder_region=region(XINCHENG).id)
        self.assessor2_user = create_user(
            'assessor2', 'elder_assess.group_assessor',
            elder_region=region(XINCHENG).id)
        self.reviewer_user = create_user(
            'reviewer', 'elder_assess.group_assess_reviewer',
            elder_region=region(XINCHENG).id)
        self.operator_user = create_user(
            'assess_op', 'elder_assess.group_assess_operator',
            elder_region=region(XINCHENG).id)
        self.a1 = create_assessor(
            '王评估', 1, agency, certified=True, user=self.assessor_user)
        self.a2 = create_assessor(
            '李评估', 2, agency, certified=False, user=self.assessor2_user)
        return agency

    def _assessment(self, elder, total=90, **values):
        Assessment = Pool().get('elder.assessment')
        assessment, = Assessment.create([{
                    'elder': elder.id,
                    'reason': 'first',
                    'channel': 'community',
                    'scheduled_date': TODAY,
                    'assessor1': self.a1.id,
                    'assessor2': self.a2.id,
                    **answers_for(total),
                    **values}])
        return assessment

    def _effective(self, elder, total=90, **values):
        "Walk an assessment to effective (objection period 0 days)"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        Configuration = pool.get('elder.assessment.configuration')
        config = Configuration(1)
        config.objection_days = 0
        config.save()
        assessment = self._assessment(elder, total, **values)
        Assessment.schedule([assessment])
        transaction = Transaction()
        with transaction.set_user(self.assessor_user.id):
            Assessment.complete([assessment])
        with transaction.set_user(self.reviewer_user.id):
            Assessment.review([assessment])
        Assessment.publish([assessment])
        Assessment.make_effective([assessment])
        self.assertEqual(assessment.state, 'effective')
        return assessment

    def _policies(self):
        "The issue's example policies for Hohhot"
        Policy = Pool().get('elder.entitlement.policy')
        return Policy.create([{
                    'name': '居家服务补贴', 'region': region(HOHHOT).id,
                    'start_date': dt.date(2020, 1, 1), 'sequence': 10,
                    'benefit': 'home_service_subsidy',
                    'min_level': '2', 'max_level': '4', 'min_age': 80,
                    'categories': [('add', [
                                category('low_income').id,
                                category('extreme_poverty').id])],
                    'monthly_amount': Decimal('300.00'),
                    'monthly_hours': Decimal('10'),
                    }, {
                    'name': '家庭养老床位', 'region': region(HOHHOT).id,
                    'start_date': dt.date(2020, 1, 1), 'sequence': 20,
                    'benefit': 'family_bed', 'min_level': '3',
                    'monthly_amount': Decimal('500.00'),
                    }])

    # --- results computed through the model ------------------------------

    @with_transaction()
    def test_results_computed(self):
        "Scores, levels and adjustments are computed, stored on completion"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        self._team()
        elder = an_elder()
        assessment = self._assessment(
            elder, 70, risk_falls=1, risk_choking=1,
            diagnoses=[('create', [{'code': 'f01.1', 'name': '血管性痴呆'}])])
        self.assertEqual(assessment.total_score, 70)
        self.assertEqual(assessment.preliminary_level, '1')
        self.assertEqual(assessment.final_level, '3')
        self.assertEqual(assessment.risk_events, 2)
        self.assertEqual(len(assessment.adjustments.splitlines()), 2)
        self.assertIsNone(assessment.level)
        Assessment.schedule([assessment])
        Assessment.complete([assessment])
        self.assertEqual(assessment.level, '3')
        self.assertEqual(assessment.total, 70)
        self.assertEqual(assessment.adjustment_codes, 'dementia,risk_events')
        self.assertEqual(assessment.diagnoses[0].code, 'F01.1')
        self.assertEqual(assessment.diagnoses[0].group, 'dementia')
        # a typed result is overwritten by nothing: the fields are readonly
        # functions; the stored level follows the answers at completion
        coma = self._assessment(an_elder('乌云', 13), 90, coma=True)
        self.assertEqual(coma.final_level, '4')

    @with_transaction()
    def test_invalid_option_rejected(self):
        "An answer outside the item's options is refused, nothing changes"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        self._team()
        assessment = self._assessment(an_elder(), 90)
        for field, value in [('b1_eating', '5'), ('b2_stairs', '4'),
                ('b3_aggression', '2')]:
            with self.subTest(field=field, value=value):
                with self.assertRaises(InvalidOptionError) as cm:
                    Assessment.write([assessment], {field: value})
                self.assertIn(value, cm.exception.message)
        with self.assertRaises(InvalidOptionError):
            self._assessment(an_elder('乌云', 13), 90, b4_vision='3')
        # in the user's language
        zh, = Lang.search([('code', '=', 'zh_CN')])
        Lang.write([zh], {'translatable': True})
        Translation.translation_import('zh_CN', 'elder_assess', os.path.join(
                os.path.dirname(__file__), '..', 'locale', 'zh_CN.po'))
        with Transaction().set_context(language='zh_CN'):
            with self.assertRaises(InvalidOptionError) as cm:
                Assessment.write([assessment], {'b1_eating': '5'})
        self.assertIn('不是 GB/T 42195', cm.exception.message)
        self.assertIn('进食', cm.exception.message)

    @with_transaction()
    def test_invalid_icd10(self):
        "A diagnosis that is not an ICD-10 code is refused"
        self._team()
        with self.assertRaises(InvalidOptionError):
            self._assessment(an_elder(), 90, diagnoses=[
                    ('create', [{'code': '痴呆'}])])

    # --- workflow ---------------------------------------------------------

    @with_transaction()
    def test_complete_needs_items_and_assessors(self):
        "Completion needs every item, two assessors, one qualified"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        agency = self._team()
        elder = an_elder()
        assessment = self._assessment(elder, 90, b4_social=None)
        Assessment.schedule([assessment])
        with self.assertRaises(AssessmentError) as cm:
            Assessment.complete([assessment])
        self.assertIn('Social interaction', cm.exception.message)
        self.assertEqual(assessment.state, 'scheduled')
        assessment.b4_social = '4'
        uncertified = create_assessor('赵评估', 3, agency, certified=False)
        assessment.assessor1 = uncertified
        assessment.save()
        with self.assertRaises(AssessmentError):
            Assessment.complete([assessment])
        expired = create_assessor(
            '钱评估', 4, agency, expiry=TODAY - dt.timedelta(days=1))
        assessment.assessor1 = expired
        assessment.save()
        with self.assertRaises(AssessmentError):
            Assessment.complete([assessment])
        assessment.assessor1 = self.a1
        assessment.save()
        Assessment.complete([assessment])
        self.assertEqual(assessment.state, 'assessed')
        # the answers are closed after completion
        with self.assertRaises(AssessmentError):
            Pool().get('elder.assessment.diagnosis').create([{
                        'assessment': assessment.id, 'code': 'I10'}])

    @with_transaction()
    def test_assessor_cannot_review_own(self):
        "Separation of duties: an assessor of the assessment cannot review"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        self._team()
        assessment = self._assessment(an_elder(), 60)
        Assessment.schedule([assessment])
        with as_user(self.assessor_user):
            Assessment.complete([assessment])
        self.assertEqual(assessment.assessed_by, self.assessor_user)
        # give the assessor the reviewer role too: still refused
        User.write([self.assessor_user], {'groups': [('add', [
                            ModelData.get_id(
                                'elder_assess', 'group_assess_reviewer')])]})
        for user in [self.assessor_user, self.assessor2_user]:
            with self.subTest(user=user.login):
                with self.assertRaises((SeparationError, AccessButtonError)):
                    with as_user(user):
                        Assessment.review([assessment])
        self.assertEqual(assessment.state, 'assessed')
        with as_user(self.reviewer_user):
            Assessment.review([assessment])
        self.assertEqual(assessment.state, 'reviewed')
        self.assertEqual(assessment.reviewed_by, self.reviewer_user)

    @with_transaction()
    def test_buttons_by_group(self):
        "Each step is reserved to its group"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        self._team()
        assessment = self._assessment(an_elder(), 60)
        with as_user(self.assessor_user):
            with self.assertRaises(AccessButtonError):
                Assessment.schedule([assessment])
        with as_user(self.operator_user):
            Assessment.schedule([assessment])
            with self.assertRaises(AccessButtonError):
                Assessment.complete([assessment])
        with as_user(self.reviewer_user):
            with self.assertRaises(AccessButtonError):
                Assessment.complete([assessment])

    @with_transaction()
    def test_region_scope(self):
        "Assessment staff see the assessments of their region only"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        self._team()
        mine = self._assessment(an_elder(), 60)
        other = self._assessment(
            an_elder('其其格', 20, region_code=HUIMIN), 60,
            assessor1=None, assessor2=None)
        with as_user(self.reviewer_user):
            found = Assessment.search([])
            self.assertEqual(found, [mine])
            with self.assertRaises(AccessError):
                Assessment.read([other.id], ['number'])
        # an assessor from elsewhere sees what is assigned to them
        outsider = create_user('far', 'elder_assess.group_assessor',
            elder_region=region(HUIMIN).id)
        with as_user(outsider):
            self.assertEqual(Assessment.search([]), [other])
        self.a2.user = outsider
        self.a2.save()
        with as_user(outsider):
            self.assertEqual(
                set(Assessment.search([])), {mine, other})
        nobody = create_user('nobody')
        with as_user(nobody):
            with self.assertRaises(AccessError):
                Assessment.search([])

    @with_transaction()
    def test_objection_period_and_reassessment(self):
        "Published for N days; an upheld objection requests a re-assessment"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        Objection = pool.get('elder.assessment.objection')
        Configuration = pool.get('elder.assessment.configuration')
        self._team()
        config = Configuration(1)
        config.objection_days = 7
        config.save()
        elder = an_elder()
        assessment = self._assessment(elder, 60)
        Assessment.schedule([assessment])
        Assessment.complete([assessment])
        with Transaction().set_user(self.reviewer_user.id):
            Assessment.review([assessment])
        Assessment.publish([assessment])
        self.assertEqual(
            assessment.effective_on, TODAY + dt.timedelta(days=7))
        self.assertTrue(assessment.verify_token)
        with self.assertRaises(AssessmentError):
            Assessment.make_effective([assessment])
        self.assertEqual(Assessment.take_effect_due(), [])
        # the scheduler makes it effective once the period is over ...
        objection, = Objection.create([{
                    'assessment': assessment.id, 'raised_by': '家属 巴图',
                    'reason': '认为老人不能独立行走'}])
        # ... unless an objection is open
        self.assertEqual(
            Assessment.take_effect_due(TODAY + dt.timedelta(days=7)), [])
        Assessment.uphold_objection([assessment])
        self.assertEqual(assessment.state, 'objected')
        self.assertEqual(Objection(objection.id).state, 'upheld')
        request, = assessment.reassessments
        self.assertEqual(request.reason, 'reassessment')
        self.assertEqual(request.state, 'requested')

    @with_transaction()
    def test_effective_supersedes_and_due_requests(self):
        "The latest result is in effect; due dates create requests"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        Elder = pool.get('elder.elder')
        self._team()
        elder = an_elder()
        first = self._effective(elder, 90)
        self.assertEqual(elder.assessment_level, '0')
        self.assertEqual(first.next_due_date, TODAY.replace(
                year=TODAY.year + 1) if not (TODAY.month == 2
                and TODAY.day == 29) else first.next_due_date)
        second = self._effective(elder, 50)
        self.assertEqual(Assessment(first.id).state, 'superseded')
        self.assertEqual(Elder(elder.id).assessment, second)
        self.assertEqual(Elder(elder.id).assessment_level, '2')
        # nothing due yet
        self.assertEqual(Assessment.create_due_requests(), [])
        # periodic: within the lead time of the due date
        routine, = Assessment.create_due_requests(
            second.next_due_date - dt.timedelta(days=10))
        self.assertEqual(
            (routine.reason, routine.channel, routine.origin),
            ('routine', 'automatic', second))
        # an open request: nothing more
        self.assertEqual(Assessment.create_due_requests(
                second.next_due_date), [])
        Assessment.cancel([routine])
        # change of condition
        other = an_elder('乌云', 13)
        Elder.report_condition_change([other])
        immediate, = Assessment.create_due_requests()
        self.assertEqual((immediate.elder, immediate.reason),
            (other, 'immediate'))
        self.assertIsNone(Elder(other.id).assessment_condition_date)

    # --- entitlements -----------------------------------------------------

    @with_transaction()
    def test_entitlement_on_effective_assessment(self):
        "免申即享: the assessment taking effect grants the entitlement"
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        self._team()
        self._policies()
        elder = an_elder(birth='19400315')  # over 80
        self.assertEqual(Entitlement.active(elder, TODAY), [])
        assessment = self._effective(elder, 50)  # level 2
        entitlement, = Entitlement.active(elder, TODAY)
        self.assertEqual(entitlement.benefit, 'home_service_subsidy')
        self.assertEqual(entitlement.monthly_amount, Decimal('300.00'))
        self.assertEqual(entitlement.monthly_hours, Decimal('10'))
        self.assertEqual(entitlement.assessment, assessment)
        self.assertEqual(entitlement.start_date, TODAY)
        facts = json.loads(entitlement.facts)
        self.assertEqual(facts['level'], '2')
        self.assertEqual(facts['policy']['name'], '居家服务补贴')
        self.assertEqual(facts['checks'], {'level': True, 'age': True,
                'categories': False})
        # worse: level 3 adds the family bed and renews the subsidy
        worse = self._effective(elder, 40)
        active = Entitlement.active(elder, TODAY)
        self.assertEqual({e.benefit for e in active},
            {'home_service_subsidy', 'family_bed'})
        self.assertTrue(all(e.assessment == worse for e in active))
        self.assertEqual(Entitlement(entitlement.id).end_reason, 'changed')
        self.assertEqual(Entitlement.active(
                elder, TODAY, 'family_bed')[0].monthly_amount,
            Decimal('500.00'))
        # better: level 1 ends both
        self._effective(elder, 80)
        self.assertEqual(Entitlement.active(elder, TODAY), [])
        ended = Entitlement.search([('elder', '=', elder.id),
                ('end_reason', '=', 'not_eligible')])
        self.assertEqual(len(ended), 2)

    @with_transaction()
    def test_entitlement_on_category_change(self):
        "Under 80 with level 2: eligible by 低保 only while in the category"
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        Elder = pool.get('elder.elder')
        self._team()
        self._policies()
        elder = an_elder(birth='19600101')
        self._effective(elder, 50)
        self.assertEqual(Entitlement.active(elder, TODAY), [])
        Elder.write([elder], {'categories': [
                    ('add', [category('low_income').id])]})
        entitlement, = Entitlement.active(elder, TODAY)
        self.assertEqual(
            json.loads(entitlement.facts)['categories'], ['low_income'])
        Elder.write([elder], {'categories': [
                    ('remove', [category('low_income').id])]})
        self.assertEqual(Entitlement.active(elder, TODAY), [])
        self.assertEqual(Entitlement(entitlement.id).end_reason,
            'not_eligible')

    @with_transaction()
    def test_entitlement_on_death_and_move(self):
        "Death and moving away end the entitlements"
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        Elder = pool.get('elder.elder')
        self._team()
        self._policies()
        elder = an_elder()
        self._effective(elder, 40)
        self.assertEqual(len(Entitlement.active(elder, TODAY)), 2)
        death = TODAY - dt.timedelta(days=1)
        Elder.deceased([elder], death)
        self.assertEqual(Entitlement.active(elder, TODAY), [])
        for entitlement in Entitlement.active(elder, death):
            self.assertEqual(
                (entitlement.state, entitlement.end_reason,
                    entitlement.end_date), ('ended', 'deceased', death))
        mover = an_elder('乌云', 13)
        self._effective(mover, 40)
        Elder.move_away([mover])
        self.assertEqual(Entitlement.active(
                mover, TODAY + dt.timedelta(days=1)), [])
        self.assertEqual({e.end_reason for e in Entitlement.search(
                    [('elder', '=', mover.id)])}, {'moved'})
        Elder.reactivate([mover])
        self.assertEqual(len(Entitlement.active(mover, TODAY)), 2)

    @with_transaction()
    def test_entitlement_cron(self):
        "The daily run follows birthdays and policy periods"
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        Policy = pool.get('elder.entitlement.policy')
        Elder = pool.get('elder.elder')
        self._team()
        policy, _ = self._policies()
        birthday = dt.date(TODAY.year - 80, 1, 1) + dt.timedelta(days=400)
        elder = an_elder(birth=birthday.strftime('%Y%m%d'))
        self._effective(elder, 50)
        self.assertLess(Elder(elder.id).age, 80)
        self.assertEqual(Entitlement.active(elder, TODAY), [])
        turns_80 = dt.date(birthday.year + 80, birthday.month, birthday.day)
        Entitlement.evaluate_all(turns_80 - dt.timedelta(days=1))
        self.assertEqual(Entitlement.active(elder, turns_80), [])
        Entitlement.evaluate_all(turns_80)
        entitlement, = Entitlement.active(elder, turns_80)
        self.assertEqual(entitlement.start_date, turns_80)
        # running again changes nothing
        self.assertEqual(Entitlement.evaluate_all(turns_80), [])
        # the policy ends
        policy.end_date = turns_80 + dt.timedelta(days=30)
        policy.save()
        Entitlement.evaluate_all(turns_80 + dt.timedelta(days=31))
        entitlement = Entitlement(entitlement.id)
        self.assertEqual((entitlement.end_reason, entitlement.end_date),
            ('policy_ended', policy.end_date))
        self.assertEqual(Policy.search([('id', '=', policy.id)]), [policy])

    @with_transaction()
    def test_policy_region_subtree(self):
        "A district policy does not reach the neighbouring district"
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        Policy = pool.get('elder.entitlement.policy')
        self._team()
        Policy.create([{
                    'name': '回民区高龄补贴', 'region': region(HUIMIN).id,
                    'start_date': dt.date(2020, 1, 1),
                    'benefit': 'age_allowance', 'min_age': 80,
                    'monthly_amount': Decimal('100'),
                    }])
        xc = an_elder()
        hm = an_elder('其其格', 20, region_code=HUIMIN)
        Entitlement.evaluate([xc, hm])
        self.assertEqual(Entitlement.active(xc, TODAY), [])
        self.assertEqual(len(Entitlement.active(hm, TODAY)), 1)

    @with_transaction()
    def test_entitlement_read_only(self):
        "Nobody types an entitlement; operators read those of their region"
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        self._team()
        self._policies()
        elder = an_elder()
        self._effective(elder, 40)
        with as_user(self.operator_user):
            self.assertEqual(len(Entitlement.search([])), 2)
            with self.assertRaises(AccessError):
                Entitlement.create([{
                            'elder': elder.id, 'benefit': 'family_bed',
                            'start_date': TODAY}])
        other = create_user('op_hm', 'elder_assess.group_assess_operator',
            elder_region=region(HUIMIN).id)
        with as_user(other):
            self.assertEqual(Entitlement.search([]), [])

    # --- report and verification ------------------------------------------

    @with_transaction()
    def test_report_pdf(self):
        "The report is a PDF whose text extracts in Chinese"
        pool = Pool()
        Report = pool.get('elder.assessment.report', type='report')
        self._team()
        elder = an_elder()
        assessment = self._effective(
            elder, 40, diagnoses=[('create', [{'code': 'F00'}])])
        oext, content, _, name = Report.execute([assessment.id], {})
        self.assertEqual(oext, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))
        try:
            import pypdf
        except ImportError:
            self.skipTest('pypdf is not installed')
        import io
        text = pypdf.PdfReader(io.BytesIO(bytes(content))).pages[0]\
            .extract_text()
        text = text.replace(' ', '')
        for expected in ['老年人能力评估报告', '自理能力', '基础运动能力',
                '精神状态', '感知觉与社会参与', '老年人能力总得分',
                '能力重度受损（重度失能）', '能力完全丧失（完全失能）',
                '王评估', '李评估', '巴特尔', '扫描右侧二维码',
                assessment.verify_token]:
            self.assertIn(expected, text)
        self.assertNotIn(elder.id_number, text)


del ModuleTestCase
