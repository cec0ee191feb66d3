# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import io
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.elder_bed.tests.tools import (
    XINCHENG, HUIMIN, as_user, category, create_user, family_bed_policy,
    home_elder, organisations, region)
from trytond.modules.elder_renovation.exceptions import (
    RenovationError, RenovationValidationError, SeparationError)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

TODAY = dt.date.today()
PLAN = [('GB01', '卫生间马桶旁', 2), ('AS01', '卫生间地面', 4),
    ('TS01', '卫生间', 1), ('LT01', '卧室至卫生间', 3)]
# 2 × 180 + 4 × 120 + 260 + 3 × 60 = 1280


def catalogue(code):
    Item = Pool().get('renovation.item')
    item, = Item.search([('code', '=', code)])
    return item


class ElderRenovationTestCase(ModuleTestCase):
    "Test elder_renovation module"
    module = 'elder_renovation'
    extras = ['elder_settlement']

    def _setup(self):
        family_bed_policy(amount=None, benefit='renovation',
            categories=('alone', 'disabled'))
        self.designer, self.constructor, self.acceptor = organisations()
        xc = region(XINCHENG).id
        self.operator = create_user(
            'ren_op', 'elder_base.group_operator', elder_region=xc)
        self.supervisor = create_user(
            'ren_sup', 'elder_base.group_supervisor', elder_region=xc)
        self.design_user = create_user(
            'ren_design', 'elder_renovation.group_renovation_designer',
            elder_provider=self.designer.id)
        self.build_user = create_user(
            'ren_build', 'elder_base.group_provider_admin',
            elder_provider=self.constructor.id)
        self.accept_user = create_user(
            'ren_accept', 'elder_renovation.group_renovation_acceptor',
            elder_provider=self.acceptor.id)
        self.elder = home_elder(categories=[('add', [category('alone').id])])

    def _designed(self, plan=PLAN):
        pool = Pool()
        Project = pool.get('renovation.project')
        with as_user(self.operator):
            project, = Project.create([{
                        'elder': self.elder.id, 'channel': 'elder',
                        'applicant': '女儿', 'designer': self.designer.id}])
            Project.apply([project])
        with as_user(self.supervisor):
            Project.approve([project])
        with as_user(self.design_user):
            project = Project(project.id)
            project.findings = '独居，卫生间湿滑无扶手，夜间如厕照明不足。'
            project.constructor = self.constructor
            project.acceptor = self.acceptor
            project.lines = [{'item': catalogue(c).id, 'location': l,
                    'quantity': Decimal(q)} for c, l, q in plan]
            project.save()
            Project.submit_plan([project])
        return Project(project.id)

    def _photo(self, project, stage):
        Photo = Pool().get('renovation.photo')
        Photo.create([{'project': project.id, 'stage': stage,
                    'image': b'\x89PNG' + stage.encode()}])

    def _accepted(self):
        pool = Pool()
        Project = pool.get('renovation.project')
        Check = pool.get('renovation.check')
        project = self._designed()
        with as_user(self.design_user):
            project.confirmed_by_name = '巴特尔'
            project.save()
            Project.confirm([project])
        with as_user(self.build_user):
            self._photo(project, 'before')
            Project.start_construction([Project(project.id)])
            self._photo(project, 'during')
            self._photo(project, 'after')
            Project.complete_construction([Project(project.id)])
        with as_user(self.accept_user):
            project = Project(project.id)
            Check.write(list(project.checks), {'passed': True})
            self._photo(project, 'acceptance')
            project.satisfaction = '5'
            project.save()
            Project.accept([Project(project.id)])
        return Project(project.id)

    @with_transaction()
    def test_path_to_accepted(self):
        "Application → eligibility → plan → confirmation → work → acceptance"
        self._setup()
        project = self._accepted()
        self.assertEqual(project.state, 'accepted')
        self.assertEqual(project.subsidy_cap, Decimal('3000.00'))
        self.assertEqual(project.total_amount, Decimal('1280.00'))
        self.assertEqual(project.subsidy_amount, Decimal('1280.00'))
        self.assertEqual(project.accepted_by, self.accept_user)
        self.assertEqual(len(project.checks), len(PLAN))
        self.assertEqual(project.warranty_end.year, TODAY.year + 1)
        visit, = project.visits
        self.assertEqual(visit.planned_date, TODAY + dt.timedelta(days=30))
        self.assertTrue(project.verify_token)

    @with_transaction()
    def test_plan_over_cap(self):
        "A plan over the subsidy cap per home is refused and nothing changes"
        pool = Pool()
        Project = pool.get('renovation.project')
        self._setup()
        with self.assertRaises(RenovationError) as cm:
            self._designed(PLAN + [('EC01', '客厅', 5)])  # + 2250
        message = cm.exception.message
        self.assertIn('3530.00', message)
        self.assertIn('3000.00', message)
        self.assertIn('530.00', message)
        project, = Project.search([])
        self.assertEqual(project.state, 'approved')
        self.assertEqual(project.design_date, None)

    @with_transaction()
    def test_role_separation(self):
        """The construction provider never accepts its own work, even with
        the acceptor group; it cannot be named acceptance body either"""
        pool = Pool()
        Project = pool.get('renovation.project')
        Check = pool.get('renovation.check')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        self._setup()
        project = self._designed()
        project.confirmed_by_name = '巴特尔'
        project.save()
        Project.confirm([project])
        self._photo(project, 'before')
        Project.start_construction([project])
        with self.assertRaises(RenovationError):
            Project.complete_construction([project])  # no after photos
        self._photo(project, 'during')
        self._photo(project, 'after')
        Project.complete_construction([project])
        project = Project(project.id)
        Check.write(list(project.checks), {'passed': True})
        self._photo(project, 'acceptance')
        project.satisfaction = '4'
        project.save()
        with self.assertRaises(RenovationError):  # nor pick the acceptor
            with as_user(self.build_user):
                Project.write([Project(project.id)],
                    {'acceptor': self.designer.id})
        with self.assertRaises(AccessButtonError):
            with as_user(self.build_user):
                Project.accept([Project(project.id)])
        User.write([self.build_user], {'groups': [('add', [
                            ModelData.get_id('elder_renovation',
                                'group_renovation_acceptor')])]})
        with self.assertRaises((SeparationError, AccessError)):
            with as_user(self.build_user):
                Project.accept([Project(project.id)])
        self.assertEqual(Project(project.id).state, 'constructed')
        Check.write([project.checks[0]], {'passed': False})
        with self.assertRaises(RenovationError):
            with as_user(self.accept_user):
                Project.accept([Project(project.id)])
        Check.write([project.checks[0]], {'passed': True})
        with as_user(self.accept_user):
            Project.accept([Project(project.id)])
        self.assertEqual(Project(project.id).state, 'accepted')
        # last: a refused write is rolled back by the request, not here
        with self.assertRaises(RenovationValidationError):
            Project.write([project], {'acceptor': self.constructor.id})

    @with_transaction()
    def test_not_eligible(self):
        pool = Pool()
        Project = pool.get('renovation.project')
        self._setup()
        other = home_elder('乌云', serial=31)
        project, = Project.create([{'elder': other.id,
                    'designer': self.designer.id}])
        Project.apply([project])
        with self.assertRaises(RenovationError):
            Project.approve([project])
        self.assertEqual(project.state, 'applied')

    @with_transaction()
    def test_access(self):
        "Each organisation sees its renovations only; supervisors their region"
        pool = Pool()
        Project = pool.get('renovation.project')
        from trytond.modules.elder_base.tests.tools import create_provider
        self._setup()
        project = self._designed()
        other = create_provider('别的机构', XINCHENG)
        for user in [
                create_user('rd2', 'elder_renovation.group_renovation_designer',
                    elder_provider=other.id),
                create_user('ra2', 'elder_renovation.group_renovation_acceptor',
                    elder_provider=other.id),
                create_user('pa2', 'elder_base.group_provider_admin',
                    elder_provider=other.id),
                create_user('sup_hm', 'elder_base.group_supervisor',
                    elder_region=region(HUIMIN).id)]:
            with self.subTest(user=user.login), as_user(user):
                self.assertEqual(Project.search([]), [])
        for user in [self.design_user, self.build_user, self.accept_user,
                self.supervisor, self.operator]:
            with self.subTest(user=user.login), as_user(user):
                self.assertEqual(Project.search([]), [project])
        with as_user(self.build_user):
            with self.assertRaises(AccessError):
                Project.create([{'elder': self.elder.id}])
            with self.assertRaises(AccessButtonError):
                Project.submit_plan([project])
        caregiver = create_user('cg', 'elder_base.group_caregiver')
        with as_user(caregiver):
            with self.assertRaises(AccessError):
                Project.search([])

    @with_transaction()
    def test_warranty(self):
        "Defects in the warranty, return visits, overdue stages"
        pool = Pool()
        Project = pool.get('renovation.project')
        Defect = pool.get('renovation.defect')
        Visit = pool.get('renovation.visit')
        self._setup()
        project = self._accepted()
        with as_user(self.operator):
            defect, = Defect.create([{'project': project.id,
                        'description': '扶手松动'}])
        self.assertTrue(defect.in_warranty)
        late, = Defect.create([{'project': project.id,
                    'description': '灯不亮',
                    'reported_date': project.warranty_end
                    + dt.timedelta(days=1)}])
        self.assertFalse(late.in_warranty)
        with self.assertRaises(RenovationError):
            Defect.fix([defect])
        defect.resolution = '重新固定'
        defect.save()
        with as_user(self.build_user):
            Defect.fix([Defect(defect.id)])
        self.assertEqual(Defect(defect.id).state, 'fixed')
        visit, = project.visits
        visit.outcome = 'good'
        visit.satisfaction = '5'
        visit.save()
        with as_user(self.operator):
            Visit.done([visit])
        self.assertEqual(Visit(visit.id).state, 'done')
        other = home_elder('其木格', serial=33,
            categories=[('add', [category('alone').id])])
        second, = Project.create([{'elder': other.id,
                    'designer': self.designer.id}])
        Project.apply([second])
        Project.write([second], {'deadline': TODAY - dt.timedelta(days=1)})
        self.assertEqual(Project.cron_overdue(), [second])
        self.assertEqual(Project.cron_overdue(), [])

    @with_transaction()
    def test_documents(self):
        "Plan and certificate PDFs with the QR address, Excel export"
        pool = Pool()
        Plan = pool.get('renovation.project.plan_report', type='report')
        Certificate = pool.get('renovation.project.certificate',
            type='report')
        Export = pool.get('renovation.project.export', type='report')
        from pypdf import PdfReader
        from openpyxl import load_workbook
        self._setup()
        project = self._designed()
        with self.assertRaises(RenovationError):
            Certificate.execute([project.id], {})
        ext, content, _, _ = Plan.execute([project.id], {})
        text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
        self.assertIn('居家适老化改造方案', text)
        self.assertIn('1280.00', text)
        self.assertIn('renovation/verify/' + project.verify_token, text)
        ext, content, _, _ = Export.execute([project.id], {})
        sheet = load_workbook(io.BytesIO(bytes(content))).active
        self.assertEqual(sheet['A2'].value, project.number)
        self.assertEqual(sheet['K2'].value, 1280.0)

    @with_transaction()
    def test_subsidy_paid_through_settlement(self):
        "The accepted renovation is settled, invoiced on 5003 and paid"
        pool = Pool()
        Project = pool.get('renovation.project')
        Statement = pool.get('settlement.statement')
        from trytond.modules.elder_settlement.tests.tools import company
        from trytond.transaction import Transaction
        self._setup()
        project = self._accepted()
        company()
        statements, _ = Statement.settle(TODAY)
        statement, = [s for s in statements
            if s.provider == self.constructor]
        line, = statement.lines
        self.assertEqual(line.renovation, project)
        self.assertEqual(line.subsidy_amount, Decimal('1280.00'))
        self.assertEqual(line.service_type.code, 'HR')
        Statement.settle(TODAY)
        self.assertEqual(len(Statement(statement.id).lines), 1)
        Statement.send([statement])
        Statement.accept([statement])
        Statement.check([statement])
        finance = create_user('fin2', 'elder_base.group_finance',
            'account.group_account')
        with Transaction().set_user(finance.id):
            Statement.approve([statement])
        statement = Statement(statement.id)
        invoice_line, = statement.invoice.lines
        self.assertEqual(invoice_line.account.code, '5003')
        Statement.pay([statement])
        self.assertEqual(Project(project.id).settlement_state, 'paid')


del ModuleTestCase
