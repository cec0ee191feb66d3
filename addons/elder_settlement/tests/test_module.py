# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.elder_settlement import pricing
from trytond.modules.elder_settlement.evaluation import (
    STRATEGIES, WeightedStrategy)
from trytond.modules.elder_settlement.exceptions import (
    SeparationOfDutiesError, SettlementError)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import (
    XINCHENG, active_provider, company, create_practitioner, create_user,
    entitle, home_elder, last_month, serve)

D = Decimal
WEIGHTS = {'volume': D(10), 'on_time': D(15), 'duration': D(15),
    'anomaly': D(10), 'satisfaction': D(25), 'complaint': D(10),
    'resolution': D(5), 'certificate': D(10)}


def scheme(kind='weighted', **values):
    return SimpleNamespace(kind=kind, target_visits=30, veto_cap=D('59.00'),
        rec_name='test', weights=lambda: dict(values.get('weights', WEIGHTS)))


def metrics(**values):
    base = {'visits': 30, 'on_time': 30, 'duration_ok': 30,
        'with_anomaly': 0, 'rating': D('5.00'), 'complaints': 0,
        'substantiated': 0, 'resolved': 0, 'unresolved_substantiated': 0,
        'practitioners': 5, 'certified': 5}
    base.update(values)
    return base


class ElderSettlementTestCase(ModuleTestCase):
    "Test elder_settlement module"
    module = 'elder_settlement'

    # --- pricing rules (pure) ---------------------------------------------

    def test_split_table(self):
        "Subsidy and self-pay under money and hour quotas, to the fen"
        cases = [
            # amount, hours, quota yuan, used, quota h, used h -> result
            ('120.00', '1.50', None, '0', None, '0',
                ('0.00', '0.00', '120.00', 'not_entitled')),
            ('120.00', '1.50', '200.00', '0', None, '0',
                ('120.00', '1.50', '0.00', 'full')),
            ('80.00', '2.00', '200.00', '120.00', None, '0',
                ('80.00', '2.00', '0.00', 'full')),  # exactly the quota
            ('20.00', '0.50', '200.00', '200.00', None, '0',
                ('0.00', '0.00', '20.00', 'over_quota')),
            ('120.00', '1.50', '200.00', '80.01', None, '0',
                ('119.99', '1.50', '0.01', 'partial')),  # one fen short
            ('120.00', '1.50', None, '0', '3.00', '2.00',
                ('80.00', '1.00', '40.00', 'partial')),
            ('100.00', '3.00', None, '0', '3.00', '1.00',
                ('66.67', '2.00', '33.33', 'partial')),  # half up
            ('40.00', '1.00', None, '0', '3.00', '2.00',
                ('40.00', '1.00', '0.00', 'full')),  # exactly the hours
            ('40.00', '1.00', None, '0', '3.00', '3.00',
                ('0.00', '0.00', '40.00', 'over_quota')),
            ('120.00', '1.50', '100.00', '0', '3.00', '2.00',
                ('80.00', '1.00', '40.00', 'partial')),  # smaller wins
            ]
        for amount, hours, qa, ua, qh, uh, expected in cases:
            with self.subTest(amount=amount, quota=(qa, ua, qh, uh)):
                result = pricing.split(D(amount), D(hours),
                    monthly_amount=D(qa) if qa else None, used_amount=D(ua),
                    monthly_hours=D(qh) if qh else None, used_hours=D(uh))
                self.assertEqual(result, (D(expected[0]), D(expected[1]),
                        D(expected[2]), expected[3]))
                self.assertEqual(result[0] + result[2], D(amount))

    def test_amount_hours(self):
        "Amounts round half up to the fen; hours from the unit"
        self.assertEqual(pricing.amount_of(D('33.33'), D('1.5')), D('50.00'))
        self.assertEqual(pricing.amount_of(D('0.05'), D('0.5')), D('0.03'))
        self.assertEqual(pricing.hours_of('hour', D('1.75'), 60), D('1.75'))
        self.assertEqual(pricing.hours_of('visit', D('1'), 90), D('1.50'))
        self.assertEqual(pricing.hours_of('item', D('2'), 20), D('0.67'))

    # --- evaluation scoring (pure) -----------------------------------------

    def test_evaluation_scoring_table(self):
        "Weighted scores of the criteria, and the veto"
        cases = [
            ('weighted', metrics(), D('100.00')),
            ('weighted', metrics(visits=15, on_time=12, duration_ok=15,
                    with_anomaly=3, rating=D('4.00'), complaints=1,
                    substantiated=1, resolved=1, practitioners=4,
                    certified=3), D('75.83')),
            ('weighted', metrics(visits=0, on_time=0, duration_ok=0,
                    rating=None, practitioners=0, certified=0), D('70.00')),
            ('weighted_veto', metrics(visits=15, on_time=12, duration_ok=15,
                    with_anomaly=3, rating=D('4.00'), complaints=1,
                    substantiated=1, resolved=0, unresolved_substantiated=1,
                    practitioners=4, certified=3), D('59.00')),
            ('weighted_veto', metrics(), D('100.00')),
            ('weighted', metrics(visits=30, substantiated=3, complaints=3,
                    resolved=3), D('90.00')),  # 10 % substantiated: 0
            ]
        for kind, values, expected in cases:
            with self.subTest(kind=kind, metrics=values):
                score, subs, notes = STRATEGIES[kind](scheme(kind)).score(
                    values)
                self.assertEqual(score, expected)
                self.assertTrue(all(D(0) <= v <= D(1) for v in subs.values()))
        with self.assertRaises(UserError):
            WeightedStrategy(scheme(weights={c: D(0) for c in WEIGHTS})
                ).score(metrics())

    # --- the settlement path -----------------------------------------------

    def _world(self):
        self.company = company()
        self.provider = active_provider(
            '青城居家养老服务中心', XINCHENG, [XINCHENG], capacity=50)
        self.carer = create_practitioner('王护理', 1, self.provider)
        self.elder = home_elder('巴特尔', 12)
        self.other = home_elder('其其格', 13)
        entitle(self.elder, amount=D('200.00'))

    def _serve_month(self):
        day = last_month
        return [
            serve(self.elder, self.carer, 'SC0101', day(3)),  # 120.00
            serve(self.elder, self.carer, 'SC0102', day(5)),  # 2 h, 80.00
            serve(self.elder, self.carer, 'SC0301', day(7)),  # 20.00
            serve(self.other, self.carer, 'SC0301', day(7), hour=14),
            # Far too short: flagged, held out of the settlement
            serve(self.elder, self.carer, 'SC0301', day(9), minutes=5),
            ]

    @with_transaction()
    def test_quota_split_and_held(self):
        "Lines consume the monthly quota in order; flagged ones are held"
        pool = Pool()
        Line = pool.get('settlement.line')
        Statement = pool.get('settlement.statement')
        self._world()
        orders = self._serve_month()
        self.assertTrue(orders[-1].flagged)
        statements, priced = Statement.settle(last_month())
        lines = {l.order: l for l in Line.search([])}
        self.assertEqual(len(lines), 5)
        expected = [
            ('120.00', '120.00', '0.00', 'full'),
            ('80.00', '80.00', '0.00', 'full'),
            ('20.00', '0.00', '20.00', 'over_quota'),
            ('20.00', '0.00', '20.00', 'not_entitled'),
            ]
        for order, (amount, subsidy, self_pay, basis) in zip(
                orders, expected):
            line = lines[order]
            self.assertEqual((line.amount, line.subsidy_amount,
                    line.self_pay_amount, line.basis, line.state),
                (D(amount), D(subsidy), D(self_pay), basis, 'statement'))
        held = lines[orders[-1]]
        self.assertEqual(held.state, 'held')
        self.assertIsNone(held.statement)
        statement, = statements
        self.assertEqual((statement.line_count, statement.amount,
                statement.subsidy_amount, statement.self_pay_amount),
            (4, D('240.00'), D('200.00'), D('40.00')))

    @with_transaction()
    def test_hour_quota(self):
        "An hour quota subsidises part of the service that crosses it"
        pool = Pool()
        Line = pool.get('settlement.line')
        Statement = pool.get('settlement.statement')
        self.company = company()
        provider = active_provider('青城', XINCHENG, [XINCHENG])
        carer = create_practitioner('王护理', 1, provider)
        elder = home_elder('巴特尔', 12)
        entitle(elder, hours=D('3'))
        first = serve(elder, carer, 'SC0102', last_month(2))  # 2 h, 80.00
        second = serve(elder, carer, 'SC0101', last_month(4))  # 1.5 h, 120
        Statement.settle(last_month())
        a, = Line.search([('order', '=', first.id)])
        b, = Line.search([('order', '=', second.id)])
        self.assertEqual((a.subsidy_amount, a.subsidy_hours, a.basis),
            (D('80.00'), D('2.00'), 'full'))
        self.assertEqual((b.subsidy_amount, b.subsidy_hours,
                b.self_pay_amount, b.basis),
            (D('80.00'), D('1.00'), D('40.00'), 'partial'))

    def _users(self):
        self.supervisor = create_user('sup', 'elder_base.group_supervisor',
            elder_region=self.elder.region.parent.id
            if self.elder.region.parent else self.elder.region.id)
        self.finance = create_user('fin', 'elder_base.group_finance',
            elder_region=self.supervisor.elder_region.id)
        self.provider_user = create_user('pa',
            'elder_base.group_provider_admin',
            elder_provider=self.provider.id)

    def _as(self, user):
        transaction = Transaction()
        return transaction.set_user(user.id), transaction.set_context(
            _check_access=True)

    @with_transaction()
    def test_path_to_paid_invoice(self):
        """Statement → provider review → dispute → resolution → two
        approvals → supplier invoice → payment; idempotent runs; late
        records in the next period; balanced entries"""
        pool = Pool()
        Statement = pool.get('settlement.statement')
        Line = pool.get('settlement.line')
        Order = pool.get('service.order')
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Account = pool.get('account.account')
        self._world()
        self._users()
        orders = self._serve_month()
        period = last_month()
        (statement,), _ = Statement.settle(period)
        # A second run changes nothing
        again, priced = Statement.settle(period)
        self.assertEqual((again, priced), ([], []))
        self.assertEqual(Statement.search([], count=True), 1)
        self.assertEqual(Line.search([], count=True), 5)
        self.assertEqual(Statement(statement.id).subsidy_amount,
            D('200.00'))

        Statement.send([statement])
        # The provider disputes: the short visit is missing
        statement.dispute_reason = '9日的探访未结算'
        statement.save()
        Statement.dispute([statement])
        self.assertEqual(statement.state, 'disputed')
        with self.assertRaises(SettlementError):
            Statement.reopen([statement])  # no resolution
        statement.resolution = '异常经核实：服务时长不足，不予结算；其余无误'
        statement.save()
        Statement.reopen([statement])
        self.assertEqual(statement.state, 'draft')
        Statement.send([statement])
        Statement.accept([statement])

        # Separation of duties: the supervisor may not approve twice
        with Transaction().set_user(self.supervisor.id):
            Statement.check([statement])
            with self.assertRaises(SeparationOfDutiesError):
                Statement.approve([statement])
        self.assertEqual(statement.state, 'checked')
        with Transaction().set_user(self.finance.id), \
                Transaction().set_context(company=self.company.id):
            Statement.approve([statement])
        statement = Statement(statement.id)
        self.assertEqual(statement.state, 'approved')
        invoice = statement.invoice
        self.assertEqual((invoice.type, invoice.state, invoice.party,
                invoice.total_amount, invoice.reference),
            ('in', 'posted', self.provider.party, D('200.00'),
                statement.number))
        line, = invoice.lines
        self.assertEqual((line.account.code, line.amount),
            ('500101', D('200.00')))

        with Transaction().set_user(self.finance.id), \
                Transaction().set_context(company=self.company.id):
            Statement.pay([statement])
        statement = Statement(statement.id)
        invoice = Invoice(invoice.id)
        self.assertEqual((statement.state, invoice.state),
            ('paid', 'paid'))

        # Every move balances; the provider is paid in full from 1011
        moves = Move.search([])
        self.assertTrue(moves)
        for move in moves:
            self.assertEqual(move.state, 'posted')
            self.assertEqual(sum(l.debit for l in move.lines),
                sum(l.credit for l in move.lines))
        with Transaction().set_context(company=self.company.id):
            by_code = {a.code: a for a in Account.search([
                        ('code', 'in', ['500101', '2307', '1011'])])}
            self.assertEqual(by_code['500101'].balance, D('200.00'))
            self.assertEqual(by_code['2307'].balance, D('0.00'))
            self.assertEqual(by_code['1011'].balance, D('-200.00'))
        self.assertTrue(all(l.reconciliation for l in MoveLine.search([
                        ('account', '=', by_code['2307'].id)])))

        # The flagged visit is reviewed after the statement was sent: it
        # goes to the next period; its month's quota is already used up.
        Order.review([orders[-1]])
        again, priced = Statement.settle(period)
        self.assertEqual(again, [])
        late, = Line.search([('order', '=', orders[-1].id)])
        self.assertEqual((late.state, late.basis, late.self_pay_amount),
            ('pending', 'over_quota', D('20.00')))
        next_period = (period.replace(day=28) + dt.timedelta(days=4)
            ).replace(day=1)
        (next_statement,), _ = Statement.settle(next_period)
        self.assertEqual(next_statement.period, next_period)
        self.assertEqual(Line(late.id).statement, next_statement)

    @with_transaction()
    def test_access(self):
        """Finance sees money, not health; a provider sees only its own
        statements and may only write the dispute reason"""
        pool = Pool()
        Statement = pool.get('settlement.statement')
        Elder = pool.get('elder.elder')
        Ledger = pool.get('settlement.ledger')
        self._world()
        self._users()
        self.elder.health_summary = '高血压'
        self.elder.save()
        rival = active_provider('赛罕区康乐养老服务有限公司', XINCHENG,
            [XINCHENG], credit_code=None)
        rival_carer = create_practitioner('李护理', 2, rival)
        self._serve_month()
        serve(self.other, rival_carer, 'SC0301', last_month(11))
        statements, _ = Statement.settle(last_month())
        self.assertEqual(len(statements), 2)
        own = [s for s in statements if s.provider == self.provider][0]
        other = [s for s in statements if s.provider == rival][0]
        Statement.send(statements)

        with Transaction().set_user(self.finance.id), \
                Transaction().set_context(_check_access=True):
            elder, = Elder.search([('id', '=', self.elder.id)])
            self.assertEqual(elder.name, '巴特尔')
            with self.assertRaises(AccessError):
                Elder.read([self.elder.id], ['health_summary'])
            with self.assertRaises(AccessError):
                Elder.read([self.elder.id], ['chronic_diseases'])
            self.assertEqual(
                Statement.search([], count=True), 2)
            rows = Ledger.search([])
            self.assertEqual(sum(r.subsidy_amount for r in rows),
                D('200.00'))
            with self.assertRaises(AccessError):
                Pool().get('elder.assessment').search([])

        with Transaction().set_user(self.provider_user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Statement.search([]), [Statement(own.id)])
            with self.assertRaises(AccessError):
                Statement.read([other.id], ['number'])
            with self.assertRaises(SettlementError):
                Statement.write([Statement(own.id)], {'period': dt.date.today()})
            Statement.write([Statement(own.id)], {'dispute_reason': '有误'})
            Statement.dispute([Statement(own.id)])
            # A provider cannot approve
            with self.assertRaises(AccessButtonError):
                Statement.check([Statement(own.id)])

    @with_transaction()
    def test_evaluation_feeds_dispatch(self):
        """A failing grade writes the dispatch penalty, opens a
        rectification task, and dispatch then prefers the other provider"""
        pool = Pool()
        Scheme = pool.get('provider.evaluation.scheme')
        Campaign = pool.get('provider.evaluation.campaign')
        Order = pool.get('service.order')
        Rectification = pool.get('provider.rectification')
        Region = pool.get('elder.region')
        company()
        poor = active_provider('甲机构', XINCHENG, [XINCHENG], capacity=50)
        good = active_provider('乙机构', XINCHENG, [XINCHENG], capacity=50)
        poor_carer = create_practitioner('王护理', 1, poor)
        good_carer = create_practitioner('李护理', 2, good)
        elder = home_elder('巴特尔', 12)
        for day in (2, 4, 6):
            serve(elder, poor_carer, 'SC0301', last_month(day), rating=1)
            serve(elder, good_carer, 'SC0301', last_month(day), hour=14,
                rating=5)
        scheme, = Scheme.create([{
                    'name': '满意度', 'kind': 'weighted', 'target_visits': 3,
                    'duration_ratio': D('0.9'),
                    'weight_satisfaction': D(1),
                    'grades': [('create', [
                                {'code': 'A', 'name': '合格', 'min_score': 60,
                                    'penalty': 0, 'action': 'none',
                                    'passing': True},
                                {'code': 'D', 'name': '不合格',
                                    'min_score': 0, 'penalty': D('0.6'),
                                    'action': 'rectification'},
                                ])],
                    }])
        region, = Region.search([('code', '=', XINCHENG)])
        campaign, = Campaign.create([{
                    'name': '2026 一季度', 'scheme': scheme.id,
                    'start_date': last_month(1),
                    'end_date': last_month(28), 'region': region.id}])
        Campaign.compute([campaign])
        ranking = [(e.rank, e.provider, e.score, e.grade.code)
            for e in campaign.evaluations]
        self.assertEqual(sorted(ranking), [
                (1, good, D('100.00'), 'A'), (2, poor, D('20.00'), 'D')])
        Campaign.apply([campaign])
        self.assertEqual(poor.penalty, D('0.60'))
        self.assertEqual(good.penalty, D('0'))
        task, = Rectification.search([('provider', '=', poor.id)])
        self.assertEqual((task.kind, task.state), ('rectification', 'open'))

        # Dispatch now prefers the good provider for a new order
        from trytond.modules.elder_service.tests.tools import create_order
        order = create_order(elder, 'SC0301')
        Order.submit([order])
        Order.dispatch([order])
        self.assertEqual(order.provider, good)

    @with_transaction()
    def test_evaluation_report_pdf(self):
        "The evaluation report is a PDF with the CJK font embedded"
        pool = Pool()
        Campaign = pool.get('provider.evaluation.campaign')
        Region = pool.get('elder.region')
        ModelData = pool.get('ir.model.data')
        Report = pool.get('provider.evaluation.report', type='report')
        company()
        provider = active_provider('青城居家养老服务中心', XINCHENG, [XINCHENG])
        carer = create_practitioner('王护理', 1, provider)
        serve(home_elder('巴特尔', 12), carer, 'SC0301', last_month(3))
        region, = Region.search([('code', '=', XINCHENG)])
        campaign, = Campaign.create([{
                    'name': '月度考核', 'scheme': ModelData.get_id(
                        'elder_settlement', 'evaluation_scheme_default'),
                    'start_date': last_month(1),
                    'end_date': last_month(28), 'region': region.id}])
        Campaign.compute([campaign])
        evaluation, = campaign.evaluations
        oext, content, _, name = Report.execute([evaluation.id], {})
        self.assertEqual(oext, 'pdf')
        self.assertTrue(content.startswith(b'%PDF'))
        self.assertIn(b'WenQuanYiZenHei', content)
        self.assertIn(b'FontFile2', content)  # embedded TrueType subset

    @with_transaction()
    def test_fund_monitoring(self):
        """Budget alert, a practitioner's implausible volume and an older
        person's quota exhausted early three months running"""
        pool = Pool()
        Budget = pool.get('settlement.budget')
        Alert = pool.get('settlement.alert')
        Config = pool.get('settlement.configuration')
        Region = pool.get('elder.region')
        Statement = pool.get('settlement.statement')
        self._world()
        config = Config(1)
        config.daily_visits = 2
        config.quota_early_months = 1
        config.save()
        region, = Region.search([('code', '=', XINCHENG)])
        budget, = Budget.create([{'year': last_month().year,
                    'region': region.id, 'amount': D('210.00')}])
        self._serve_month()
        serve(self.other, self.carer, 'SC0301', last_month(7), hour=17)
        Statement.settle(last_month())
        self.assertEqual(budget.spent, D('200.00'))
        self.assertTrue(budget.alert)
        alerts = Alert.detect(last_month())
        kinds = sorted(a.kind for a in alerts)
        self.assertEqual(kinds,
            ['budget', 'practitioner_volume', 'quota_early'])
        quota, = [a for a in alerts if a.kind == 'quota_early']
        self.assertEqual(quota.elder, self.elder)
        self.assertEqual(Alert.detect(last_month()), [])  # flagged once
        months = pool.get('settlement.budget.month').search([
                ('budget', '=', budget.id)])
        self.assertEqual(len(months), 12)
        self.assertEqual(sum(m.spent for m in months), D('200.00'))


del ModuleTestCase
