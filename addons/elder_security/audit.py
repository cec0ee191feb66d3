# This file is part of the eldercare platform. See LICENSE.
"""Append-only, hash-chained audit trail.

Every event is inserted by Event.log in its own short transaction (so that
it survives a rollback of the action and works from read-only requests):
READ COMMITTED, a PostgreSQL advisory lock serialises the writers, the new
row gets seq = head + 1 and hash = SM3(canonical row including the previous
hash); the chain row (security.audit.chain) keeps the head and the anchor
(the last purged row). Event.verify walks the chain from the anchor to the
head and reports every edited, inserted or deleted row. The ORM refuses
create, write and delete on the events for everyone; only the purge (cron,
rows older than the retention, at least 180 days) deletes, and it moves the
anchor so that verify stays green.
"""
import datetime
import json
import logging
import uuid
import zoneinfo

from cryptography.hazmat.primitives import hashes
from sql import Literal, Null
from sql.aggregate import Max
from sql.functions import CurrentTimestamp

from trytond.config import config
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model import Model, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

logger = logging.getLogger(__name__)

GENESIS = '0' * 64
MIN_RETENTION_DAYS = 180
LOCK_KEY = 0x656c6465  # pg_advisory_xact_lock key of the chain

EVENT_TYPES = [
    ('login', "Login"),
    ('login_failure', "Login Failure"),
    ('lockout', "Lockout"),
    ('password_change', "Password Change"),
    ('group_change', "Group Change"),
    ('user_create', "User Created"),
    ('user_disable', "User Disabled"),
    ('user_enable', "User Enabled"),
    ('full_view', "Full View of Personal Data"),
    ('export', "Export"),
    ('download', "Download"),
    ('import', "Import"),
    ('data_exchange', "Data Exchange"),
    ('config_change', "Configuration Change"),
    ('audit_verify', "Audit Verification"),
    ('audit_purge', "Audit Purge"),
    ('other', "Other"),
    ]
RESULTS = [
    ('success', "Success"),
    ('failure', "Failure"),
    ]
# Columns covered by the hash, in this order
HASHED = [
    'seq', 'prev_hash', 'utc_time', 'local_time', 'user_id', 'login', 'source_ip',
    'request_id', 'event_type', 'object', 'field', 'result', 'details']


def _patch_request_id():
    """Add 'request_id' (X-Request-ID of the proxy or a new uuid) to the
    request context that trytond puts in Transaction().context['_request']
    (with 'remote_addr', which follows [web] num_proxies)"""
    from trytond.protocols import wrappers
    from trytond.tools import cached_property
    original = wrappers.Request.__dict__.get('context')
    if getattr(original, '_elder_request_id', False) or original is None:
        return
    func = original.func

    def context(self):
        context = func(self)
        request_id = self.headers.get('X-Request-ID')
        if not request_id:
            request_id = self.environ.setdefault(
                'elder.request_id', uuid.uuid4().hex)
        context['request_id'] = str(request_id)[:64]
        return context
    prop = cached_property(context)
    prop.__set_name__(wrappers.Request, 'context')
    prop._elder_request_id = True
    wrappers.Request.context = prop


_patch_request_id()


def sm3_hex(data):
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def row_hash(values):
    "The SM3 hash of an event row (dict with the HASHED keys)"
    items = []
    for name in HASHED:
        value = values.get(name)
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        items.append(value)
    return sm3_hex(json.dumps(
            items, ensure_ascii=False, separators=(',', ':'),
            default=str).encode('utf-8'))


def retention_days():
    days = config.getint(
        'elder_security', 'audit_retention_days', default=MIN_RETENTION_DAYS)
    return max(days, MIN_RETENTION_DAYS)


def audit_timezone():
    name = config.get(
        'elder_security', 'audit_timezone', default='Asia/Shanghai')
    try:
        return zoneinfo.ZoneInfo(name)
    except Exception:
        return datetime.timezone.utc


def _is_postgresql():
    from trytond import backend
    return backend.name == 'postgresql'


class Chain(ModelSQL):
    "Audit chain head and anchor"
    __name__ = 'security.audit.chain'
    anchor_seq = fields.Integer("Anchor Sequence")
    anchor_hash = fields.Char("Anchor Hash")
    head_seq = fields.Integer("Head Sequence")
    head_hash = fields.Char("Head Hash")
    purged_count = fields.Integer("Purged Events")
    purged_at = fields.Timestamp("Purged At")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__ = {}

    @classmethod
    def state(cls, lock=False):
        "Return the chain row as a dict, creating it if missing"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [
            table.anchor_seq, table.anchor_hash,
            table.head_seq, table.head_hash]
        cursor.execute(*table.select(
                table.id, *columns, order_by=[table.id], limit=1))
        row = cursor.fetchone()
        if row is None:
            if not lock:
                return {
                    'id': None, 'anchor_seq': 0, 'anchor_hash': GENESIS,
                    'head_seq': 0, 'head_hash': GENESIS}
            cursor.execute(*table.insert(
                    [table.create_date, table.create_uid, *columns,
                        table.purged_count],
                    [[CurrentTimestamp(), 0, 0, GENESIS, 0, GENESIS, 0]]))
            return cls.state(lock=lock)
        id_, anchor_seq, anchor_hash, head_seq, head_hash = row
        return {
            'id': id_, 'anchor_seq': anchor_seq or 0,
            'anchor_hash': anchor_hash or GENESIS,
            'head_seq': head_seq or 0, 'head_hash': head_hash or GENESIS,
            }

    @classmethod
    def set_state(cls, id_, **values):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        names = sorted(values)
        cursor.execute(*table.update(
                [getattr(table, n) for n in names],
                [values[n] for n in names],
                where=table.id == id_))


class Event(ModelSQL, ModelView):
    "Audit event"
    __name__ = 'security.audit.event'

    seq = fields.Integer("Sequence", readonly=True)
    utc_time = fields.Timestamp("Time (UTC)", readonly=True)
    local_time = fields.Char(
        "Time", readonly=True, help="Local time with its UTC offset.")
    user_id = fields.Integer("User ID", readonly=True)
    user = fields.Function(
        fields.Many2One('res.user', "User"), 'get_user')
    login = fields.Char("Login", readonly=True)
    source_ip = fields.Char("Source IP", readonly=True)
    request_id = fields.Char("Request ID", readonly=True)
    event_type = fields.Selection(
        EVENT_TYPES, "Event Type", readonly=True, sort=False)
    object = fields.Char(
        "Object", readonly=True, help="The record concerned (model,id).")
    field = fields.Char("Field", readonly=True)
    result = fields.Selection(RESULTS, "Result", readonly=True)
    details = fields.Text("Details", readonly=True)
    prev_hash = fields.Char("Previous Hash", readonly=True)
    hash = fields.Char("Hash", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        from trytond.model import Index, Unique
        cls._sql_constraints += [
            ('seq_uniq', Unique(t, t.seq), 'elder_security.msg_audit_seq'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.utc_time, Index.Range())),
                Index(t, (t.event_type, Index.Equality())),
                })
        cls._order = [('seq', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'verify_button': {},
                })

    def get_user(self, name):
        return self.user_id if self.user_id and self.user_id > 0 else None

    # -- no change through the ORM -------------------------------------

    @classmethod
    def create(cls, vlist):
        raise AccessError(gettext('elder_security.msg_audit_append_only'))

    @classmethod
    def write(cls, *args):
        raise AccessError(gettext('elder_security.msg_audit_append_only'))

    @classmethod
    def delete(cls, records):
        raise AccessError(gettext('elder_security.msg_audit_append_only'))

    @classmethod
    def copy(cls, records, default=None):
        if records:
            raise AccessError(
                gettext('elder_security.msg_audit_append_only'))
        return []

    # -- writing -------------------------------------------------------

    @classmethod
    def _now(cls):
        return datetime.datetime.now(datetime.timezone.utc)

    @classmethod
    def log(cls, event_type, object=None, field=None, result='success',
            details=None, user_id=None, login=None):
        """Append an event (in its own transaction) and return its seq.

        object: a record, 'model,id' or a model name; details: a dict or a
        text. The user, source IP and request id come from the current
        transaction unless given."""
        transaction = Transaction()
        request = transaction.context.get('_request') or {}
        if user_id is None:
            user_id = transaction.user
        if login is None and user_id:
            login = cls._login_of(user_id)
        if isinstance(object, Model):
            object = '%s,%s' % (object.__name__, object.id)
        if details is not None and not isinstance(details, str):
            details = json.dumps(
                details, ensure_ascii=False, sort_keys=True, default=str)
        now = cls._now()
        values = {
            'utc_time': now.replace(tzinfo=None),
            'local_time': now.astimezone(audit_timezone()).isoformat(),
            'user_id': user_id,
            'login': login,
            'source_ip': request.get('remote_addr'),
            'request_id': (
                request.get('request_id')
                or transaction.context.get('request_id')),
            'event_type': event_type,
            'object': object,
            'field': field,
            'result': result,
            'details': details,
            }
        with transaction.new_transaction() as new:
            seq = cls._append(values)
            new.commit()
        return seq

    @classmethod
    def _login_of(cls, user_id):
        pool = Pool()
        User = pool.get('res.user')
        table = User.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.login, where=table.id == user_id))
        row = cursor.fetchone()
        return row[0] if row else None

    @classmethod
    def _lock(cls):
        "Serialise the writers of the chain (first statement of the txn)"
        if _is_postgresql():
            cursor = Transaction().connection.cursor()
            cursor.execute('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
            cursor.execute('SELECT pg_advisory_xact_lock(%s)', (LOCK_KEY,))

    @classmethod
    def _append(cls, values):
        pool = Pool()
        Chain = pool.get('security.audit.chain')
        cls._lock()
        state = Chain.state(lock=True)
        values = dict(values)
        values['seq'] = state['head_seq'] + 1
        values['prev_hash'] = state['head_hash']
        values['hash'] = row_hash(values)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        names = HASHED + ['hash']
        cursor.execute(*table.insert(
                [table.create_date, table.create_uid]
                + [getattr(table, n) for n in names],
                [[CurrentTimestamp(), Literal(0)]
                    + [values[n] for n in names]]))
        Chain.set_state(
            state['id'], head_seq=values['seq'], head_hash=values['hash'])
        return values['seq']

    # -- verification --------------------------------------------------

    @classmethod
    def verify(cls, batch=1000):
        """Return the list of problems of the chain (empty when intact):
        edited rows (hash), deleted or inserted rows (seq and prev_hash),
        a removed tail (head)"""
        pool = Pool()
        Chain = pool.get('security.audit.chain')
        state = Chain.state()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        problems = []
        expected_seq = state['anchor_seq'] + 1
        prev_hash = state['anchor_hash']
        last_seq = state['anchor_seq']
        columns = [getattr(table, n) for n in HASHED + ['hash']]
        while True:
            cursor.execute(*table.select(
                    *columns, where=table.seq >= expected_seq,
                    order_by=[table.seq], limit=batch))
            rows = cursor.fetchall()
            if not rows:
                break
            for row in rows:
                values = dict(zip(HASHED + ['hash'], row))
                seq = values['seq']
                if seq != expected_seq:
                    problems.append(gettext(
                            'elder_security.msg_audit_missing',
                            first=expected_seq, last=seq - 1))
                if values['prev_hash'] != prev_hash:
                    problems.append(gettext(
                            'elder_security.msg_audit_broken_link', seq=seq))
                if row_hash(values) != values['hash']:
                    problems.append(gettext(
                            'elder_security.msg_audit_altered', seq=seq))
                prev_hash = values['hash']
                expected_seq = seq + 1
                last_seq = seq
        # Rows below the anchor (the purge removes them) or before seq 1
        cursor.execute(*table.select(
                table.seq, where=(table.seq <= state['anchor_seq'])
                | (table.seq == Null), limit=1))
        row = cursor.fetchone()
        if row:
            problems.append(gettext(
                    'elder_security.msg_audit_altered', seq=row[0]))
        if last_seq != state['head_seq'] or prev_hash != state['head_hash']:
            problems.append(gettext(
                    'elder_security.msg_audit_head',
                    seq=state['head_seq'], last=last_seq))
        return problems

    @classmethod
    @ModelView.button_action('elder_security.wizard_audit_verify')
    def verify_button(cls, events):
        pass

    # -- retention -----------------------------------------------------

    @classmethod
    def purge(cls, days=None):
        """Delete the events older than the retention (at least 180 days)
        and move the anchor to the last deleted event; return the count"""
        pool = Pool()
        Chain = pool.get('security.audit.chain')
        days = max(days or retention_days(), MIN_RETENTION_DAYS)
        cutoff = (cls._now() - datetime.timedelta(days=days)).replace(
            tzinfo=None)
        table = cls.__table__()
        with Transaction().new_transaction() as new:
            cls._lock()
            cursor = new.connection.cursor()
            state = Chain.state(lock=True)
            # Only a prefix of the chain goes: up to the last old row
            # whose successors are not younger before it.
            cursor.execute(*table.select(
                    Max(table.seq), where=table.utc_time < cutoff))
            last, = cursor.fetchone()
            count = 0
            if last:
                cursor.execute(*table.select(
                        table.hash, where=table.seq == last))
                last_hash, = cursor.fetchone()
                cursor.execute(*table.delete(where=table.seq <= last))
                count = cursor.rowcount
                Chain.set_state(
                    state['id'], anchor_seq=last, anchor_hash=last_hash,
                    purged_count=count,
                    purged_at=cls._now().replace(tzinfo=None))
            new.commit()
        if count:
            logger.info("purged %s audit events older than %s", count, cutoff)
            cls.log('audit_purge', details={
                    'count': count, 'before': cutoff.isoformat(),
                    'retention_days': days})
        return count


class VerifyResult(ModelView):
    "Audit chain verification"
    __name__ = 'security.audit.verify.result'
    intact = fields.Boolean("Intact", readonly=True)
    report = fields.Text("Report", readonly=True)


class Verify(Wizard):
    "Verify the audit chain"
    __name__ = 'security.audit.verify'
    start = StateTransition()
    result = StateView(
        'security.audit.verify.result',
        'elder_security.audit_verify_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_start(self):
        pool = Pool()
        Event = pool.get('security.audit.event')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        transaction = Transaction()
        if transaction.user and ModelData.get_id(
                'elder_security', 'group_audit_admin') not in User.get_groups():
            raise AccessError(gettext('elder_security.msg_audit_verify_denied'))
        problems = Event.verify()
        Event.log(
            'audit_verify', result='failure' if problems else 'success',
            details={'problems': len(problems)})
        self.result.intact = not problems
        self.result.report = '\n'.join(problems) or gettext(
            'elder_security.msg_audit_intact')
        return 'result'

    def default_result(self, fields):
        return {
            'intact': self.result.intact,
            'report': self.result.report,
            }


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('security.audit.event|purge', "Purge Audit Events"))


# -- audited actions -------------------------------------------------------

class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    @classmethod
    def get_login(cls, login, parameters):
        Event = Pool().get('security.audit.event')
        try:
            user_id = super().get_login(login, parameters)
        except RateLimitException:
            Event.log(
                'login_failure', result='failure', user_id=0,
                login=login[:512], details={'reason': 'locked'})
            raise
        if user_id:
            Event.log('login', object='res.user,%s' % user_id,
                user_id=user_id, login=login[:512])
        else:
            Event.log(
                'login_failure', result='failure', user_id=0,
                login=login[:512])
        return user_id

    @classmethod
    def set_password(cls, users, name, value):
        Event = Pool().get('security.audit.event')
        super().set_password(users, name, value)
        if value == 'x' * 10:
            return
        for user in users:
            Event.log('password_change', object=user)

    @classmethod
    def create(cls, vlist):
        Event = Pool().get('security.audit.event')
        users = super().create(vlist)
        for user, values in zip(users, vlist):
            Event.log('user_create', object=user,
                details={'login': values.get('login')})
            if values.get('groups'):
                Event.log('group_change', object=user,
                    details={'groups': values['groups']})
        return users

    @classmethod
    def write(cls, *args):
        Event = Pool().get('security.audit.event')
        super().write(*args)
        actions = iter(args)
        for users, values in zip(actions, actions):
            for user in users:
                if 'groups' in values:
                    Event.log('group_change', object=user,
                        details={'groups': values['groups']})
                if 'active' in values:
                    Event.log(
                        'user_enable' if values['active'] else 'user_disable',
                        object=user)


class LoginLockout(metaclass=PoolMeta):
    __name__ = 'security.login.lockout'

    @classmethod
    def failure(cls, login, config):
        Event = Pool().get('security.audit.event')
        was_locked = cls.is_locked(login, config)
        super().failure(login, config)
        if not was_locked and cls.is_locked(login, config):
            Event.log('lockout', user_id=0, login=login[:512],
                details={'attempts': config['lockout_attempts'],
                    'minutes': config['lockout_duration']})


class Configuration(metaclass=PoolMeta):
    __name__ = 'security.configuration'

    @classmethod
    def write(cls, *args):
        Event = Pool().get('security.audit.event')
        super().write(*args)
        actions = iter(args)
        for records, values in zip(actions, actions):
            Event.log('config_change', object='security.configuration,1',
                details=values)

    @classmethod
    def create(cls, vlist):
        Event = Pool().get('security.audit.event')
        records = super().create(vlist)
        for values in vlist:
            Event.log('config_change', object='security.configuration,1',
                details=values)
        return records
