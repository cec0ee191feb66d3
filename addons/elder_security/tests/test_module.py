# This file is part of the eldercare platform. See LICENSE.
import datetime
from unittest.mock import patch

import pyotp
from sql import Literal

from trytond import security
from trytond.config import config
from trytond.exceptions import LoginException, RateLimitException
from trytond.model.exceptions import AccessError
from trytond.modules.elder_security.configuration import DEFAULTS
from trytond.modules.elder_security.user import common_passwords
from trytond.pool import Pool
from trytond.res.user import PasswordError
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase, with_transaction)
from trytond.transaction import Transaction

LOGIN = 'zhangsan'
GOOD = 'Qm7#tide-Lamp'

# (rule, password that passes, password that fails, message id).
# Each failing password breaks only its own rule, so the message proves
# which rule refused it. History cases are checked in their own test.
POLICY_CASES = [
    ('length', 'Xk7mQp2w', 'Xk7mQp2', 'msg_password_length'),
    ('classes', 'Rb5nTz8v', 'rb5ntz8v', 'msg_password_classes'),
    ('login', 'Wu#Song2024', 'Zhangsan#2024', 'msg_password_login'),
    ('common', 'Aq193756', 'Aa123456', 'msg_password_common'),
    ]


def now():
    return datetime.datetime.now()


class ElderSecurityTestCase(ModuleTestCase):
    "Test elder_security module"
    module = 'elder_security'

    def setUp(self):
        super().setUp()
        # trytond's own byte-length check would hide ours: the policy
        # lives in security.configuration.
        length = config.get('password', 'length')
        config.set('password', 'length', '0')
        self.addCleanup(config.set, 'password', 'length', length)
        # get_login sleeps 2**failures seconds at the end of a transaction
        sleep = patch('time.sleep')
        sleep.start()
        self.addCleanup(sleep.stop)

    # -- helpers -------------------------------------------------------

    def create_user(self, login=LOGIN, password=GOOD, **values):
        pool = Pool()
        User = pool.get('res.user')
        user, = User.create([dict(
                    name=login.title(), login=login, password=password,
                    **values)])
        return user

    def message(self, name, **kwargs):
        pool = Pool()
        Message = pool.get('ir.message')
        return Message.gettext('elder_security', name, None, **kwargs)

    def get_login(self, login, **parameters):
        pool = Pool()
        User = pool.get('res.user')
        with Transaction().set_user(0), Transaction().reset_context():
            return User.get_login(login, parameters)

    def set_changed_at(self, user, when):
        pool = Pool()
        User = pool.get('res.user')
        table = User.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.password_changed_at], [Literal(when)],
                where=table.id == user.id))
        Transaction().cache.clear()

    def admin_group(self, name):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        return ModelData.get_id('elder_security', name)

    # -- groups and configuration --------------------------------------

    @with_transaction()
    def test_three_administrator_groups(self):
        "The three separated administrator groups exist and are distinct"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ids = {
            ModelData.get_id('elder_security', name)
            for name in [
                'group_system_admin', 'group_security_admin',
                'group_audit_admin']}
        self.assertEqual(len(ids), 3)

    @with_transaction()
    def test_configuration_defaults(self):
        "The policy defaults are those of the security issue"
        pool = Pool()
        Configuration = pool.get('security.configuration')
        values = Configuration.get_values()
        self.assertEqual(values, DEFAULTS)
        self.assertEqual(values['password_length'], 8)
        self.assertEqual(values['password_classes'], 3)
        self.assertEqual(values['password_history'], 5)
        self.assertEqual(values['password_max_age'], 90)
        self.assertEqual(values['lockout_attempts'], 5)
        self.assertEqual(values['lockout_duration'], 10)
        self.assertEqual(values['session_idle_timeout'], 30)

    @with_transaction()
    def test_configuration_security_admin_only(self):
        "Only the security administrator reads and edits the configuration"
        pool = Pool()
        Configuration = pool.get('security.configuration')
        system = self.create_user(
            'sysadm', groups=[('add', [self.admin_group(
                            'group_system_admin')])])
        secadm = self.create_user(
            'secadm', groups=[('add', [self.admin_group(
                            'group_security_admin')])])
        for user in [system, secadm]:
            with Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                if user == system:
                    with self.assertRaises(AccessError):
                        Configuration.write(
                            [Configuration(1)], {'password_length': 10})
                    with self.assertRaises(AccessError):
                        Configuration.read([1], ['password_length'])
                else:
                    Configuration.write(
                        [Configuration(1)], {'password_length': 10})
        self.assertEqual(Configuration.get_values()['password_length'], 10)

    # -- password policy -----------------------------------------------

    @with_transaction()
    def test_common_password_list(self):
        "The shipped list holds thousands of passwords incl. Chinese ones"
        passwords = common_passwords()
        self.assertGreater(len(passwords), 19000)
        for password in [
                '123456', 'password', 'woaini1314', 'qq123456', '1qaz2wsx',
                'zxcvbnm', '5201314']:
            self.assertIn(password, passwords)

    @with_transaction()
    def test_password_policy(self):
        "Each rule accepts its passing case and refuses its failing case"
        pool = Pool()
        User = pool.get('res.user')
        user = self.create_user()
        self.assertEqual(
            {c[0] for c in POLICY_CASES} | {'history'},
            set(User._password_rules()))
        for rule, good, bad, message in POLICY_CASES:
            with self.subTest(rule=rule, case='pass'):
                User.write([user], {'password': good})
            with self.subTest(rule=rule, case='fail'):
                with self.assertRaises(PasswordError) as cm:
                    User.write([user], {'password': bad})
                self.assertEqual(
                    cm.exception.message,
                    self.message(
                        message, length=8, classes=3, history=5))

    @with_transaction()
    def test_each_rule_is_needed(self):
        "Without its rule, each failing case would be accepted"
        pool = Pool()
        User = pool.get('res.user')
        user = self.create_user()
        rules = User._password_rules()
        for rule, good, bad, message in POLICY_CASES:
            with self.subTest(rule=rule):
                others = [r for r in rules if r != rule]
                with patch.object(
                        User, '_password_rules', return_value=others):
                    User.write([user], {'password': bad})

    @with_transaction()
    def test_password_history(self):
        "The last 5 passwords may not be reused, the 6th may"
        pool = Pool()
        User = pool.get('res.user')
        History = pool.get('res.user.password_history')
        passwords = ['Hist#%s-pass' % i for i in range(1, 7)]
        user = self.create_user(password=passwords[0])
        for password in passwords[1:5]:
            User.write([user], {'password': password})
        # history: 1..5
        with self.assertRaises(PasswordError) as cm:
            User.write([user], {'password': passwords[0]})
        self.assertEqual(
            cm.exception.message,
            self.message('msg_password_history', history=5))
        with self.assertRaises(PasswordError):
            User.write([user], {'password': passwords[4]})
        User.write([user], {'password': passwords[5]})
        # history: 2..6, the first is free again
        User.write([user], {'password': passwords[0]})
        self.assertEqual(len(History.search([('user', '=', user.id)])), 5)
        # the history stores hashes, not passwords
        for record in History.search([('user', '=', user.id)]):
            self.assertNotIn('Hist#', record.password_hash)

        # without the rule the reuse is accepted
        with patch.object(User, '_password_rules', return_value=[
                    'length', 'classes', 'login', 'common']):
            User.write([user], {'password': passwords[5]})

    @with_transaction()
    def test_policy_follows_configuration(self):
        "Thresholds come from security.configuration"
        pool = Pool()
        User = pool.get('res.user')
        Configuration = pool.get('security.configuration')
        user = self.create_user()
        User.write([user], {'password': 'Xk7mQp2wAb'})
        Configuration.write([Configuration(1)], {
                'password_length': 12, 'password_classes': 4})
        with self.assertRaises(PasswordError):
            User.write([user], {'password': 'Xk7mQp2wAbc'})
        with self.assertRaises(PasswordError):
            User.write([user], {'password': 'Xk7mQp2wAbcd'})
        User.write([user], {'password': 'Xk7mQp2wAb#d'})

    # -- lockout ---------------------------------------------------------

    @with_transaction()
    def test_lockout(self):
        "5 failures lock the login for 10 minutes, even the right password"
        pool = Pool()
        Lockout = pool.get('security.login.lockout')
        user = self.create_user()
        for _ in range(4):
            self.assertIsNone(self.get_login(LOGIN, password='wrong'))  # noqa: S106 (test password)
        # a success before the threshold forgets the failures
        self.assertEqual(self.get_login(LOGIN, password=GOOD), user.id)
        for _ in range(5):
            self.assertIsNone(self.get_login(LOGIN, password='wrong'))  # noqa: S106 (test password)
        with self.assertRaises(RateLimitException):
            self.get_login(LOGIN, password=GOOD)

        # 9 minutes later still locked, 10 minutes later open
        later = now() + datetime.timedelta(minutes=9)
        with patch.object(Lockout, '_now', return_value=later):
            with self.assertRaises(RateLimitException):
                self.get_login(LOGIN, password=GOOD)
        later = now() + datetime.timedelta(minutes=10, seconds=1)
        with patch.object(Lockout, '_now', return_value=later):
            self.assertEqual(self.get_login(LOGIN, password=GOOD), user.id)

    @with_transaction()
    def test_lockout_unknown_login(self):
        "An unknown login gets the same answers as a known one"
        self.create_user()
        answers = {}
        for login in [LOGIN, 'nobody']:
            seen = []
            try:
                self.get_login(login)
            except LoginException as exception:
                seen.append(('ask', exception.name, exception.type))
            for _ in range(5):
                seen.append(self.get_login(login, password='wrong'))  # noqa: S106 (test password)
            with self.assertRaises(RateLimitException):
                self.get_login(login, password=GOOD)
            seen.append('locked')
            answers[login] = seen
        self.assertEqual(answers[LOGIN], answers['nobody'])

    @with_transaction()
    def test_lockout_configuration(self):
        "The threshold is configurable"
        pool = Pool()
        Configuration = pool.get('security.configuration')
        self.create_user()
        Configuration.write([Configuration(1)], {'lockout_attempts': 2})
        for _ in range(2):
            self.get_login(LOGIN, password='wrong')  # noqa: S106 (test password)
        with self.assertRaises(RateLimitException):
            self.get_login(LOGIN, password=GOOD)

    # -- guessable passwords, expiry and forced change ------------------------

    @with_transaction()
    def test_default_password_unusable(self):
        "A guessable password set outside the policy does not log in"
        pool = Pool()
        User = pool.get('res.user')
        user = self.create_user()
        for weak in ['admin123', LOGIN]:
            with Transaction().set_user(0):
                # as root (trytond-admin), the policy is not applied
                User.write([user], {'password': weak})
            self.assertIsNone(self.get_login(LOGIN, password=weak))

    @with_transaction()
    def test_password_expired(self):
        "After 90 days the user must choose a new password at login"
        pool = Pool()
        User = pool.get('res.user')
        user = self.create_user()
        self.set_changed_at(user, now() - datetime.timedelta(days=89))
        self.assertEqual(self.get_login(LOGIN, password=GOOD), user.id)

        self.set_changed_at(user, now() - datetime.timedelta(days=90))
        with self.assertRaises(LoginException) as cm:
            self.get_login(LOGIN, password=GOOD)
        self.assertEqual(cm.exception.name, 'new_password')
        self.assertEqual(cm.exception.type, 'password')
        self.assertEqual(
            cm.exception.message,
            self.message('msg_password_change_expired'))

        # the new password follows the policy
        for bad in [GOOD, 'short', 'Zhangsan#2024']:
            with self.assertRaises(LoginException) as cm:
                self.get_login(LOGIN, password=GOOD, new_password=bad)
            self.assertEqual(cm.exception.name, 'new_password')
        new = 'Fresh#Pass-2025'
        with self.assertRaises(LoginException) as cm:
            self.get_login(LOGIN, password=GOOD, new_password=new)
        self.assertEqual(cm.exception.name, 'new_password_confirm')
        with self.assertRaises(LoginException) as cm:
            self.get_login(
                LOGIN, password=GOOD, new_password=new,
                new_password_confirm='other')  # noqa: S106 (test password)
        self.assertEqual(cm.exception.name, 'new_password_confirm')
        self.assertEqual(
            self.get_login(
                LOGIN, password=GOOD, new_password=new,
                new_password_confirm=new),
            user.id)
        user = User(user.id)
        self.assertGreater(
            user.password_changed_at, now() - datetime.timedelta(minutes=5))
        self.assertIsNone(self.get_login(LOGIN, password=GOOD))
        self.assertEqual(self.get_login(LOGIN, password=new), user.id)

    @with_transaction()
    def test_password_max_age_configuration(self):
        "Max age 0 disables the expiry"
        pool = Pool()
        Configuration = pool.get('security.configuration')
        user = self.create_user()
        self.set_changed_at(user, now() - datetime.timedelta(days=400))
        Configuration.write([Configuration(1)], {'password_max_age': 0})
        self.assertEqual(self.get_login(LOGIN, password=GOOD), user.id)

    @with_transaction()
    def test_password_reset_forces_change(self):
        "A temporary reset password must be replaced at login"
        pool = Pool()
        User = pool.get('res.user')
        user = self.create_user()
        User.write([user], {
                'password_reset': 'Temp#Reset-77',
                'password_reset_expire': (
                    now() + datetime.timedelta(hours=1)),
                })
        with self.assertRaises(LoginException) as cm:
            self.get_login(LOGIN, password='Temp#Reset-77')  # noqa: S106 (test password)
        self.assertEqual(cm.exception.name, 'new_password')
        self.assertEqual(
            cm.exception.message,
            self.message('msg_password_change_reset'))

    @with_transaction()
    def test_weak_password_forces_change(self):
        "A password below the current policy must be replaced at login"
        pool = Pool()
        User = pool.get('res.user')
        user = self.create_user()
        with Transaction().set_user(0):
            User.write([user], {'password': 'onlylowercase'})
        with self.assertRaises(LoginException) as cm:
            self.get_login(LOGIN, password='onlylowercase')  # noqa: S106 (test password)
        self.assertEqual(
            cm.exception.message,
            self.message('msg_password_change_policy'))

    # -- TOTP ------------------------------------------------------------

    def totp_secret(self, user):
        pool = Pool()
        User = pool.get('res.user')
        secret, pending, _ = User._totp_secrets(user)
        return secret, pending

    @with_transaction()
    def test_totp_optional(self):
        "A user who turns TOTP on enrols at login, then needs a code"
        user = self.create_user(totp_required=True)
        with self.assertRaises(LoginException) as cm:
            self.get_login(LOGIN, password=GOOD)
        self.assertEqual(cm.exception.name, 'totp_code')
        secret, pending = self.totp_secret(user)
        self.assertIsNone(secret)
        self.assertIn(pending[:4], cm.exception.message)
        self.assertIn('otpauth://', cm.exception.message)

        self.assertIsNone(self.get_login(
                LOGIN, password=GOOD, totp_code='000000'
                if pyotp.TOTP(pending).now() != '000000' else '111111'))
        code = pyotp.TOTP(pending).now()
        self.assertEqual(
            self.get_login(LOGIN, password=GOOD, totp_code=code), user.id)
        secret, pending = self.totp_secret(user)
        self.assertTrue(secret)
        self.assertIsNone(pending)
        # the same code is not accepted twice
        self.assertIsNone(
            self.get_login(LOGIN, password=GOOD, totp_code=code))

        with self.assertRaises(LoginException) as cm:
            self.get_login(LOGIN, password=GOOD)
        self.assertEqual(
            cm.exception.message, self.message('msg_totp_code'))
        # the secret is never read back
        self.assertIsNone(user.__class__.read(
                [user.id], ['totp_secret'])[0]['totp_secret'])

    @with_transaction()
    def test_totp_required_for_administrators(self):
        "The configuration requires TOTP from the 3 administrator groups"
        pool = Pool()
        Configuration = pool.get('security.configuration')
        admin = self.create_user('auditor', groups=[
                ('add', [self.admin_group('group_audit_admin')])])
        clerk = self.create_user('clerk')
        self.assertEqual(self.get_login('auditor', password=GOOD), admin.id)
        Configuration.write(
            [Configuration(1)], {'totp_admin_required': True})
        with self.assertRaises(LoginException) as cm:
            self.get_login('auditor', password=GOOD)
        self.assertEqual(cm.exception.name, 'totp_code')
        self.assertEqual(self.get_login('clerk', password=GOOD), clerk.id)

    @with_transaction()
    def test_totp_reset(self):
        "Turning TOTP off forgets the secret"
        pool = Pool()
        User = pool.get('res.user')
        user = self.create_user(totp_required=True)
        with self.assertRaises(LoginException):
            self.get_login(LOGIN, password=GOOD)
        _, pending = self.totp_secret(user)
        self.get_login(
            LOGIN, password=GOOD, totp_code=pyotp.TOTP(pending).now())
        self.assertTrue(User(user.id).totp_enrolled)
        User.totp_reset([user])
        self.assertFalse(User(user.id).totp_enrolled)
        User.write([user], {'totp_required': False})
        self.assertEqual(self.get_login(LOGIN, password=GOOD), user.id)

    @with_transaction()
    def test_login_rounds_as_sao(self):
        "Expired password and TOTP in one login, answers resent each round"
        user = self.create_user(totp_required=True)
        self.set_changed_at(user, now() - datetime.timedelta(days=100))
        new = 'Round#Trip-2025'
        parameters, asked = {}, []
        for _ in range(6):
            try:
                result = self.get_login(LOGIN, **parameters)
                break
            except LoginException as exception:
                asked.append(exception.name)
                if exception.name == 'password':
                    parameters['password'] = GOOD
                elif exception.name == 'totp_code':
                    _, pending = self.totp_secret(user)
                    parameters['totp_code'] = pyotp.TOTP(pending).now()
                else:
                    parameters[exception.name] = new
        self.assertEqual(asked, [
                'password', 'new_password', 'new_password_confirm',
                'totp_code'])
        self.assertEqual(result, user.id)
        self.assertIsNone(self.get_login(LOGIN, password=GOOD))

    # -- sessions --------------------------------------------------------

    def age_session(self, key, minutes):
        pool = Pool()
        Session = pool.get('ir.session')
        table = Session.__table__()
        cursor = Transaction().connection.cursor()
        when = now() - datetime.timedelta(minutes=minutes)
        cursor.execute(*table.update(
                [table.create_date, table.write_date],
                [Literal(when), Literal(when)],
                where=table.key == key))
        Transaction().cache.clear()

    @with_transaction()
    def test_idle_timeout(self):
        "A session idle for 30 minutes is refused and deleted"
        pool = Pool()
        Session = pool.get('ir.session')
        user = self.create_user()
        with Transaction().set_user(user.id):
            key = Session.new()
        self.assertTrue(Session.check(user.id, key))
        self.age_session(key, 29)
        self.assertTrue(Session.check(user.id, key))
        self.age_session(key, 31)
        self.assertFalse(Session.check(user.id, key))
        self.assertFalse(Session.search([('key', '=', key)]))

    @with_transaction()
    def test_idle_timeout_refreshed_by_activity(self):
        "A request refreshes the session, so activity keeps it open"
        pool = Pool()
        Session = pool.get('ir.session')
        user = self.create_user()
        with Transaction().set_user(user.id):
            key = Session.new()
        self.age_session(key, 20)
        Session._session_reset_cache.clear()
        Session.reset(key)
        session, = Session.search([('key', '=', key)])
        self.assertLess(
            now() - session.last_modified_at, datetime.timedelta(minutes=1))
        self.age_session(key, 0)
        # 20 more minutes later: still valid as the reset counted
        table = Session.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.create_date],
                [Literal(now() - datetime.timedelta(minutes=40))],
                where=table.key == key))
        self.assertTrue(Session.check(user.id, key))

    @with_transaction()
    def test_idle_timeout_configuration(self):
        "The idle timeout is configurable"
        pool = Pool()
        Session = pool.get('ir.session')
        Configuration = pool.get('security.configuration')
        user = self.create_user()
        Configuration.write(
            [Configuration(1)], {'session_idle_timeout': 5})
        with Transaction().set_user(user.id):
            key = Session.new()
        self.age_session(key, 6)
        self.assertFalse(Session.check(user.id, key))

    @with_transaction()
    def test_session_check_key_and_max_age(self):
        "A wrong key is unknown; a session older than max_age is deleted"
        pool = Pool()
        Session = pool.get('ir.session')
        user = self.create_user()
        with Transaction().set_user(user.id):
            key = Session.new()
            other = Session.new()
        self.assertIsNone(Session.check(user.id, 'x' * len(key)))
        self.assertIsNone(Session.check(user.id + 1, key))
        self.assertTrue(Session.check(user.id, key))
        table = Session.__table__()
        cursor = Transaction().connection.cursor()
        max_age = config.getint('session', 'max_age')
        cursor.execute(*table.update(
                [table.create_date],
                [Literal(now() - datetime.timedelta(seconds=max_age + 60))],
                where=table.key == key))
        Transaction().cache.clear()
        self.assertFalse(Session.check(user.id, key))
        self.assertFalse(Session.search([('key', '=', key)]))
        # the user's other session is still valid
        self.assertTrue(Session.check(user.id, other))

    def test_login_logout_revokes_session(self):
        "Through trytond.security: logout refuses the old session key"
        login, password = 'wangwu', 'Wang#Wu-2025x'
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            User = pool.get('res.user')
            if not User.search([('login', '=', login)]):
                with Transaction().set_user(1):
                    User.create([{
                                'name': 'Wang Wu', 'login': login,
                                'password': password}])
            transaction.commit()

        user_id, key = security.login(
            DB_NAME, login, {'password': password})
        self.assertEqual(security.check(DB_NAME, user_id, key), user_id)
        security.logout(DB_NAME, user_id, key)
        self.assertIsNone(security.check(DB_NAME, user_id, key))

        # an idle session is refused through the same path
        user_id, key = security.login(
            DB_NAME, login, {'password': password})
        with Transaction().start(DB_NAME, 0) as transaction:
            self.age_session(key, 31)
            transaction.commit()
        self.assertIsNone(security.check(DB_NAME, user_id, key))

        # a wrong password returns no session
        self.assertIsNone(security.login(
                DB_NAME, login, {'password': 'wrong'}))
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Lockout = pool.get('security.login.lockout')
            Lockout.success(login)
            transaction.commit()


del ModuleTestCase
