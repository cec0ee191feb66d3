# This file is part of the eldercare platform. See LICENSE.
"Login lockout and idle session timeout."
import datetime
import logging
from secrets import compare_digest

from sql import Null

from trytond import config

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

logger = logging.getLogger(__name__)


class LoginLockout(ModelSQL, ModelView):
    """Failed logins per login name, known or not, so that a locked unknown
    login answers exactly like a locked user."""
    __name__ = 'security.login.lockout'
    _rec_name = 'login'

    login = fields.Char("Login", size=512, required=True, readonly=True)
    failures = fields.Integer("Failures", readonly=True)
    last_failure = fields.Timestamp("Last Failure", readonly=True)
    locked_until = fields.Timestamp("Locked Until", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('last_failure', 'DESC NULLS LAST'), ('id', 'DESC')]

    @staticmethod
    def _now():
        return datetime.datetime.now()

    @classmethod
    def _get(cls, login):
        records = cls.search([('login', '=', login[:512])], limit=1)
        return records[0] if records else None

    @classmethod
    def is_locked(cls, login, config):
        with without_check_access():
            record = cls._get(login)
        return bool(record and record.locked_until
            and record.locked_until > cls._now())

    @classmethod
    def failure(cls, login, config):
        now = cls._now()
        window = datetime.timedelta(minutes=config['lockout_duration'])
        with without_check_access():
            # Forget stale entries of any login
            cls.delete(cls.search([
                        ('last_failure', '<', now - window),
                        ['OR',
                            ('locked_until', '=', None),
                            ('locked_until', '<', now),
                            ],
                        ]))
            record = cls._get(login)
            if record is None:
                record = cls(
                    login=login[:512], failures=0, last_failure=None,
                    locked_until=None)
            if record.locked_until and record.locked_until <= now:
                record.failures = 0
                record.locked_until = None
            record.failures = (record.failures or 0) + 1
            record.last_failure = now
            if record.failures >= config['lockout_attempts']:
                record.locked_until = now + window
                logger.warning(
                    "login '%s' locked until %s after %s failures",
                    login, record.locked_until, record.failures)
            record.save()

    @classmethod
    def success(cls, login):
        with without_check_access():
            cls.delete(cls.search([('login', '=', login[:512])]))


class Session(metaclass=PoolMeta):
    __name__ = 'ir.session'

    @classmethod
    def _idle_timeout(cls):
        pool = Pool()
        Configuration = pool.get('security.configuration')
        return datetime.timedelta(
            minutes=Configuration.get_values()['session_idle_timeout'])

    @classmethod
    def check(cls, user, key, domain=None):
        """trytond's check (max_age, by user and IP address) and the idle
        timeout, in one query when there is no domain (every request
        checks its session)"""
        if domain:
            return cls._check_orm(user, key, domain=domain)
        now = datetime.datetime.now()
        max_age = datetime.timedelta(
            seconds=config.getint('session', 'max_age'))
        ip_address, _ = Transaction().remote_address()
        ip_address = str(ip_address) if ip_address else None
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.key, table.create_date, table.write_date,
                where=(table.create_uid == user)
                & (table.ip_address == ip_address
                    if ip_address is not None
                    else table.ip_address == Null)))
        find, last_reset, found_id = None, None, None
        to_delete = []
        for id_, session_key, create_date, write_date in cursor:
            if abs(create_date - now) < max_age:
                if compare_digest(session_key, key):
                    find = True
                    last_reset = write_date or create_date
                    found_id = id_
            else:
                if find is None and compare_digest(session_key, key):
                    find = False
                to_delete.append(id_)
        if to_delete:
            cls.delete(cls.browse(to_delete))
        if find:
            cls._session_reset_cache.set(key, last_reset)
            if now - last_reset >= cls._idle_timeout():
                logger.info("idle session of user %s expired", user)
                cls.delete([cls(found_id)])
                return False
        return find

    @classmethod
    def _check_orm(cls, user, key, domain=None):
        find = super().check(user, key, domain=domain)
        if find:
            timeout = cls._idle_timeout()
            now = datetime.datetime.now()
            sessions = cls.search([
                    ('create_uid', '=', user),
                    ('key', '=', key),
                    domain or [],
                    ], limit=1)
            if sessions:
                session, = sessions
                if now - session.last_modified_at >= timeout:
                    logger.info("idle session of user %s expired", user)
                    cls.delete([session])
                    return False
        return find

    @classmethod
    def reset(cls, key, domain=None):
        "Refresh the session on activity, at most every tenth of the timeout"
        now = datetime.datetime.now()
        timeout = cls._idle_timeout()
        last_reset = cls._session_reset_cache.get(key)
        if last_reset is None or (now - timeout / 10) > last_reset:
            sessions = cls.search([
                    ('key', '=', key),
                    ['OR',
                        ('create_date', '>=', now - timeout),
                        ('write_date', '>=', now - timeout),
                        ],
                    domain or [],
                    ])
            cls.write(sessions, {})
