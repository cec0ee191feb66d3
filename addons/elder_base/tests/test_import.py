# This file is part of the eldercare platform. See LICENSE.
"Excel import and export of elder_base"
import datetime as dt
import io
import zipfile
from unittest.mock import patch

import openpyxl

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.elder_base import import_export
from trytond.modules.elder_base.identity import ric_check_character
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from .tools import create_elder, create_provider, credit_code, region

ELDER_HEADER = [
    '姓名*', '公民身份号码*', '民族', '联系电话', '居住地区划代码*',
    '居住地址', '老年人类别', '婚姻状况']
PROVIDER_HEADER = [
    '机构名称', '统一社会信用代码', '注册地区划代码', '联系电话', '服务区域',
    '服务类型', '服务能力', '协议开始日期', '协议结束日期']
REGION_HEADER = ['区划代码', '名称', '层级', '上级区划代码']


def citizen_id(prefix, birth, serial):
    "Return a valid GB 11643 ID from a 6-digit region, a date and a serial"
    body = '%s%s%03d' % (prefix, birth, serial)
    return body + ric_check_character(body)


def bad_check_digit(number):
    digits = '0123456789X'
    return number[:17] + digits[(digits.index(number[17]) + 1) % 11]


def xlsx(header, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def read_xlsx(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return workbook, [list(r) for r in workbook.worksheets[0].iter_rows(
                values_only=True)]


def run_import(kind, data, file_name='data.xlsx'):
    "Run the wizard as the client does; return the result view values"
    pool = Pool()
    Import = pool.get('elder.import', type='wizard')
    session_id, start, _ = Import.create()
    result = Import.execute(session_id, {}, start)
    defaults = result['view']['defaults']
    assert defaults['kind'] == 'elder'
    assert defaults['template'], 'template missing'
    result = Import.execute(session_id, {
            'start': {
                'kind': kind, 'file': data, 'file_name': file_name},
            }, 'import_')
    Import.delete(session_id)
    return result['view']['defaults']


def create_user(login, group, region_code=None):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    scope = region(region_code).id if region_code else None
    user, = User.create([{
                'name': login,
                'login': login,
                'groups': [('add', [ModelData.get_id('elder_base', group)])],
                'elder_region': scope,
                }])
    return user


class ElderImportTestCase(ModuleTestCase):
    "Test the Excel import and export of elder_base"
    module = 'elder_base'

    def elder_rows(self):
        return [
            ['王秀兰', citizen_id('150102', '19450310', 12), '蒙古族',
                '138 0013 8000', '150102', '海拉尔东路1号',
                'alone、advanced_age', '30'],
            ['刘建华', citizen_id('150103', '19500621', 31), '01',
                '0471-6960000', 150103, None, 'Empty nest', None],
            ['赵淑珍', citizen_id('150102', '19381105', 46), None, None,
                '150102', None, None, 'Married'],
            ]

    @with_transaction()
    def test_template(self):
        "Each kind has a template with its header, an example and notes"
        pool = Pool()
        Import = pool.get('elder.import', type='wizard')
        for kind, Importer in Import.importers().items():
            with self.subTest(kind=kind):
                content, name = Import.get_template(kind)
                self.assertTrue(name.endswith('.xlsx'))
                workbook, rows = read_xlsx(content)
                self.assertEqual(len(workbook.worksheets), 2)
                self.assertEqual(
                    rows[0], [c.header for c in Importer.columns])
                self.assertEqual(len(rows), 2)
                notes = [r[0] for r in workbook.worksheets[1].iter_rows(
                        values_only=True)]
                for column in Importer.columns:
                    self.assertIn(column.title, notes)

                # The template as it is: the example row is refused
                result = run_import(kind, content)
                self.assertFalse(result['success'])
                self.assertIn('Row 2', result['report'])
                self.assertIn(
                    'example row', result['report'])

    @with_transaction()
    def test_template_report(self):
        "The template is also a report returning an xlsx"
        pool = Pool()
        Template = pool.get('elder.import.template', type='report')
        oext, content, direct, name = Template.execute([], {'kind': 'region'})
        self.assertEqual(oext, 'xlsx')
        _, rows = read_xlsx(content)
        self.assertEqual(rows[0][:2], ['区划代码*', '名称*'])

        # The wizard's template follows the chosen kind
        Start = pool.get('elder.import.start')
        start = Start(kind='provider')
        start.on_change_kind()
        self.assertTrue(start.template_name.endswith('.xlsx'))
        _, rows = read_xlsx(start.template)
        self.assertEqual(rows[0][:2], ['机构名称*', '统一社会信用代码*'])

    @with_transaction()
    def test_import_elders(self):
        "A good file creates every older person in one go"
        pool = Pool()
        Elder = pool.get('elder.elder')
        ModelData = pool.get('ir.model.data')
        Category = pool.get('elder.category')

        rows = self.elder_rows()
        result = run_import('elder', xlsx(ELDER_HEADER, rows))

        self.assertTrue(result['success'], result['report'])
        self.assertIn('3 records were imported', result['report'])
        self.assertFalse(result['error_file'])
        elders = {e.id_number: e for e in Elder.search([])}
        self.assertEqual(len(elders), 3)
        wang = elders[rows[0][1]]
        self.assertEqual(wang.name, '王秀兰')
        self.assertEqual(wang.region, region('150102'))
        self.assertEqual(wang.ethnicity.name, '蒙古族')
        self.assertEqual(wang.phone, '13800138000')
        self.assertEqual(wang.marital_status, '30')
        self.assertEqual(wang.birth_date, dt.date(1945, 3, 10))
        self.assertEqual(wang.party.name, '王秀兰')
        self.assertEqual(
            {c.code for c in wang.categories}, {'alone', 'advanced_age'})
        liu = elders[rows[1][1]]
        self.assertEqual(liu.region, region('150103'))
        self.assertEqual(liu.ethnicity.code, '01')
        self.assertEqual(liu.phone, '04716960000')
        self.assertEqual(liu.categories, (Category(
                    ModelData.get_id('elder_base', 'category_empty_nest')),))
        zhao = elders[rows[2][1]]
        self.assertEqual(zhao.marital_status, '20')
        self.assertFalse(zhao.categories)
        self.assertEqual(len({e.code for e in elders.values()}), 3)

    @with_transaction()
    def test_import_elders_bad_rows(self):
        "One bad row among good ones: nothing is written, each row reported"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Party = pool.get('party.party')

        registered = citizen_id('150102', '19400101', 2)
        create_elder('已登记', registered, '150102')
        elders_before = Elder.search_count([])
        parties_before = Party.search_count([])

        good = self.elder_rows()
        rows = [
            good[0],  # row 2
            ['钱一', bad_check_digit(citizen_id('150102', '19440101', 8)),
                None, None, '150102', None, None, None],  # row 3
            ['孙二', citizen_id('150102', '19440202', 9), None, None,
                '159999', None, None, None],  # row 4: unknown region
            good[1],  # row 5
            ['李三', good[0][1], None, None, '150102', None, None,
                None],  # row 6: duplicate of row 2
            ['周四', registered, None, None, '150102', None, None,
                None],  # row 7: already registered
            ['吴五', citizen_id('150102', '19460606', 1), None, '12345',
                '150102', None, None, None],  # row 8: bad phone
            [None, citizen_id('150102', '19470707', 3), '火星族', None,
                '150102', None, '不存在', '?'],  # row 9: four errors
            good[2],  # row 10
            ['郑六', float(citizen_id('150102', '19490909', 4)), None, None,
                '150102', None, None, None],  # row 11: rounded by Excel
            ]
        importer = import_export.ElderImporter()
        self.assertIsNone(importer.run(xlsx(ELDER_HEADER, rows)))
        issues = {(i.row, importer.columns[i.column].name): i
            for i in importer.issues}
        self.assertEqual(set(issues), {
                (3, 'id_number'), (4, 'region'), (6, 'id_number'),
                (7, 'id_number'), (8, 'phone'), (9, 'name'),
                (9, 'ethnicity'), (9, 'categories'), (9, 'marital_status'),
                (11, 'id_number'),
                })
        self.assertEqual(
            issues[11, 'id_number'].reason.message,
            'msg_import_number_rounded')
        self.assertEqual(
            issues[3, 'id_number'].reason.message,
            'msg_import_citizen_id_check')
        self.assertEqual(
            issues[6, 'id_number'].reason.kwargs, {'row': 2})
        self.assertEqual(
            issues[7, 'id_number'].reason.message,
            'msg_import_duplicate_elder')
        self.assertEqual(issues[4, 'region'].value, '159999')
        self.assertEqual(Elder.search_count([]), elders_before)
        self.assertEqual(Party.search_count([]), parties_before)

        # Through the wizard: a readable report and an error workbook
        result = run_import('elder', xlsx(ELDER_HEADER, rows))
        self.assertFalse(result['success'])
        report = result['report']
        self.assertIn('10 errors in 7 rows', report)
        self.assertIn('Row 3, column "公民身份号码", value "%s"' % rows[1][1],
            report)
        self.assertIn('Row 4, column "居住地区划代码", value "159999"', report)
        self.assertIn('Row 6, column "公民身份号码"', report)
        self.assertIn('row 2', report)
        self.assertIn('Row 8, column "联系电话", value "12345"', report)
        self.assertIn('Row 9, column "姓名": The value is required.', report)
        self.assertTrue(result['error_file_name'].endswith('.xlsx'))
        _, error_rows = read_xlsx(result['error_file'])
        self.assertEqual(len(error_rows), 1 + 10)
        self.assertEqual(error_rows[1][:3], [3, '公民身份号码', rows[1][1]])
        self.assertEqual(Elder.search_count([]), elders_before)
        self.assertEqual(Party.search_count([]), parties_before)

    @with_transaction()
    def test_import_wrong_header(self):
        "A file whose header is not the template's is refused"
        pool = Pool()
        Elder = pool.get('elder.elder')
        row = self.elder_rows()[0]
        for header, text in [
                (['名字', '身份证', '地区'], '姓名*'),  # missing columns
                (ELDER_HEADER + ['序号'], '序号'),  # unknown column
                (ELDER_HEADER + ['姓名'], '姓名'),  # duplicate column
                (PROVIDER_HEADER, '公民身份号码*'),  # the wrong kind
                ]:
            with self.subTest(header=header):
                with self.assertRaises(UserError) as cm:
                    run_import('elder', xlsx(header, [row]))
                self.assertIn(text, cm.exception.message)
        self.assertEqual(Elder.search_count([]), 0)

    @with_transaction()
    def test_import_not_xlsx(self):
        "A file that is not an xlsx workbook, or is empty, is refused"
        pool = Pool()
        Elder = pool.get('elder.elder')
        not_workbook = io.BytesIO()
        with zipfile.ZipFile(not_workbook, 'w') as archive:
            archive.writestr('hello.txt', 'hello')
        for data, text in [
                (b'', 'Choose'),
                ('姓名,公民身份号码\n张三,1\n'.encode('utf-8'), '.xlsx'),
                (b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + b'\0' * 100, '.xlsx'),
                (b'%PDF-1.4 ...', '.xlsx'),
                (not_workbook.getvalue(), '.xlsx'),
                (xlsx(ELDER_HEADER, []), 'no data rows'),
                (xlsx([], []), '姓名*'),
                ]:
            with self.subTest(data=data[:10]):
                with self.assertRaises(UserError) as cm:
                    run_import('elder', data)
                self.assertIn(text, cm.exception.message)
        self.assertEqual(Elder.search_count([]), 0)

    @with_transaction()
    def test_import_too_many_rows(self):
        "A file with more rows than the limit is refused"
        pool = Pool()
        Elder = pool.get('elder.elder')
        rows = self.elder_rows()
        with patch.object(import_export, 'MAX_ROWS', 2):
            with self.assertRaises(UserError) as cm:
                run_import('elder', xlsx(ELDER_HEADER, rows))
        self.assertIn('more than 2 rows', cm.exception.message)
        self.assertEqual(Elder.search_count([]), 0)
        self.assertEqual(import_export.MAX_ROWS, 50_000)

    @with_transaction()
    def test_import_providers(self):
        "Providers: a bad credit code stops the file; a good one imports"
        pool = Pool()
        Provider = pool.get('elder.provider')
        good = [
            ['青城居家养老服务中心', credit_code(101), '150102',
                '0471-6960001', '150102、150103', '01、Basic care', 30,
                '2026-01-01', dt.date(2026, 12, 31)],
            ['昭君助老服务社', credit_code(102).lower(), 150103, None, None,
                None, None, None, None],
            ]
        bad = ['坏机构', credit_code(103)[:-1] + (
                'X' if credit_code(103)[-1] != 'X' else 'Y'),
            '150102', None, None, None, -1, '2026-13-01', None]
        importer = import_export.ProviderImporter()
        self.assertIsNone(importer.run(xlsx(PROVIDER_HEADER, good + [bad])))
        self.assertEqual(
            {(i.row, importer.columns[i.column].name, i.reason.message)
                for i in importer.issues}, {
                (4, 'credit_code', 'msg_import_invalid_credit_code'),
                (4, 'capacity', 'msg_import_invalid_integer'),
                (4, 'agreement_start', 'msg_import_invalid_date'),
                })
        self.assertEqual(Provider.search_count([]), 0)

        result = run_import('provider', xlsx(PROVIDER_HEADER, good))
        self.assertTrue(result['success'], result['report'])
        self.assertIn('2 records', result['report'])
        first, = Provider.search([('credit_code', '=', credit_code(101))])
        self.assertEqual(first.region, region('150102'))
        self.assertEqual(first.phone, '04716960001')
        self.assertEqual(
            {r.code for r in first.service_areas}, {'150102', '150103'})
        self.assertEqual(
            {s.code for s in first.service_types}, {'01', '02'})
        self.assertEqual(first.capacity, 30)
        self.assertEqual(first.agreement_start, dt.date(2026, 1, 1))
        self.assertEqual(first.agreement_end, dt.date(2026, 12, 31))
        self.assertEqual(first.state, 'applied')
        second, = Provider.search([('credit_code', '=', credit_code(102))])
        self.assertEqual(second.region, region('150103'))

        # The same file again: every row is a duplicate of the database
        importer = import_export.ProviderImporter()
        self.assertIsNone(importer.run(xlsx(PROVIDER_HEADER, good)))
        self.assertEqual(
            [i.reason.message for i in importer.issues],
            ['msg_import_duplicate_provider'] * 2)

    @with_transaction()
    def test_import_regions(self):
        "Regions: parents come from the parent codes, in any row order"
        pool = Pool()
        Region = pool.get('elder.region')
        rows = [
            # A community before its sub-district, parent given
            ['150102001001', '海东路社区', None, '150102001'],
            ['150102001', '海拉尔东路街道', '街道', '150102'],
            # Parent inferred from the code
            ['150102001002', '锡林南路社区', 'community', None],
            ['150102002', '锡林南路街道', 'town', None],
            ]
        result = run_import('region', xlsx(REGION_HEADER, rows))
        self.assertTrue(result['success'], result['report'])
        self.assertIn('4 records', result['report'])
        town = region('150102001')
        self.assertEqual(town.parent, region('150102'))
        self.assertEqual(town.level, 'town')
        community = region('150102001001')
        self.assertEqual(community.parent, town)
        self.assertEqual(community.level, 'community')
        self.assertEqual(region('150102001002').parent, town)
        self.assertEqual(region('150102002').parent, region('150102'))
        self.assertEqual(
            community.rec_name,
            '内蒙古自治区 / 呼和浩特市 / 新城区 / 海拉尔东路街道 / 海东路社区')
        self.assertIn(community, Region.search([
                    ('parent', 'child_of', [region('150100').id])]))

        # Bad codes, unknown parents, circles and duplicates
        rows = [
            ['150102001', '重复', None, None],  # row 2: exists
            ['1501020', '七位', None, None],  # row 3: bad code
            ['150102003001', '无上级', None, None],  # row 4: no parent
            ['150102004', '未知上级', None, '150199'],  # row 5
            ['150102005001', '甲', None, '150102005002'],  # row 6: circle
            ['150102005002', '乙', None, '150102005001'],  # row 7: circle
            ['150102006', '自己', None, '150102006'],  # row 8
            ]
        count = Region.search_count([])
        importer = import_export.RegionImporter()
        self.assertIsNone(importer.run(xlsx(REGION_HEADER, rows)))
        self.assertEqual(
            {(i.row, importer.columns[i.column].name, i.reason.message)
                for i in importer.issues}, {
                (2, 'code', 'msg_import_duplicate_region'),
                (3, 'code', 'msg_import_invalid_region_code'),
                (4, 'code', 'msg_import_no_parent'),
                (5, 'parent', 'msg_import_unknown_parent'),
                (6, 'parent', 'msg_import_parent_cycle'),
                (7, 'parent', 'msg_import_parent_cycle'),
                (8, 'parent', 'msg_import_parent_self'),
                })
        self.assertEqual(Region.search_count([]), count)

    @with_transaction()
    def test_import_scope(self):
        "A user imports only within the region scope and with create access"
        pool = Pool()
        Elder = pool.get('elder.elder')
        supervisor = create_user('sup_import', 'group_supervisor', '150102')
        unscoped = create_user('op_import', 'group_operator')
        rows = self.elder_rows()  # rows 2 and 4 in 150102, row 3 in 150103

        with Transaction().set_user(supervisor.id):
            result = run_import('elder', xlsx(ELDER_HEADER, rows))
            self.assertFalse(result['success'])
            self.assertIn(
                'Row 3, column "居住地区划代码", value "150103"',
                result['report'])
            self.assertIn('新城区', result['report'])
            self.assertEqual(result['report'].count('Row '), 1)

            result = run_import(
                'elder', xlsx(ELDER_HEADER, [rows[0], rows[2]]))
            self.assertTrue(result['success'], result['report'])

            # Supervisors may not create providers or regions
            for kind, header in [
                    ('provider', PROVIDER_HEADER), ('region', REGION_HEADER)]:
                with self.assertRaises(AccessError):
                    run_import(kind, xlsx(header, [['x']]))

        with Transaction().set_user(unscoped.id):
            # An operator without a region scope may import nowhere
            result = run_import('elder', xlsx(ELDER_HEADER, [rows[1]]))
            self.assertFalse(result['success'])
            self.assertIn('region scope', result['report'])
            # nor top-level regions
            result = run_import('region', xlsx(
                    REGION_HEADER, [['150102009', '某街道', None, None]]))
            self.assertFalse(result['success'])
        self.assertEqual(Elder.search_count([]), 2)

    def export(self, model, ids):
        pool = Pool()
        Export = pool.get('elder.export.xlsx', type='report')
        with check_access():
            oext, content, direct, name = Export.execute(
                ids, {'model': model, 'ids': ids})
        self.assertEqual(oext, 'xlsx')
        self.assertFalse(direct)
        return read_xlsx(content)[1]

    @with_transaction()
    def test_export(self):
        "The export has the list columns, translated titles and the records"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Provider = pool.get('elder.provider')
        Practitioner = pool.get('elder.practitioner')
        ActionReport = pool.get('ir.action.report')
        Keyword = pool.get('ir.action.keyword')

        for model in ['elder.elder', 'elder.provider', 'elder.practitioner']:
            action, = ActionReport.search([
                    ('report_name', '=', 'elder.export.xlsx'),
                    ('model', '=', model)])
            self.assertTrue(Keyword.search([
                        ('action', '=', action.action.id),
                        ('keyword', '=', 'form_print'),
                        ('model', '=', '%s,-1' % model)]))

        first = create_elder('张桂兰', '150102194501010020', '150102',
            phone='13800138000')
        second = create_elder(
            '=HYPERLINK("http://x")', citizen_id('150103', '19480808', 5),
            '150103')
        create_elder('不导出', citizen_id('150103', '19480808', 7), '150103')
        names = import_export.ExcelExport.list_fields('elder.elder')
        self.assertEqual(names[:3], ['code', 'name', 'sex'])
        strings = Elder.fields_get(names)

        rows = self.export('elder.elder', [second.id, first.id])
        self.assertEqual(rows[0], [strings[n]['string'] for n in names])
        self.assertEqual(len(rows), 3)
        column = {n: i for i, n in enumerate(names)}
        self.assertEqual(rows[1][column['name']], '=HYPERLINK("http://x")')
        self.assertEqual(rows[2][column['code']], first.code)
        # Masked for every user (elder_security); the database holds only
        # the ciphertext
        self.assertEqual(rows[2][column['id_number']], '150102********0020')
        self.assertNotIn(
            '150102194501010020', [c for r in rows for c in r])
        if 'phone' in column:
            self.assertEqual(rows[2][column['phone']], '138****8000')
        self.assertEqual(
            rows[2][column['region']], '内蒙古自治区 / 呼和浩特市 / 新城区')
        self.assertEqual(rows[2][column['sex']], 'Female')
        self.assertEqual(rows[2][column['age']], first.age)
        self.assertEqual(rows[2][column['state']], 'Active')

        # Titles follow the user's language
        with Transaction().set_context(language='fr'):
            french = Elder.fields_get(['name'])['name']['string']
            rows = self.export('elder.elder', [first.id])
        self.assertEqual(rows[0][column['name']], french)

        provider = create_provider(
            '青城居家养老服务中心', '150102', credit_code=credit_code(7))
        practitioner, = Practitioner.create([{
                    'provider': provider.id,
                    'name': '护理员甲',
                    'id_number': citizen_id('150102', '19800101', 11),
                    'phone': '13900139000',
                    'kind': 'caregiver',
                    }])
        rows = self.export('elder.provider', [provider.id])
        self.assertEqual(len(rows), 2)
        self.assertIn(credit_code(7), rows[1])
        rows = self.export('elder.practitioner', [practitioner.id])
        self.assertEqual(rows[1][:2], ['护理员甲', provider.rec_name])
        self.assertTrue(Provider.search([]))

    @with_transaction()
    def test_export_record_rules(self):
        "The export reads with the user's record rules"
        pool = Pool()
        Elder = pool.get('elder.elder')
        inside = create_elder('新城老人', citizen_id('150102', '19450505', 3),
            '150102')
        outside = create_elder('回民区老人', citizen_id('150103', '19450505', 5),
            '150103')
        supervisor = create_user('sup_export', 'group_supervisor', '150102')
        agent = create_user('agent_export', 'group_agent', '150102')

        with Transaction().set_user(supervisor.id):
            with check_access():
                self.assertEqual(Elder.search([]), [inside])
            # Tryton refuses the whole export when one record is outside
            # the rules rather than silently dropping it
            with self.assertRaises(AccessError):
                self.export('elder.elder', [inside.id, outside.id])
            with self.assertRaises(AccessError):
                self.export('elder.elder', [outside.id])
            rows = self.export('elder.elder', [inside.id])
            self.assertEqual(len(rows), 2)
            self.assertIn('新城老人', rows[1])

        with Transaction().set_user(agent.id):
            # Agents read older people but may not export them
            with self.assertRaises(AccessError):
                self.export('elder.elder', [inside.id])


del ModuleTestCase
