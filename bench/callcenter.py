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
        [--calls 300] [--rate 20] [--talk-ms 200]

Measured:
- calls/s end to end: N / (first INVITE → last call record ended, with
  the older person matched), polled every 0.2 s;
- event latency: call.event.create_date (the adapter's write, in its
  transaction) − the event's time stamped by Kamailio ($TV), p50/p95/max;
- answered / offered (every call must be answered and recorded once)."""
import argparse
import json
import os
import statistics
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
    args = parser.parse_args()
    os.environ.setdefault('DB_CACHE', 'postgresql://')
    from trytond.modules.elder_callcenter.tests import test_telephony as t
    env = t.Env(t.database_uri())
    try:
        env.create_data()
        env.start_kamailio(env.render())
        env.start_phones()
        env.start_adapter()
        time.sleep(2)
        start = time.time()
        caller = env.call('uac_call.xml', '12349', calls=args.calls,
            extra=['-d', str(args.talk_ms), '-r', str(args.rate),
                '-l', str(max(int(args.rate * 2), 10))], wait=False)
        caller.wait(args.calls / args.rate + 120)

        def done():
            from trytond.pool import Pool
            with env.transaction():
                Call = Pool().get('call.call')
                ended = Call.search_count([('state', '=', 'ended'),
                        ('elder', '!=', None)])
            return ended >= args.calls
        t.wait_for(done, timeout=args.calls / args.rate + 300,
            message='all calls recorded')
        elapsed = time.time() - start
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
            popped = sum(1 for c in calls if c.elder)
        q = statistics.quantiles(latencies, n=100)
        result = {
            'calls': args.calls, 'rate_offered': args.rate,
            'talk_ms': args.talk_ms, 'recorded': len(calls),
            'answered': answered, 'screen_pop': popped,
            'events': len(events), 'elapsed_s': round(elapsed, 2),
            'calls_per_s': round(args.calls / elapsed, 2),
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
