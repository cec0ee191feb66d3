# This file is part of the eldercare platform. See LICENSE.
"""Separation of duties (三权分立): what each administrator may NOT do.

The access matrix of the audit trail (security.audit.event) for the three
administrator groups is at the end; business data (elder_base) is tested in
elder_base's tests/test_privacy.py."""
import datetime
import unittest

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.elder_security.separation import (
    ExportApprovalError, SeparationError)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction


def group_id(name):
    return Pool().get('ir.model.data').get_id('elder_security', name)


def create_user(login, *groups):
    User = Pool().get('res.user')
    user, = User.create([{
                'login': login, 'name': login,
                'groups': [('add', [group_id(g) for g in groups])],
                }])
    return user


def as_user(user):
    "Act as user through the clients (access checked)"
    class _Context:
        def __enter__(self):
            self.user = Transaction().set_user(user.id)
            self.ctx = Transaction().set_context(_check_access=True)
            self.user.__enter__()
            self.ctx.__enter__()

        def __exit__(self, *args):
            self.ctx.__exit__(*args)
            self.user.__exit__(*args)
    return _Context()


class ElderSecuritySeparationTestCase(ModuleTestCase):
    "Test the separation of duties"
    module = 'elder_security'

    def admins(self):
        return (
            create_user('sysadm', 'group_system_admin'),
            create_user('secadm', 'group_security_admin'),
            create_user('auditor', 'group_audit_admin'),
            )

    # -- users and groups ------------------------------------------------

    @with_transaction()
    def test_system_admin_manages_users(self):
        "The system administrator creates, edits and deactivates users"
        pool = Pool()
        User = pool.get('res.user')
        sysadm, secadm, auditor = self.admins()
        with as_user(sysadm):
            clerk, = User.create([{'login': 'clerk', 'name': 'Clerk'}])
            User.write([clerk], {'name': '办事员'})
            User.write([clerk], {'active': False})
            with self.assertRaises(UserError):  # deactivate instead
                User.delete([clerk])

    @with_transaction()
    def test_system_admin_assigns_no_group(self):
        "The system administrator cannot give groups, to himself or others"
        pool = Pool()
        User = pool.get('res.user')
        Group = pool.get('res.group')
        sysadm, secadm, auditor = self.admins()
        clerk = create_user('clerk')
        with as_user(sysadm):
            for user in [sysadm, clerk]:
                for name in ['group_security_admin', 'group_audit_admin']:
                    with self.assertRaises(SeparationError):
                        User.write([User(user.id)], {
                                'groups': [('add', [group_id(name)])]})
            with self.assertRaises(SeparationError):
                User.create([{
                            'login': 'other', 'name': 'Other',
                            'groups': [('add', [
                                        group_id('group_audit_admin')])],
                            }])
            with self.assertRaises(AccessError):
                Group.write([Group(group_id('group_security_admin'))], {
                        'users': [('add', [sysadm.id])]})
            with self.assertRaises(SeparationError):
                User.write([User(clerk.id)], {'totp_required': True})
        self.assertEqual(
            {g.id for g in User(sysadm.id).groups},
            {group_id('group_system_admin')})

    @with_transaction()
    def test_security_admin_assigns_groups(self):
        "The security administrator assigns groups, never his own"
        pool = Pool()
        User = pool.get('res.user')
        Group = pool.get('res.group')
        sysadm, secadm, auditor = self.admins()
        clerk = create_user('clerk')
        with as_user(secadm):
            User.write([User(clerk.id)], {
                    'groups': [('add', [group_id('group_audit_admin')])],
                    'totp_required': True,
                    })
            with self.assertRaises(SeparationError):
                User.write([User(secadm.id)], {
                        'groups': [('add', [group_id('group_audit_admin')])]})
            with self.assertRaises(SeparationError):
                Group.write([Group(group_id('group_audit_admin'))], {
                        'users': [('add', [secadm.id])]})
            # a user is not given a second administrator group
            with self.assertRaises(ValidationError):
                User.write([User(auditor.id)], {
                        'groups': [('add', [group_id('group_system_admin')])]})
            # users are created by the system administrator
            with self.assertRaises(AccessError):
                User.create([{'login': 'x', 'name': 'x'}])
        self.assertIn(
            group_id('group_audit_admin'),
            {g.id for g in User(clerk.id).groups})

    @with_transaction()
    def test_users_may_ask_for_two_factor(self):
        "Any user may switch two-factor on for himself"
        pool = Pool()
        User = pool.get('res.user')
        sysadm, secadm, auditor = self.admins()
        with as_user(sysadm):
            User.write([User(sysadm.id)], {'totp_required': True})

    @with_transaction()
    def test_auditor_cannot_change(self):
        "The audit administrator changes neither users nor configuration"
        pool = Pool()
        User = pool.get('res.user')
        Configuration = pool.get('security.configuration')
        sysadm, secadm, auditor = self.admins()
        clerk = create_user('clerk')
        with as_user(auditor):
            with self.assertRaises(AccessError):
                User.write([User(clerk.id)], {'name': 'x'})
            with self.assertRaises(AccessError):
                User.create([{'login': 'x', 'name': 'x'}])
            with self.assertRaises(AccessError):
                Configuration.write(
                    [Configuration(1)], {'export_max_rows': 1000})

    @with_transaction()
    def test_admin_groups_exclusive(self):
        "Even the root user cannot give two administrator groups"
        with self.assertRaises(ValidationError):
            create_user('both', 'group_system_admin', 'group_audit_admin')

    # -- export requests ---------------------------------------------------

    def export_request(self, user, model='res.user'):
        pool = Pool()
        Request = pool.get('security.export.request')
        IrModel = pool.get('ir.model')
        model, = IrModel.search([('name', '=', model)])
        with as_user(user):
            request, = Request.create([{
                        'model': model.id,
                        'description': '全部用户',
                        'reason': '年度核查',
                        'rows': 500,
                        }])
            Request.request([request])
        return Request(request.id)

    @with_transaction()
    def test_export_request_needs_another_approver(self):
        "Nobody approves his own export request"
        pool = Pool()
        Request = pool.get('security.export.request')
        sysadm, secadm, auditor = self.admins()
        request = self.export_request(secadm)
        self.assertEqual(request.requester, secadm)
        self.assertEqual(request.state, 'requested')
        with as_user(secadm):
            with self.assertRaises(SeparationError):
                Request.approve([Request(request.id)])
            with self.assertRaises(SeparationError):
                Request.refuse([Request(request.id)])
        other = create_user('secadm2', 'group_security_admin')
        with as_user(other):
            Request.approve([Request(request.id)])
        request = Request(request.id)
        self.assertEqual(request.state, 'approved')
        self.assertEqual(request.approver, other)
        self.assertGreater(request.valid_until, datetime.datetime.now())

    @with_transaction()
    def test_export_request_only_security_admin_decides(self):
        "A clerk asks; he may not approve another clerk's request"
        pool = Pool()
        Request = pool.get('security.export.request')
        clerk = create_user('clerk')
        clerk2 = create_user('clerk2')
        request = self.export_request(clerk)
        with as_user(clerk2):
            # the other clerk does not even see the request
            self.assertEqual(Request.search([]), [])
            with self.assertRaises(AccessError):
                Request.approve([Request(request.id)])
        with as_user(clerk):
            self.assertEqual(Request.search([]), [request])

    @with_transaction()
    def test_requester_is_the_author(self):
        "The requester cannot be set to someone else"
        pool = Pool()
        Request = pool.get('security.export.request')
        IrModel = pool.get('ir.model')
        clerk = create_user('clerk')
        other = create_user('other')
        model, = IrModel.search([('name', '=', 'res.user')])
        with as_user(clerk):
            request, = Request.create([{
                        'requester': other.id, 'model': model.id,
                        'description': 'x', 'reason': 'y'}])
            self.assertEqual(request.requester.id, clerk.id)

    @with_transaction()
    def test_check_export(self):
        """Above the limit an export needs a valid approved request of the
        same user for the same model"""
        pool = Pool()
        Request = pool.get('security.export.request')
        Configuration = pool.get('security.configuration')
        sysadm, secadm, auditor = self.admins()
        clerk = create_user('clerk')
        self.assertEqual(Configuration.get_values()['export_max_rows'], 100)
        with as_user(clerk):
            self.assertIsNone(Request.check_export('res.user', 100))
            with self.assertRaises(ExportApprovalError):
                Request.check_export('res.user', 101)
        request = self.export_request(clerk)
        with as_user(clerk):
            with self.assertRaises(ExportApprovalError):
                Request.check_export('res.user', 101)  # not yet approved
        with as_user(secadm):
            Request.approve([Request(request.id)])
        with as_user(clerk):
            self.assertEqual(Request.check_export('res.user', 5000), request)
            with self.assertRaises(ExportApprovalError):
                Request.check_export('res.group', 101)  # another model
        with as_user(create_user('clerk2')):
            with self.assertRaises(ExportApprovalError):
                Request.check_export('res.user', 101)  # another user
        # expired
        Request.write([request], {
                'valid_until': datetime.datetime.now()
                - datetime.timedelta(minutes=1)})
        with as_user(clerk):
            with self.assertRaises(ExportApprovalError):
                Request.check_export('res.user', 101)

    # -- audit trail access matrix ---------------------------------------

    @with_transaction()
    def test_audit_access_matrix(self):
        """Only the audit administrator reads the audit trail; nobody
        writes it, the system administrator does not even read it"""
        pool = Pool()
        try:
            Event = pool.get('security.audit.event')
        except KeyError:
            raise unittest.SkipTest("security.audit.event not there yet")
        sysadm, secadm, auditor = self.admins()
        # the security administrator's read right is the audit module's
        # choice; the other two are fixed by the separation of duties
        matrix = {
            sysadm: False,
            auditor: True,
            }
        for user, may_read in matrix.items():
            with as_user(user):
                if may_read:
                    Event.search([])
                else:
                    with self.assertRaises(AccessError):
                        Event.search([])
                for call in [
                        lambda: Event.write([Event(1)], {'details': 'x'}),
                        lambda: Event.delete([Event(1)]),
                        lambda: Event.create([{'details': 'x'}]),
                        ]:
                    with self.assertRaises(AccessError):
                        call()


del ModuleTestCase
