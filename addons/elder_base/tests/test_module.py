# This file is part of the eldercare platform. See LICENSE.
import datetime as dt

from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError
from trytond.modules.elder_base.identity import (
    normalize_phone, parse_citizen_id, validate_credit_code)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from .tools import create_elder, create_provider, region


class ElderBaseTestCase(ModuleTestCase):
    "Test elder_base module"
    module = 'elder_base'

    def test_parse_citizen_id(self):
        "GB 11643: birth date and sex derive from a valid ID"
        number, birth_date, sex = parse_citizen_id('11010519491231002x')
        self.assertEqual(number, '11010519491231002X')
        self.assertEqual(birth_date, dt.date(1949, 12, 31))
        self.assertEqual(sex, '2')

    def test_parse_citizen_id_invalid(self):
        "GB 11643: wrong check digit, date, length are refused"
        for number in [
                '110105194912310023',  # check digit
                '110105194902300028',  # 30 February
                '11010519491231002',  # length
                '', None]:
            with self.subTest(number=number):
                with self.assertRaises(ValueError):
                    parse_citizen_id(number)

    def test_credit_code(self):
        "GB 32100 check character"
        self.assertEqual(
            validate_credit_code('91110000600037341l'), '91110000600037341L')
        with self.assertRaises(ValueError):
            validate_credit_code('91110000600037341M')

    def test_phone(self):
        "Mainland mobiles and landlines"
        self.assertEqual(normalize_phone('138 0013 8000'), '13800138000')
        self.assertEqual(normalize_phone('+86 471 6960000'), '04716960000')
        for phone in ['12345', '12800138000', '+1 650 253 0000']:
            with self.subTest(phone=phone):
                with self.assertRaises(ValueError):
                    normalize_phone(phone)

    @with_transaction()
    def test_elder_derives_from_id(self):
        "An older person's birth date, sex and age follow the citizen ID"
        elder = create_elder('张桂兰', '150102194501010020', '150102')
        self.assertEqual(elder.birth_date, dt.date(1945, 1, 1))
        self.assertEqual(elder.sex, '2')
        self.assertTrue(elder.age >= 80)
        self.assertTrue(elder.code.startswith('LR'))
        self.assertEqual(elder.party.name, '张桂兰')

        elder.name = '张桂芝'
        elder.save()
        self.assertEqual(elder.party.name, '张桂芝')

    @with_transaction()
    def test_elder_invalid_id(self):
        "An invalid citizen ID is refused with a clear error"
        with self.assertRaises(ValidationError) as cm:
            create_elder('王五', '150102194501010021', '150102')
        self.assertIn('150102194501010021', cm.exception.message)

    @with_transaction()
    def test_elder_duplicate_id(self):
        "A citizen ID is registered once"
        create_elder('李四', '150102194501010020', '150102')
        with self.assertRaises(UserError):
            create_elder('李四', '150102194501010020', '150103')

    @with_transaction()
    def test_elder_invalid_phone(self):
        "An invalid phone number is refused"
        with self.assertRaises(ValidationError):
            create_elder('赵六', '150102194501010020', '150102', phone='1234')

    @with_transaction()
    def test_elder_death(self):
        "Recording a death sets the state and the date"
        pool = Pool()
        Elder = pool.get('elder.elder')
        elder = create_elder('周七', '150102194501010020', '150102')
        Elder.deceased([elder], dt.date(2026, 1, 5))
        self.assertEqual(elder.state, 'deceased')
        self.assertEqual(elder.death_date, dt.date(2026, 1, 5))

    @with_transaction()
    def test_region_tree(self):
        "Regions nest by path so child_of is one indexed query"
        pool = Pool()
        Region = pool.get('elder.region')
        hohhot = region('150100')
        children = Region.search([('parent', 'child_of', [hohhot.id])])
        self.assertEqual(len(children), 10)
        self.assertIn(region('150102'), children)
        self.assertEqual(
            region('150102').rec_name, '内蒙古自治区 / 呼和浩特市 / 新城区')

    @with_transaction()
    def test_provider_workflow(self):
        "A provider goes through the onboarding steps of the standard's §6"
        pool = Pool()
        Provider = pool.get('elder.provider')
        provider = create_provider('青城居家养老服务中心', '150102')
        self.assertEqual(provider.state, 'applied')
        for step, state in [
                ('review', 'reviewing'), ('agree', 'agreed'),
                ('train', 'training'), ('enable', 'active'),
                ('suspend', 'suspended'), ('enable', 'active'),
                ('exit', 'exited')]:
            getattr(Provider, step)([provider])
            self.assertEqual(provider.state, state)
        self.assertTrue(provider.training_date)

    @with_transaction()
    def test_provider_invalid_credit_code(self):
        "An invalid credit code is refused"
        with self.assertRaises(ValidationError):
            create_provider('坏机构', '150102', credit_code='91150102MA0000000X')


del ModuleTestCase
