# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.elder_bed.exceptions import (
    BedError, BedValidationError, SeparationError)
from trytond.modules.elder_bed.month import bed_month_subsidy
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from .tools import (
    HUIMIN, XINCHENG, as_user, category, create_device, create_user,
    family_bed_policy, home_elder, item, organisations, region)

TODAY = dt.date.today()
DEVICES = [('bed', '卧室床垫下'), ('sos_button', '床头'), ('smoke', '厨房'),
    ('door', '入户门'), ('blood_pressure', '客厅')]


def last_month(day=1):
    return (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=day)


class ElderBedTestCase(ModuleTestCase):
    "Test elder_bed module"
    module = 'elder_bed'
    extras = ['elder_settlement']

    def _setup(self):
        self.policy = family_bed_policy()
        self.designer, self.provider, self.acceptor = organisations()
        xc = region(XINCHENG).id
        self.operator = create_user(
            'bed_op', 'elder_base.group_operator', elder_region=xc)
        self.supervisor = create_user(
            'bed_sup', 'elder_base.group_supervisor', elder_region=xc)
        self.design_user = create_user(
            'bed_design', 'elder_bed.group_bed_designer',
            elder_provider=self.designer.id)
        self.provider_user = create_user(
            'bed_provider', 'elder_base.group_provider_admin',
            elder_provider=self.provider.id)
        self.accept_user = create_user(
            'bed_accept', 'elder_bed.group_bed_acceptor',
            elder_provider=self.acceptor.id)
        self.elder = home_elder(
            categories=[('add', [category('disabled').id])])

    def _live_bed(self, elder=None):
        "A bed walked from the application to the service, by each role"
        pool = Pool()
        Bed = pool.get('bed.bed')
        BedDevice = pool.get('bed.device')
        elder = elder or self.elder
        with as_user(self.operator):
            bed, = Bed.create([{
                        'elder': elder.id, 'channel': 'community',
                        'applicant': '社区工作人员', 'designer': self.designer.id,
                        }])
            Bed.apply([bed])
        with as_user(self.supervisor):
            Bed.approve([bed])
        with as_user(self.design_user):
            bed = Bed(bed.id)
            bed.home_assessment = '卧床，卫生间无扶手，夜间独处。'
            bed.care_level = '3'
            bed.provider = self.provider
            bed.acceptor = self.acceptor
            bed.services = [{
                    'item': item('SC0301').id, 'monday': True,
                    'wednesday': True, 'friday': True,
                    'time_from': dt.time(9), 'time_to': dt.time(10)}]
            bed.devices = [{'category': c, 'place': p} for c, p in DEVICES]
            bed.save()
            Bed.submit_plan([bed])
        devices = {c: create_device(c, 'BED-%s-%s' % (elder.id, c),
                self.provider) for c, _ in DEVICES}
        with as_user(self.provider_user):
            bed = Bed(bed.id)
            Bed.start_setup([bed])
            for line in bed.devices:
                line.device = devices[line.category]
            BedDevice.save(bed.devices)
            Bed.complete_setup([bed])
        with as_user(self.accept_user):
            Bed.go_live([Bed(bed.id)])
        return Bed(bed.id)

    @with_transaction()
    def test_path_to_live(self):
        "Application → eligibility → plan → setup → acceptance → service"
        pool = Pool()
        Order = pool.get('service.order')
        self._setup()
        bed = self._live_bed()
        self.assertEqual(bed.state, 'live')
        self.assertEqual(bed.level, None)  # eligible by category
        self.assertEqual(bed.monthly_subsidy, Decimal('900.00'))
        self.assertEqual(bed.entitlement.benefit, 'family_bed')
        self.assertTrue(bed.verify_token)
        for line in bed.devices:
            self.assertEqual(line.device.state, 'active')
            self.assertEqual(line.device.elder, self.elder)
        plan = bed.services[0].plan
        self.assertEqual(plan.state, 'running')
        self.assertEqual(plan.provider, self.provider)
        orders = Order.search([('plan', '=', plan.id)])
        self.assertTrue(orders)
        self.assertTrue(all(o.requested_date.weekday() in {0, 2, 4}
                for o in orders))
        self.assertEqual([e.to_state for e in bed.events], [
                'applied', 'approved', 'planned', 'setup', 'installed',
                'live'])

    @with_transaction()
    def test_not_eligible(self):
        "Without the family-bed entitlement the application is refused"
        pool = Pool()
        Bed = pool.get('bed.bed')
        self._setup()
        other = home_elder('乌云', serial=31)
        bed, = Bed.create([{'elder': other.id, 'designer': self.designer.id}])
        Bed.apply([bed])
        with as_user(self.supervisor):
            with self.assertRaises(BedError) as cm:
                Bed.approve([bed])
        self.assertIn('乌云', cm.exception.message)
        self.assertEqual(bed.state, 'applied')

    @with_transaction()
    def test_role_separation(self):
        """The service provider never accepts its own setup, whatever its
        groups; the acceptance body cannot be the provider"""
        pool = Pool()
        Bed = pool.get('bed.bed')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        self._setup()
        # the provider's administrator also given the acceptor group
        User.write([self.provider_user], {'groups': [('add', [
                            ModelData.get_id(
                                'elder_bed', 'group_bed_acceptor')])]})
        with self.assertRaises(BedValidationError):
            Bed.create([{'elder': self.elder.id,
                        'designer': self.designer.id,
                        'provider': self.provider.id,
                        'acceptor': self.provider.id}])
        # walk to installed, then the provider tries to accept
        with as_user(self.operator):
            bed, = Bed.create([{'elder': self.elder.id,
                        'designer': self.designer.id}])
            Bed.apply([bed])
        Bed.approve([bed])
        bed.home_assessment = '需要床边呼叫'
        bed.care_level = '2'
        bed.provider = self.provider
        bed.acceptor = self.acceptor
        bed.services = [{'item': item('SC0301').id, 'tuesday': True}]
        bed.devices = [{'category': 'sos_button'}]
        bed.save()
        Bed.submit_plan([bed])
        Bed.start_setup([bed])
        bed.devices[0].device = create_device('sos_button', 'SOS-SEP',
            self.provider)
        bed.devices[0].save()
        Bed.complete_setup([bed])
        with self.assertRaises(BedError):  # nor name another acceptor
            with as_user(self.provider_user):
                Bed.write([Bed(bed.id)], {'acceptor': self.designer.id})
        with self.assertRaises((SeparationError, AccessError)):
            with as_user(self.provider_user):
                Bed.go_live([Bed(bed.id)])
        self.assertEqual(Bed(bed.id).state, 'installed')
        # the provider cannot press the buttons of the other roles
        with self.assertRaises(AccessButtonError):
            with as_user(self.provider_user):
                Bed.approve([Bed(bed.id)])
        with as_user(self.accept_user):
            Bed.go_live([Bed(bed.id)])
        self.assertEqual(Bed(bed.id).state, 'live')

    def _plan_orders(self, bed, states=None):
        Order = Pool().get('service.order')
        domain = [('plan', 'in', [s.plan.id for s in bed.services])]
        if states:
            domain.append(('state', 'in', states))
        return Order.search(domain)

    @with_transaction()
    def test_hospitalisation_suspends(self):
        "Hospitalisation stops the plans and cancels the open orders"
        pool = Pool()
        Bed = pool.get('bed.bed')
        self._setup()
        bed = self._live_bed()
        open_orders = self._plan_orders(bed, ['submitted', 'dispatched'])
        self.assertTrue(open_orders)
        with as_user(self.provider_user):
            with self.assertRaises(AccessButtonError):
                Bed.terminate([bed])
        bed.suspend_reason = 'hospital'
        bed.save()
        with as_user(self.operator):
            Bed.suspend([Bed(bed.id)])
        bed = Bed(bed.id)
        self.assertEqual(bed.state, 'suspended')
        self.assertEqual(bed.services[0].plan.state, 'stopped')
        self.assertFalse(self._plan_orders(
                bed, ['draft', 'submitted', 'dispatched', 'accepted']))
        cancelled = self._plan_orders(bed, ['cancelled'])
        self.assertEqual(len(cancelled), len(open_orders))
        self.assertIn('Hospitalisation', cancelled[0].cancel_reason)
        with as_user(self.operator):
            Bed.resume([bed])
        bed = Bed(bed.id)
        self.assertEqual(bed.state, 'live')
        self.assertEqual(bed.services[0].plan.state, 'running')

    @with_transaction()
    def test_death_terminates(self):
        "The death of the older person terminates the bed and its orders"
        pool = Pool()
        Bed = pool.get('bed.bed')
        Elder = pool.get('elder.elder')
        self._setup()
        bed = self._live_bed()
        self.assertTrue(self._plan_orders(bed, ['submitted', 'dispatched']))
        Elder.deceased([self.elder], TODAY)
        bed = Bed(bed.id)
        self.assertEqual(bed.state, 'terminated')
        self.assertEqual(bed.end_reason, 'deceased')
        self.assertEqual(bed.end_date, TODAY)
        self.assertEqual(bed.services[0].plan.state, 'stopped')
        self.assertFalse(self._plan_orders(
                bed, ['draft', 'submitted', 'dispatched', 'accepted']))
        # the devices wait to be collected (elder_device)
        self.assertTrue(all(l.device.to_collect for l in bed.devices))

    @with_transaction()
    def test_move_away_terminates(self):
        "Moving away terminates the bed; its devices go back to stock"
        pool = Pool()
        Bed = pool.get('bed.bed')
        Elder = pool.get('elder.elder')
        self._setup()
        bed = self._live_bed()
        Elder.move_away([self.elder])
        bed = Bed(bed.id)
        self.assertEqual(bed.state, 'terminated')
        self.assertEqual(bed.end_reason, 'moved')
        self.assertTrue(all(l.device.state == 'in_stock' and not
                l.device.elder for l in bed.devices))
        self.assertEqual(bed.services[0].plan.state, 'stopped')

    @with_transaction()
    def test_access(self):
        "Each organisation sees only its beds; supervisors their region"
        pool = Pool()
        Bed = pool.get('bed.bed')
        Elder = pool.get('elder.elder')
        from trytond.modules.elder_base.tests.tools import create_provider
        self._setup()
        bed = self._live_bed()
        other_designer = create_provider('另一评估机构', XINCHENG)
        strangers = [
            create_user('design2', 'elder_bed.group_bed_designer',
                elder_provider=other_designer.id),
            create_user('accept2', 'elder_bed.group_bed_acceptor',
                elder_provider=other_designer.id),
            create_user('sup_hm', 'elder_base.group_supervisor',
                elder_region=region(HUIMIN).id),
            ]
        for user in strangers:
            with self.subTest(user=user.login), as_user(user):
                self.assertEqual(Bed.search([]), [])
        for user in [self.design_user, self.provider_user, self.accept_user,
                self.supervisor, self.operator]:
            with self.subTest(user=user.login), as_user(user):
                self.assertEqual(Bed.search([]), [bed])
        with as_user(self.accept_user):
            self.assertEqual(Elder.search([]), [self.elder])
        caregiver = create_user('cg', 'elder_base.group_caregiver')
        with as_user(caregiver):
            with self.assertRaises(AccessError):
                Bed.search([])
        with as_user(self.design_user):
            with self.assertRaises(AccessError):
                Bed.create([{'elder': self.elder.id}])

    @with_transaction()
    def test_overdue(self):
        "A stage past its deadline is flagged once and notified"
        pool = Pool()
        Bed = pool.get('bed.bed')
        Notification = pool.get('res.notification')
        self._setup()
        bed, = Bed.create([{'elder': self.elder.id,
                    'designer': self.designer.id}])
        Bed.apply([bed])
        Bed.approve([bed])
        self.assertEqual(bed.deadline, TODAY + dt.timedelta(days=10))
        Bed.write([bed], {'deadline': TODAY - dt.timedelta(days=1)})
        self.assertEqual(Bed.cron_overdue(), [bed])
        self.assertTrue(Bed(bed.id).overdue)
        self.assertEqual(Bed.cron_overdue(), [])
        users = {n.user for n in Notification.search([
                    ('model', '=', 'bed.bed')])}
        self.assertIn(self.supervisor, users)
        self.assertIn(self.design_user, users)
        self.assertNotIn(self.provider_user, users)

    @with_transaction()
    def test_documents(self):
        "Bed plan PDF with the QR address; Excel export with masked IDs"
        import io
        from openpyxl import load_workbook
        from pypdf import PdfReader
        pool = Pool()
        Plan = pool.get('bed.bed.plan_report', type='report')
        Export = pool.get('bed.bed.export', type='report')
        self._setup()
        bed = self._live_bed()
        _, content, _, _ = Plan.execute([bed.id], {})
        text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
        self.assertIn('家庭养老床位建床方案', text)
        self.assertIn('bed/verify/' + bed.verify_token, text)
        self.assertNotIn(self.elder.id_number, text)
        _, content, _, _ = Export.execute([bed.id], {})
        sheet = load_workbook(io.BytesIO(bytes(content))).active
        self.assertEqual(sheet['A2'].value, bed.number)
        self.assertNotEqual(sheet['C2'].value, self.elder.id_number)
        self.assertEqual(sheet['O2'].value, 900.0)

    def test_bed_month_subsidy(self):
        "Pro rata of the days in service, reduced under the compliance floor"
        m = Decimal('900')
        cases = [
            (m, 31, 31, Decimal('1'), Decimal('900.00')),
            (m, 15, 30, Decimal('1'), Decimal('450.00')),
            (m, 10, 31, Decimal('0.8'), Decimal('290.32')),
            (m, 31, 31, Decimal('0.5'), Decimal('450.00')),
            (m, 0, 31, Decimal('1'), Decimal('0.00')),
            (None, 31, 31, Decimal('1'), Decimal('0.00')),
            ]
        for monthly, live, days, compliance, expected in cases:
            with self.subTest(live=live, days=days, compliance=compliance):
                self.assertEqual(bed_month_subsidy(
                        monthly, live, days, compliance, Decimal('0.80')),
                    expected)

    @with_transaction()
    def test_subsidy_paid_through_settlement(self):
        """A month in service: reviewed, approved, settled in the provider's
        statement, invoiced on 5002 and paid"""
        pool = Pool()
        Bed = pool.get('bed.bed')
        Event = pool.get('bed.event')
        Month = pool.get('bed.month')
        Statement = pool.get('settlement.statement')
        from trytond.modules.elder_settlement.tests.tools import company
        self._setup()
        bed = self._live_bed()
        start = last_month(1)
        live, = [e for e in bed.events if e.to_state == 'live']
        Event.write(list(bed.events), {'date': start - dt.timedelta(days=5)})
        Event.write([live], {'date': start})
        Bed.write([bed], {'live_date': start})
        month, = Month.review([bed], start)
        days = (TODAY.replace(day=1) - start).days
        self.assertEqual(month.live_days, days)
        self.assertEqual(month.subsidy_amount, Decimal('900.00'))
        self.assertEqual(month.planned, 0)
        self.assertEqual(month.compliance, Decimal('1'))
        with as_user(self.provider_user):
            with self.assertRaises(AccessButtonError):
                Month.approve([month])
        with as_user(self.supervisor):
            Month.approve([month])
        company()
        statements, priced = Statement.settle(start)
        statement, = [s for s in statements
            if s.provider == self.provider]
        self.assertEqual(statement.subsidy_amount, Decimal('900.00'))
        line, = statement.lines
        self.assertEqual(line.bed_month, month)
        self.assertEqual(line.service_type.code, 'FB')
        again, _ = Statement.settle(start)
        self.assertEqual(len(Statement(statement.id).lines), 1)
        Statement.send([statement])
        Statement.accept([statement])
        Statement.check([statement])
        finance = create_user('fin2', 'elder_base.group_finance',
            'account.group_account')
        from trytond.transaction import Transaction
        with Transaction().set_user(finance.id):
            Statement.approve([statement])
        statement = Statement(statement.id)
        invoice_line, = statement.invoice.lines
        self.assertEqual(invoice_line.account.code, '5002')
        self.assertEqual(statement.invoice.total_amount, Decimal('900.00'))
        Statement.pay([statement])
        self.assertEqual(Month(month.id).settlement_state, 'paid')


del ModuleTestCase
