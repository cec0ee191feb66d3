#!/usr/bin/env python3
"""Call-center benchmark: SIP calls per second handled end to end and the
event latency (see the "Call center" section of bench/README.md).

A Kamailio from deploy/kamailio (rendered from the platform's queues and
seats, free ports), the CTI adapter as its own process, sipp "agent
phones" that answer, and a sipp caller placing N calls at R calls/s from
an older person's number (so every call has a screen pop). A copy of the
elder_callcenter DB_CACHE template is the database (as the tests do).

    TRYTOND_DATABASE__URI=postgresql://postgres@127.0.0.1:5432/ \\
    DB_CACHE=postgresql:// .venv/bin/python bench/callcenter.py \\
        [--calls 300] [--rate 20] [--talk-ms 200] [--seats 60] \\
        [--routing presence|all] [--profile var/cti.svg]

The calls go to the 12345 queue of --seats seats (one agent each, no
wrap-up time, all on one sipp answering phone). With presence routing (the
default) a seat takes one call at a time and is free again once the
adapter has recorded the hang-up and pushed the agent's presence back to
Kamailio; calls finding no free seat get 480 and are counted as not
connected. --routing all offers every call to the next seat whatever the
presence (the adapter's work is the same: it records and pushes presence
either way), to measure the adapter alone under overload. --profile runs
py-spy on the adapter for the run (needs py-spy in the venv).

Measured:
- calls/s end to end: N / (first INVITE → last call record ended, with
  the older person matched), polled every 0.2 s;
- event latency: call.event.create_date (the adapter's write, in its
  transaction) − the event's time stamped by Kamailio ($TV), p50/p95/max;
- answered / offered (every call must be answered and recorded once)."""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--calls', type=int, default=300)
    parser.add_argument('--rate', type=float, default=20)
    parser.add_argument('--talk-ms', type=int, default=200)
    parser.add_argument('--seats', type=int, default=60)
    parser.add_argument('--routing', choices=['presence', 'all'],
        default='presence')
    parser.add_argument('--profile', help='py-spy flame graph (svg) of the '
        'adapter')
    args = parser.parse_args()
    os.environ.setdefault('DB_CACHE', 'postgresql://')
    from trytond.modules.elder_callcenter.tests import test_telephony as t
    env = t.Env(t.database_uri(), routing=args.routing,
        pool_seats=args.seats)
    spy = None
    try:
        env.create_data()
        env.start_kamailio(env.render())
        env.start_phones()
        adapter = env.start_adapter()
        env.wait_presence('8101', 'available')
        if args.profile:
            spy = subprocess.Popen([  # noqa: S603 (fixed argument list)
                    str(Path(sys.executable).parent / 'py-spy'), 'record',
                    '--pid', str(adapter.pid), '--rate', '50',
                    '--output', args.profile, '--format',
                    'speedscope' if args.profile.endswith('.json')
                    else 'flamegraph'])
            time.sleep(1)
        start = time.time()
        # the failures (480: no free seat) are counted, not errors of sipp
        caller = env.call('uac_call.xml', '12345', calls=args.calls,
            extra=['-d', str(args.talk_ms),
                '-l', str(max(int(args.rate * 2), 10))], wait=False,
            rate=args.rate)
        caller.wait(args.calls / args.rate + 120)

        progress = {'ended': -1, 'since': time.monotonic()}

        def done():
            "all calls ended, or no progress for 15 s (then reported)"
            from trytond.pool import Pool
            with env.transaction():
                Call = Pool().get('call.call')
                ended = Call.search_count([('state', '=', 'ended'),
                        ('elder', '!=', None)])
            if ended != progress['ended']:
                progress.update(ended=ended, since=time.monotonic(),
                    at=time.time())
            return ended >= args.calls or (
                time.monotonic() - progress['since'] > 15)
        t.wait_for(done, timeout=args.calls / args.rate + 600,
            message='all calls recorded')
        elapsed = progress['at'] - start
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        from trytond.pool import Pool
        with env.transaction():
            pool = Pool()
            Call = pool.get('call.call')
            Event = pool.get('call.event')
            calls = Call.search([])
            events = Event.search([])
            latencies = sorted((e.create_date - e.time).total_seconds()
                for e in events)
            answered = sum(1 for c in calls if c.outcome == 'answered')
            no_seat = sum(1 for c in calls if c.failure_code == 480)
            popped = sum(1 for c in calls if c.elder)
            seats = len({c.seat.id for c in calls if c.seat})
            duplicates = len(calls) - len({c.call_id for c in calls})
        q = statistics.quantiles(latencies, n=100)
        result = {
            'calls': args.calls, 'rate_offered': args.rate,
            'talk_ms': args.talk_ms, 'routing': args.routing,
            'seats': args.seats, 'seats_used': seats,
            'recorded': len(calls), 'duplicates': duplicates,
            'ended_with_pop': progress['ended'],
            'answered': answered, 'no_free_seat_480': no_seat,
            'screen_pop': popped, 'load_average': os.getloadavg(),
            'events': len(events), 'elapsed_s': round(elapsed, 2),
            'calls_per_s': round(progress['ended'] / elapsed, 2),
            'latency_ms': {'p50': round(q[49] * 1000, 1),
                'p95': round(q[94] * 1000, 1),
                'max': round(latencies[-1] * 1000, 1)},
            'adapter': json.loads(env.stats_file.read_text())
            if env.stats_file.exists() else {},
            }
        print(json.dumps(result, indent=2))
        out = ROOT / 'bench' / 'results'
        out.mkdir(exist_ok=True)
        (out / f'callcenter-{int(start)}.json').write_text(
            json.dumps(result, indent=2))
        print(f"{result['calls_per_s']} calls/s end to end, event latency "
            f"p50 {result['latency_ms']['p50']} ms p95 "
            f"{result['latency_ms']['p95']} ms")
    finally:
        env.close()


if __name__ == '__main__':
    main()
