# This file is part of the eldercare platform. See LICENSE.
"Audit trail: append-only, SM3 hash chain, verify, purge, access."
import datetime
import threading
from unittest.mock import patch

from trytond.config import config
from trytond.model.exceptions import AccessError
from trytond.modules.elder_security.audit import row_hash
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase, with_transaction)
from trytond.transaction import Transaction, check_access


def create_user(login, *groups):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user, = User.create([{
                'login': login, 'name': login,
                'groups': [('add', [
                            ModelData.get_id(*g.split('.')) for g in groups])],
                }])
    return user


class AuditTestCase(ModuleTestCase):
    "Test the audit trail"
    module = 'elder_security'

    def setUp(self):
        super().setUp()
        length = config.get('password', 'length')
        config.set('password', 'length', '0')
        self.addCleanup(config.set, 'password', 'length', length)
        sleep = patch('time.sleep')
        sleep.start()
        self.addCleanup(sleep.stop)

    def events(self, **domain):
        "Events committed so far (read in a fresh transaction)"
        with Transaction().new_transaction() as transaction:
            Event = Pool().get('security.audit.event')
            records = Event.search(
                [(k, '=', v) for k, v in domain.items()], order=[('seq', 'ASC')])
            result = [{
                    'seq': e.seq, 'event_type': e.event_type,
                    'object': e.object, 'field': e.field, 'login': e.login,
                    'result': e.result, 'source_ip': e.source_ip,
                    'request_id': e.request_id, 'local_time': e.local_time,
                    'user_id': e.user_id, 'details': e.details}
                for e in records]
            transaction.rollback()
        return result

    def verify(self, tamper=None):
        "Run verify in a fresh transaction after the tamper SQL, roll back"
        with Transaction().new_transaction() as transaction:
            Event = Pool().get('security.audit.event')
            cursor = transaction.connection.cursor()
            if tamper:
                cursor.execute(tamper)
            problems = Event.verify()
            transaction.rollback()
        return problems

    @with_transaction()
    def test_log_fields_and_chain(self):
        "An event carries time with zone, user, IP, request id and the chain"
        pool = Pool()
        Event = pool.get('security.audit.event')
        with Transaction().set_context(_request={
                    'remote_addr': '10.1.2.3', 'request_id': 'req-42'}):
            seq = Event.log('export', object='elder.elder,7',
                details={'count': 1})
        event, = self.events(seq=seq)
        self.assertEqual(event['source_ip'], '10.1.2.3')
        self.assertEqual(event['request_id'], 'req-42')
        self.assertEqual(event['user_id'], Transaction().user)
        self.assertEqual(event['login'], 'admin')
        self.assertEqual(event['object'], 'elder.elder,7')
        self.assertRegex(event['local_time'], r'[+-]\d\d:\d\d$')
        self.assertEqual(self.verify(), [])

    @with_transaction()
    def test_orm_refuses_changes(self):
        "Nobody creates, writes or deletes events through the ORM"
        pool = Pool()
        Event = pool.get('security.audit.event')
        seq = Event.log('other')
        with Transaction().new_transaction():
            event, = Event.search([('seq', '=', seq)])
            for call in [
                    lambda: Event.write([event], {'result': 'failure'}),
                    lambda: Event.delete([event]),
                    lambda: Event.create([{'event_type': 'other'}]),
                    lambda: Event.copy([event]),
                    ]:
                with self.assertRaises(AccessError):
                    call()

    @with_transaction()
    def test_verify_detects_update(self):
        "An UPDATE done with raw SQL breaks the chain"
        pool = Pool()
        Event = pool.get('security.audit.event')
        Event.log('other', details='one')
        seq = Event.log('other', details='two')
        Event.log('other', details='three')
        self.assertEqual(self.verify(), [])
        problems = self.verify(
            "UPDATE security_audit_event SET result = 'failure' "  # noqa: S608 (test SQL from constants, no user input)
            "WHERE seq = %d" % seq)
        self.assertTrue(problems)
        self.assertTrue(any(str(seq) in p for p in problems))
        # Rewriting the hash of the row breaks the link of the next one
        problems = self.verify(
            "UPDATE security_audit_event SET result = 'failure', "  # noqa: S608 (test SQL from constants, no user input)
            "hash = repeat('a', 64) WHERE seq = %d" % seq)
        self.assertTrue(any(str(seq + 1) in p for p in problems))

    @with_transaction()
    def test_verify_detects_delete(self):
        "A DELETE done with raw SQL (middle or tail) is detected"
        pool = Pool()
        Event = pool.get('security.audit.event')
        Event.log('other', details='one')
        seq = Event.log('other', details='two')
        last = Event.log('other', details='three')
        self.assertTrue(self.verify(
                "DELETE FROM security_audit_event WHERE seq = %d" % seq))  # noqa: S608 (test SQL from constants, no user input)
        self.assertTrue(self.verify(
                "DELETE FROM security_audit_event WHERE seq = %d" % last))  # noqa: S608 (test SQL from constants, no user input)
        self.assertEqual(self.verify(), [])

    @with_transaction()
    def test_concurrent_inserts_one_chain(self):
        "Concurrent writers keep one chain (no fork, no duplicate seq)"
        pool = Pool()
        Event = pool.get('security.audit.event')
        start = Event.log('other', details='start')
        errors = []

        def worker(n):
            try:
                with Transaction().start(DB_NAME, 1):
                    for i in range(10):
                        Pool().get('security.audit.event').log(
                            'other', details='thread %s %s' % (n, i))
            except Exception as exception:  # pragma: no cover
                errors.append(exception)
        threads = [threading.Thread(target=worker, args=(n,))
            for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        events = [e for e in self.events() if e['seq'] > start]
        self.assertEqual(len(events), 60)
        self.assertEqual(
            [e['seq'] for e in events], list(range(start + 1, start + 61)))
        self.assertEqual(self.verify(), [])

    @with_transaction()
    def test_purge_keeps_verify_green(self):
        "The purge deletes only old events and re-anchors the chain"
        pool = Pool()
        Event = pool.get('security.audit.event')
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
            days=400)
        with patch.object(Event, '_now', return_value=old):
            first = Event.log('other', details='old 1')
            second = Event.log('other', details='old 2')
        recent = Event.log('other', details='recent')
        # The retention cannot go below 180 days
        count = Event.purge(days=30)
        self.assertGreaterEqual(count, 2)
        seqs = {e['seq'] for e in self.events()}
        self.assertNotIn(first, seqs)
        self.assertNotIn(second, seqs)
        self.assertIn(recent, seqs)
        self.assertEqual(self.verify(), [])
        # The purge itself is audited
        self.assertTrue(self.events(event_type='audit_purge'))

    @with_transaction()
    def test_purge_respects_minimum_retention(self):
        "Events younger than 180 days are never purged"
        pool = Pool()
        Event = pool.get('security.audit.event')
        young = datetime.datetime.now(
            datetime.timezone.utc) - datetime.timedelta(days=100)
        with patch.object(Event, '_now', return_value=young):
            seq = Event.log('other', details='100 days')
        Event.purge(days=30)
        self.assertIn(seq, {e['seq'] for e in self.events()})
        self.assertEqual(self.verify(), [])

    @with_transaction()
    def test_row_hash_covers_every_column(self):
        "Changing any hashed column changes the hash"
        values = {
            'seq': 1, 'prev_hash': '0' * 64,
            'utc_time': datetime.datetime(2025, 1, 1),
            'local_time': '2025-01-01T08:00:00+08:00', 'user_id': 1,
            'login': 'a', 'source_ip': '1.2.3.4', 'request_id': 'r',
            'event_type': 'login', 'object': 'res.user,1', 'field': None,
            'result': 'success', 'details': None}
        reference = row_hash(values)
        for name in values:
            changed = dict(values, **{name: 'x'})
            self.assertNotEqual(row_hash(changed), reference, name)

    @with_transaction()
    def test_access(self):
        "Only the audit administrator reads events; the sysadmin cannot"
        pool = Pool()
        Event = pool.get('security.audit.event')
        Event.log('other')
        sysadmin = create_user('sysadm', 'elder_security.group_system_admin')
        secadmin = create_user('secadm', 'elder_security.group_security_admin')
        admin = create_user('root2', 'res.group_admin')
        auditor = create_user('auditor', 'elder_security.group_audit_admin')
        for user in [sysadmin, secadmin, admin]:
            with self.subTest(user=user.login):
                with Transaction().set_user(user.id), check_access():
                    with self.assertRaises(AccessError):
                        Event.search([])
        with Transaction().set_user(auditor.id), check_access():
            Event.search([])
            Event.read([e.id for e in Event.search([], limit=1)], ['hash'])
            with self.assertRaises(AccessError):
                Event.write(Event.search([], limit=1), {'result': 'failure'})

    @with_transaction()
    def test_user_events(self):
        "User creation, group change, disable and password change"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        start = max([e['seq'] for e in self.events()] or [0])
        user = create_user('wangwu', 'elder_security.group_audit_admin')
        User.write([user], {'groups': [('remove', [
                            ModelData.get_id(
                                'elder_security', 'group_audit_admin')])]})
        User.write([user], {'password': 'Qm7#tide-Lamp'})
        User.write([user], {'active': False})
        types = [e['event_type'] for e in self.events() if e['seq'] > start
            and e['object'] == 'res.user,%s' % user.id]
        self.assertEqual(types, [
                'user_create', 'group_change', 'group_change',
                'password_change', 'user_disable'])

    @with_transaction()
    def test_login_events(self):
        "Login success, failure and lockout are audited"
        pool = Pool()
        User = pool.get('res.user')
        user = create_user('zhaoliu')
        User.write([user], {'password': 'Qm7#tide-Lamp'})
        Transaction().commit()
        try:
            start = max(e['seq'] for e in self.events())
            with Transaction().set_context(_request={
                        'remote_addr': '192.0.2.9'}):
                self.assertTrue(User.get_login(
                        'zhaoliu', {'password': 'Qm7#tide-Lamp'}))
                for _ in range(5):
                    User.get_login('zhaoliu', {'password': 'wrong'})
            events = [e for e in self.events() if e['seq'] > start]
            types = [e['event_type'] for e in events]
            self.assertEqual(types[0], 'login')
            self.assertEqual(types.count('login_failure'), 5)
            self.assertIn('lockout', types)
            self.assertTrue(all(e['source_ip'] == '192.0.2.9' for e in events))
            self.assertTrue(all(e['login'] == 'zhaoliu' for e in events))
        finally:
            Lockout = pool.get('security.login.lockout')
            Lockout.success('zhaoliu')
            User.write([user], {'active': False, 'login': 'zhaoliu-gone'})
            Transaction().commit()

    @with_transaction()
    def test_configuration_change(self):
        "A change of the security configuration is audited"
        pool = Pool()
        Configuration = pool.get('security.configuration')
        config_ = Configuration(1)
        config_.lockout_attempts = 6
        config_.save()
        self.assertTrue([
                e for e in self.events(event_type='config_change')
                if 'lockout_attempts' in (e['details'] or '')])

    @with_transaction()
    def test_verify_wizard(self):
        "The verify wizard is for the audit administrator"
        pool = Pool()
        Verify = pool.get('security.audit.verify', type='wizard')
        auditor = create_user('auditor2', 'elder_security.group_audit_admin')
        sysadmin = create_user('sysadm2', 'elder_security.group_system_admin')
        with Transaction().set_user(sysadmin.id):
            with self.assertRaises(AccessError):
                session_id, _, _ = Verify.create()
                Verify.execute(session_id, {}, 'start')
        with Transaction().set_user(auditor.id):
            session_id, _, _ = Verify.create()
            result = Verify.execute(session_id, {}, 'start')
            values = result['view']['defaults']
            self.assertTrue(values['intact'], values['report'])


del ModuleTestCase
