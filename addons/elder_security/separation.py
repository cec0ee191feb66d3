# This file is part of the eldercare platform. See LICENSE.
"""Separation of duties (三权分立, GB/T 22239 level 2).

The three administrator groups do not overlap:

- the system administrator (系统管理员) creates, edits and deactivates user
  accounts and maintains the system, but assigns no groups;
- the security administrator (安全管理员) assigns groups and the security
  settings of the users (two-factor) and edits the security policy;
- the audit administrator (审计管理员) reads the audit trail and may read,
  never change, business data.

Nobody changes his own groups, a user holds at most one of the three
administrator groups, and nobody approves his own bulk export
(``security.export.request``).

The checks apply to the calls made with access checking (RPC from the
clients); the root user (``trytond-admin``, server code run without access
checks) is not limited, which is how the first administrators are set up.
"""
import datetime

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .configuration import DEFAULTS

ADMIN_GROUPS = [
    'group_system_admin', 'group_security_admin', 'group_audit_admin']

DEFAULTS.update({
        'export_max_rows': 100,
        'export_approval_hours': 24,
        })


class SeparationError(AccessError):
    pass


class ExportApprovalError(AccessError):
    pass


def _group_id(name):
    return Pool().get('ir.model.data').get_id('elder_security', name)


def audit_log(event_type, object=None, result='success', details=None):
    """Record an event in the audit trail (security.audit.event) when the
    model is there; unknown event types are recorded as 'other'."""
    pool = Pool()
    try:
        Event = pool.get('security.audit.event')
    except KeyError:
        return None
    types = dict(Event.fields_get(['event_type'])['event_type']['selection'])
    if event_type not in types:
        details = dict(details or {}, kind=event_type)
        event_type = 'other'
    return Event.log(
        event_type, object=object, result=result, details=details)


def _admin_group_ids():
    "The ids of the three administrator groups (those already created)"
    ModelData = Pool().get('ir.model.data')
    ids = set()
    for name in ADMIN_GROUPS:
        try:
            ids.add(ModelData.get_id('elder_security', name))
        except KeyError:
            pass
    return ids


def _checking():
    "True when the call is made by a real user with access checking"
    transaction = Transaction()
    return bool(transaction.check_access and transaction.user)


def _user_groups(user_id):
    "The ids of the groups of user_id (with the implied groups)"
    pool = Pool()
    User = pool.get('res.user')
    with Transaction().set_user(user_id), Transaction().reset_context():
        return set(User.get_groups())


def is_security_admin(user_id=None):
    if user_id is None:
        user_id = Transaction().user
    if not user_id:
        return True
    return _group_id('group_security_admin') in _user_groups(user_id)


class Configuration(metaclass=PoolMeta):
    __name__ = 'security.configuration'

    export_max_rows = fields.Integer(
        "Export Rows Without Approval", required=True,
        domain=[('export_max_rows', '>=', 0)],
        help="An Excel export of more rows needs an export request approved "
        "by another person.")
    export_approval_hours = fields.Integer(
        "Export Approval Validity (hours)", required=True,
        domain=[('export_approval_hours', '>=', 1)],
        help="How long an approved export request may be used.")

    @classmethod
    def default_export_max_rows(cls):
        return DEFAULTS['export_max_rows']

    @classmethod
    def default_export_approval_hours(cls):
        return DEFAULTS['export_approval_hours']


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    # Fields only the security administrator may change on another user.
    _security_fields = {'groups', 'totp_required'}

    @classmethod
    def create(cls, vlist):
        if _checking():
            for values in vlist:
                if values.get('groups'):
                    cls._check_separation(None, {'groups'})
        users = super().create(vlist)
        return users

    @classmethod
    def write(cls, *args):
        if _checking():
            actions = iter(args)
            for users, values in zip(actions, actions):
                names = cls._security_fields & set(values)
                if names:
                    for user in users:
                        cls._check_separation(user.id, names)
        super().write(*args)

    @classmethod
    def _check_separation(cls, user_id, names):
        """Refuse the change of the security fields names of user_id
        (None for a new user) by the current user."""
        current = Transaction().user
        if 'groups' in names and user_id == current:
            raise SeparationError(
                gettext('elder_security.msg_separation_own_groups'))
        if not is_security_admin(current):
            if user_id == current and names <= {'totp_required'}:
                return  # users may ask for two-factor themselves
            raise SeparationError(
                gettext('elder_security.msg_separation_security_admin'))

    @classmethod
    def validate(cls, users):
        super().validate(users)
        cls.check_admin_groups(users)

    @classmethod
    def check_admin_groups(cls, users):
        "A user holds at most one of the three administrator groups"
        admin_ids = _admin_group_ids()
        with without_check_access():
            for user in cls.browse(users):
                held = admin_ids & {g.id for g in user.groups}
                if len(held) > 1:
                    raise ValidationError(gettext(
                            'elder_security.msg_separation_admin_groups',
                            user=user.rec_name))


class Group(metaclass=PoolMeta):
    __name__ = 'res.group'

    @classmethod
    def write(cls, *args):
        if _checking():
            actions = iter(args)
            for groups, values in zip(actions, actions):
                if 'users' in values:
                    _check_membership_change(
                        cls._changed_users(values['users']))
        super().write(*args)

    @classmethod
    def create(cls, vlist):
        if _checking():
            for values in vlist:
                if values.get('users'):
                    _check_membership_change(
                        cls._changed_users(values['users']))
        return super().create(vlist)

    @staticmethod
    def _changed_users(actions):
        ids = set()
        for action in actions:
            if action[0] in {'add', 'remove'}:
                ids.update(action[1])
            else:
                ids.add(None)  # create/delete/copy: unknown users
        return ids

    @classmethod
    def validate(cls, groups):
        super().validate(groups)
        pool = Pool()
        User = pool.get('res.user')
        admin_ids = _admin_group_ids()
        if admin_ids & {g.id for g in groups}:
            with without_check_access():
                users = {u for g in cls.browse(groups) for u in g.users}
            User.check_admin_groups(list(users))


def _check_membership_change(user_ids):
    current = Transaction().user
    if current in user_ids:
        raise SeparationError(
            gettext('elder_security.msg_separation_own_groups'))
    if not is_security_admin(current):
        raise SeparationError(
            gettext('elder_security.msg_separation_security_admin'))


class UserGroup(metaclass=PoolMeta):
    "Group membership changed directly on the relation"
    __name__ = 'res.user-res.group'

    @classmethod
    def create(cls, vlist):
        if _checking():
            _check_membership_change({v.get('user') for v in vlist})
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        if _checking():
            actions = iter(args)
            ids = set()
            for records, values in zip(actions, actions):
                ids.update(r.user.id for r in records)
                if 'user' in values:
                    ids.add(values['user'])
            _check_membership_change(ids)
        super().write(*args)

    @classmethod
    def delete(cls, records):
        if _checking():
            _check_membership_change({r.user.id for r in records})
        super().delete(records)


EXPORT_STATES = [
    ('draft', "Draft"),
    ('requested', "Requested"),
    ('approved', "Approved"),
    ('refused', "Refused"),
    ]


class ExportRequest(Workflow, ModelSQL, ModelView):
    "Bulk export request (批量导出申请)"
    __name__ = 'security.export.request'

    _readonly = {'readonly': Eval('state') != 'draft'}

    requester = fields.Many2One(
        'res.user', "Requester", required=True, readonly=True,
        ondelete='RESTRICT')
    model = fields.Many2One(
        'ir.model', "Model", required=True, ondelete='CASCADE',
        states=_readonly)
    description = fields.Text(
        "Data", required=True, states=_readonly,
        help="Which records: the filter or a description of the list.")
    reason = fields.Text("Reason", required=True, states=_readonly)
    rows = fields.Integer(
        "Expected Rows", states=_readonly,
        domain=['OR', ('rows', '=', None), ('rows', '>=', 0)])
    state = fields.Selection(
        EXPORT_STATES, "State", readonly=True, required=True, sort=False)
    requested_at = fields.Timestamp("Requested At", readonly=True)
    approver = fields.Many2One(
        'res.user', "Approver", readonly=True, ondelete='RESTRICT')
    decided_at = fields.Timestamp("Decided At", readonly=True)
    valid_until = fields.Timestamp("Valid Until", readonly=True)
    decision_note = fields.Text(
        "Decision Note",
        states={'readonly': Eval('state') != 'requested'})

    del _readonly

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'requested'),
            ('requested', 'approved'),
            ('requested', 'refused'),
            ('requested', 'draft'),
            }
        cls._buttons.update({
                'request': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'refuse': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_requester():
        return Transaction().user or None

    def get_rec_name(self, name):
        return '%s #%s' % (self.model.rec_name if self.model else '', self.id)

    @classmethod
    def create(cls, vlist):
        user = Transaction().user
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            # the requester is always the person who writes the request
            if user or not values.get('requester'):
                values['requester'] = user
        return super().create(vlist)

    @classmethod
    def copy(cls, requests, default=None):
        default = dict(default or {})
        for name in ['requested_at', 'approver', 'decided_at',
                'valid_until', 'decision_note']:
            default.setdefault(name, None)
        default.setdefault('state', 'draft')
        return super().copy(requests, default=default)

    @classmethod
    def check_modification(cls, mode, requests, values=None, external=False):
        super().check_modification(
            mode, requests, values=values, external=external)
        if mode == 'delete':
            for request in requests:
                if request.state != 'draft':
                    raise AccessError(gettext(
                            'elder_security.msg_export_request_delete',
                            request=request.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('requested')
    def request(cls, requests):
        cls.write(requests, {
                'requested_at': datetime.datetime.now(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, requests):
        cls.write(requests, {'requested_at': None})

    @classmethod
    def _check_not_own(cls, requests):
        user = Transaction().user
        for request in requests:
            if request.requester.id == user:
                raise SeparationError(gettext(
                        'elder_security.msg_export_request_own',
                        request=request.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, requests):
        pool = Pool()
        Configuration = pool.get('security.configuration')
        cls._check_not_own(requests)
        hours = Configuration.get_values()['export_approval_hours']
        now = datetime.datetime.now()
        cls.write(requests, {
                'approver': Transaction().user,
                'decided_at': now,
                'valid_until': now + datetime.timedelta(hours=hours),
                })
        for request in requests:
            audit_log('export_approval', request, details={
                    'model': request.model.name,
                    'requester': request.requester.login,
                    'decision': 'approved'})

    @classmethod
    @ModelView.button
    @Workflow.transition('refused')
    def refuse(cls, requests):
        cls._check_not_own(requests)
        cls.write(requests, {
                'approver': Transaction().user,
                'decided_at': datetime.datetime.now(),
                })
        for request in requests:
            audit_log('export_approval', request, details={
                    'model': request.model.name,
                    'requester': request.requester.login,
                    'decision': 'refused'})

    @classmethod
    def find_approved(cls, model, user_id=None):
        "Return the valid approved request of user_id for model or None"
        if user_id is None:
            user_id = Transaction().user
        now = datetime.datetime.now()
        with without_check_access():
            requests = cls.search([
                    ('requester', '=', user_id),
                    ('model.name', '=', model),
                    ('state', '=', 'approved'),
                    ('valid_until', '>', now),
                    ], order=[('valid_until', 'DESC')], limit=1)
        return requests[0] if requests else None

    @classmethod
    def check_export(cls, model, count, user_id=None):
        """Refuse an export of count records of model by user_id (the
        current user) above the configured limit unless that user holds a
        valid approved request for model. Return the request used or None.
        """
        pool = Pool()
        Configuration = pool.get('security.configuration')
        IrModel = pool.get('ir.model')
        if user_id is None:
            user_id = Transaction().user
        if not user_id:
            return None
        limit = Configuration.get_values()['export_max_rows']
        if count <= limit:
            return None
        request = cls.find_approved(model, user_id)
        if not request:
            audit_log('export', model, result='failure', details={
                    'rows': count, 'limit': limit,
                    'reason': 'no approved export request'})
            raise ExportApprovalError(gettext(
                    'elder_security.msg_export_approval_required',
                    count=count, limit=limit,
                    model=IrModel.get_name(model)))
        return request


class Rule(metaclass=PoolMeta):
    "Give record rules the id of the user (own export requests)"
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        context.setdefault('user_id', Transaction().user)
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        return (*key, Transaction().user)
