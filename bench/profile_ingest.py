"""Where a bridge batch spends its time: cProfile of TrytonStore.write
(Device.ingest + commit) on batches of --batch non-alarm events spread over
--devices devices, in this process (no broker).

    python bench/profile_ingest.py [--devices 200] [--batch 500] [--batches 6]
"""
import argparse
import cProfile
import io
import json
import pstats
import time

import common


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--devices', type=int, default=200)
    parser.add_argument('--batch', type=int, default=500)
    parser.add_argument('--batches', type=int, default=6)
    parser.add_argument('--top', type=int, default=25)
    args = parser.parse_args()
    devices = ['PROF%05d' % i for i in range(args.devices)]
    with common.database('bench_profile') as name:
        with common.transaction(name) as pool:
            elders = common.create_elders(1)
            common.create_devices(pool, devices, 'mqtt', elders=elders)
        from bridge import adapters
        from bridge.store import TrytonStore
        store = TrytonStore(name)
        n = 0

        def batch():
            nonlocal n
            events = []
            for _ in range(args.batch):
                device = devices[n % len(devices)]
                payload = json.dumps({'id': 'p-%d' % n,
                        'ts': 1772323200 + n // len(devices),
                        'kind': 'vitals', 'values': {'heart_rate': 70,
                            'spo2': 97, 'battery': 90}})
                events += adapters.parse(
                    'eldercare/%s/event' % device, payload.encode(), None)
                n += 1
            return events
        store.write(batch())  # warm caches
        batches = [batch() for _ in range(args.batches)]
        profiler = cProfile.Profile()
        start = time.monotonic()
        profiler.enable()
        for events in batches:
            store.write(events)
        profiler.disable()
        elapsed = time.monotonic() - start
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats('cumulative').print_stats(
            args.top)
        print(out.getvalue())
        rate = args.batch * args.batches / elapsed
        common.report('profile_ingest', {'benchmark': 'profile_ingest',
                'parameters': vars(args), 'seconds': round(elapsed, 2),
                'events_per_second': round(rate)},
            '%d events/s through TrytonStore.write (%d devices, batches of %d)'
            % (rate, args.devices, args.batch))


if __name__ == '__main__':
    main()
