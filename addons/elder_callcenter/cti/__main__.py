# This file is part of the eldercare platform. See LICENSE.
"""python -m trytond.modules.elder_callcenter.cti run --database DB
        [--evapi-host 127.0.0.1] [--evapi-port 8448]
    the CTI adapter for Kamailio: evapi events -> call records; pending
    click-to-dial requests -> Kamailio.
python -m trytond.modules.elder_callcenter.cti render --database DB
        --out DIR [--sip-port 5060] [--evapi-port 8448] [--no-answer 30]
        [--failover] [--routing presence|all] [--gateway sip:host:port]
    write kamailio.cfg, dispatcher.list and queues.cfg for the platform's
    queues and seats (from deploy/kamailio/kamailio.cfg).
python -m trytond.modules.elder_callcenter.cti replay --database DB
        --format ami|esl FILE
    feed a recorded Asterisk AMI or FreeSWITCH ESL event stream.

trytond is configured as usual: TRYTOND_CONFIG and TRYTOND_DATABASE__URI;
run it from the repository root (trytond.conf's relative paths, the
elder_security key file)."""
import argparse
import datetime
import json
import logging
import os
import signal
import sys
import threading
import time

from .store import TemporaryError, TrytonStore

logger = logging.getLogger('elder_callcenter.cti')


def utcnow():
    "naive UTC, as Tryton stores timestamps"
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def main(argv=None):
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog='python -m trytond.modules.elder_callcenter.cti')
    commands = parser.add_subparsers(dest='command', required=True)
    run = commands.add_parser('run', help='run the Kamailio evapi adapter')
    render = commands.add_parser('render', help='write Kamailio configuration')
    replay = commands.add_parser('replay', help='feed a recorded AMI/ESL stream')
    for sub in [run, render, replay]:
        sub.add_argument('--database', '-d',
            default=env('CTI_DATABASE') or env('TRYTOND_DATABASE_NAMES'),
            required=not (env('CTI_DATABASE') or env('TRYTOND_DATABASE_NAMES')))
        sub.add_argument('--config', '-c', default=env('TRYTOND_CONFIG'))
        sub.add_argument('--log-level', default=env('CTI_LOG_LEVEL', 'INFO'))
    run.add_argument('--evapi-host', default=env('CTI_EVAPI_HOST', '127.0.0.1'))
    run.add_argument('--evapi-port', type=int,
        default=int(env('CTI_EVAPI_PORT', '8448')))
    run.add_argument('--source', default='kamailio')
    run.add_argument('--batch-interval', type=float, default=0.05)
    run.add_argument('--stats-file', default=env('CTI_STATS_FILE'))
    render.add_argument('--out', required=True)
    render.add_argument('--sip-host', default='127.0.0.1')
    render.add_argument('--sip-port', type=int, default=5060)
    render.add_argument('--evapi-port', type=int, default=8448)
    render.add_argument('--no-answer', type=int, default=30)
    render.add_argument('--gateway', action='append', default=[])
    render.add_argument('--failover', action='store_true')
    render.add_argument('--routing', choices=['presence', 'all'],
        default='presence', help='presence: only the seats of available '
        'agents without a call (the default); all: every seat in turn')
    replay.add_argument('--format', choices=['ami', 'esl'], required=True)
    replay.add_argument('file')
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    logging.getLogger('trytond').setLevel(logging.WARNING)
    store = TrytonStore(args.database, args.config)
    if args.command == 'render':
        return cmd_render(store, args)
    if args.command == 'replay':
        return cmd_replay(store, args)
    return cmd_run(store, args)


def cmd_render(store, args):
    from . import kamailio
    queues, seats = platform_routing(store)
    path = kamailio.render(args.out, args.sip_port, args.evapi_port,
        queues, seats, gateways=args.gateway, sip_host=args.sip_host,
        no_answer_seconds=args.no_answer, failover=args.failover,
        routing=args.routing)
    print(path)
    return 0


def platform_routing(store):
    """([(number, set id, queue code)], [(set id, uri, seat code)]) of the
    active queues and seats: one dispatcher set per queue"""
    with store.Transaction().start(store.database, 0, readonly=True):
        Queue = store.Pool().get('call.queue')
        queues, seats = [], []
        for queue in Queue.search([('number', '!=', None)],
                order=[('id', 'ASC')]):
            queues.append((queue.number, queue.id, queue.code))
            for seat in queue.seats:
                if seat.active and seat.sip_uri:
                    seats.append((queue.id, seat.sip_uri, seat.code))
        return queues, seats


def cmd_replay(store, args):
    from . import ami, esl
    parser = ami.AmiParser() if args.format == 'ami' else esl.EslParser()
    with open(args.file, 'rb') as file:
        events = [e.as_dict() for e in parser.feed(file.read())]
    statuses = store.write(events)
    print(json.dumps({'events': len(events), 'new': statuses.count('new'),
                'malformed': parser.malformed}))
    return 0


class Runner:
    "The evapi adapter loop: batches of events, one commit each"

    def __init__(self, store, adapter, source, batch_interval=0.05,
            stats_file=None):
        self.store, self.adapter, self.source = store, adapter, source
        self.batch_interval = batch_interval
        self.stats_file = stats_file
        self.stats = {'new': 0, 'duplicate': 0, 'batches': 0, 'dials': 0,
            'presence_pushes': 0}
        self.dial_wakeup = threading.Event()
        # presence routing: what the switch was told, for which connection
        self.presence_wakeup = threading.Event()
        self.presence_wakeup.set()
        self.presence_sent = {}
        self.synced_hellos = 0
        self.wrap_due = None

    def run(self):
        self.adapter.position = self.store.position(self.source)
        logger.info('starting from position %s', self.adapter.position)
        threading.Thread(target=self.listen_dials, daemon=True).start()
        batch, started = [], None
        for event in self.adapter.events():
            if event is not None:
                batch.append(event)
                started = started or time.monotonic()
            if batch and (event is None or time.monotonic() - started
                    >= self.batch_interval):
                self.flush(batch)
                batch, started = [], None
            if event is None or self.dial_wakeup.is_set():
                self.send_dials()
            if event is None:
                self.push_presence()
        if batch:
            self.flush(batch)

    def flush(self, batch):
        position = batch[-1].position
        delay = 0.5
        while True:
            try:
                statuses = self.store.write([e.as_dict() for e in batch],
                    self.source, position)
                break
            except TemporaryError as error:
                logger.warning('database unavailable, retrying: %s', error)
                if self.adapter.stopping:
                    raise SystemExit(1)
                time.sleep(delay)
                delay = min(delay * 2, 10)
        self.adapter.position = position
        for status in statuses:
            self.stats[status] = self.stats.get(status, 0) + 1
        self.stats['batches'] += 1
        self.write_stats()

    def send_dials(self):
        self.dial_wakeup.clear()
        try:
            dials = self.store.pending_dials()
        except TemporaryError:
            return
        sent, failed = [], []
        for id_, seat_uri, target in dials:
            if seat_uri and self.adapter.send({'cmd': 'dial',
                        'seat_uri': seat_uri, 'target': target,
                        'ref': str(id_)}):
                sent.append(id_)
            elif not seat_uri:
                failed.append(id_)
        if sent:
            self.store.mark_dials(sent, 'sent')
            self.stats['dials'] += len(sent)
        if failed:
            self.store.mark_dials(failed, 'failed', 'seat without SIP URI')

    def push_presence(self):
        """Tell Kamailio the presence of the seats' agents: all of it after a
        (re)connection, then what changed (PostgreSQL NOTIFY from
        call.agent); end the wrap-ups that are over."""
        reconnected = self.adapter.hellos != self.synced_hellos
        due = self.wrap_due and utcnow() >= self.wrap_due
        if not (reconnected or due or self.presence_wakeup.is_set()):
            return
        if not self.adapter.sock:
            return
        hellos = self.adapter.hellos
        self.presence_wakeup.clear()
        try:
            if due:
                self.store.end_wrap_up()
            presence, self.wrap_due = self.store.presence()
        except TemporaryError as error:
            logger.warning('presence not read: %s', error)
            self.presence_wakeup.set()
            return
        if reconnected:
            self.presence_sent = {}
        for seat in set(self.presence_sent) - set(presence):
            presence[seat] = 'offline'  # seat removed or without a phone
        for seat, state in sorted(presence.items()):
            if self.presence_sent.get(seat) == state:
                continue
            if not self.adapter.send({'cmd': 'presence', 'seat': seat,
                        'state': state}):
                return  # connection lost: all again on the next hello
            self.presence_sent[seat] = state
            self.stats['presence_pushes'] += 1
        if reconnected:
            if not self.adapter.send({'cmd': 'presence_synced'}):
                return
            self.synced_hellos = hellos
            logger.info('presence of %s seats pushed', len(presence))

    def listen_dials(self):
        """LISTEN for new click-to-dial requests and presence changes
        (PostgreSQL NOTIFY)"""
        from .. import agent, dial
        from trytond import config
        uri = config.get('database', 'uri') or ''
        if not uri.startswith('postgresql'):
            return
        import psycopg
        while not self.adapter.stopping:
            try:
                with psycopg.connect(uri, dbname=self.store.database,
                        autocommit=True) as conn:
                    conn.execute('LISTEN "%s"' % dial.CHANNEL)
                    conn.execute('LISTEN "%s"' % agent.PRESENCE_CHANNEL)
                    # changes missed while not listening
                    self.dial_wakeup.set()
                    self.presence_wakeup.set()
                    for notify in conn.notifies():
                        if notify.channel == agent.PRESENCE_CHANNEL:
                            self.presence_wakeup.set()
                        else:
                            self.dial_wakeup.set()
            except Exception as error:  # reconnect on any failure
                logger.warning('dial listener: %s', error)
                time.sleep(2)

    def write_stats(self):
        if self.stats_file:
            data = dict(self.stats, **self.adapter.stats)
            tmp = self.stats_file + '.tmp'
            with open(tmp, 'w') as file:
                json.dump(data, file)
            os.replace(tmp, self.stats_file)


def cmd_run(store, args):
    from .kamailio import EvapiAdapter
    adapter = EvapiAdapter(args.evapi_host, args.evapi_port,
        source=args.source)
    runner = Runner(store, adapter, args.source, args.batch_interval,
        args.stats_file)

    def stop(*_):
        adapter.stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info('CTI adapter for %s:%s on %s', args.evapi_host,
        args.evapi_port, args.database)
    runner.run()
    logger.info('stopped: %s', runner.stats)
    return 0


if __name__ == '__main__':
    sys.exit(main())
