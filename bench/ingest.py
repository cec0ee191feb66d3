"""Sustained MQTT ingestion rate, QoS 1, into PostgreSQL, no loss.

Mosquitto from deploy/mosquitto/mosquitto.conf (free port, temporary
persistence directory), a database copied from the elder_device template,
N devices installed and active for an older person, the bridge as its own
process(es) (`python -m bridge run`, shared subscription when several).
P publisher threads (one paho client each, MQTT 5, QoS 1) publish M
non-alarm messages (heartbeat / normal vital signs) as fast as they can;
the clock runs from the first publish until all M rows are in
device_telemetry (count polled). Then: rows == M and distinct (device,
message id) == M (no loss, no duplicate).

    python bench/ingest.py [--messages 100000] [--devices 200]
        [--publishers 4] [--workers 1,2] [--timeout 600] [--preload]

--preload publishes all M messages while the bridges are stopped (their
persistent sessions queue them in the broker) and times only the bridges
draining them: the bridge's own rate, without the Python publisher
competing for the 2 cores.
"""
import argparse
import json
import signal
import threading
import time
import uuid

import common


def publish_share(port, messages, acked, errors, inflight):
    import paho.mqtt.client as paho
    client = paho.Client(paho.CallbackAPIVersion.VERSION2,
        client_id='bench-pub-%s' % uuid.uuid4().hex[:8], protocol=paho.MQTTv5)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.connect('127.0.0.1', port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1)
            for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(300)
            if info.is_published():
                acked.append(1)
            else:
                errors.append(info.rc)
    finally:
        client.loop_stop()
        client.disconnect()


def messages_for(prefix, devices, count):
    result = []
    for i in range(count):
        device = devices[i % len(devices)]
        if i % 2:
            kind, values = 'heartbeat', {'battery': 90}
        else:
            kind, values = 'vitals', {'heart_rate': 60 + i % 30,
                'spo2': 95 + i % 4, 'battery': 90}
        result.append(('eldercare/%s/event' % device, json.dumps({
                        'id': '%s-%d' % (prefix, i),
                        'ts': 1772323200 + i // len(devices),
                        'kind': kind, 'values': values})))
    return result


def run_round(name, broker, directory, devices, args, workers):
    common.query(name, 'TRUNCATE device_telemetry')
    bridges = [common.BridgeProcess(name, broker, directory,
            client_id='bench-bridge-w%d-%d' % (workers, i))
        for i in range(workers)]
    for bridge in bridges:
        bridge.start()
    try:
        prefix = 'w%d' % workers
        messages = messages_for(prefix, devices, args.messages)
        shares = [messages[i::args.publishers]
            for i in range(args.publishers)]
        acked, errors = [], []
        threads = [threading.Thread(target=publish_share,
                args=(broker.port, share, acked, errors, args.inflight))
            for share in shares]
        if args.preload:
            # the broker queues everything in the bridges' persistent
            # sessions; the clock starts when the bridges come back
            for bridge in bridges:
                bridge.stop()
            t0 = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            preload_seconds = time.monotonic() - t0
            start = time.monotonic()
            for bridge in bridges:
                bridge.start()
        else:
            start = time.monotonic()
            for thread in threads:
                thread.start()
        published_at = None
        count, progress = 0, []
        deadline = start + args.timeout
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if published_at is None and not any(
                    t.is_alive() for t in threads):
                published_at = time.monotonic()
            count = common.query(name,
                'SELECT count(*) FROM device_telemetry')[0][0]
            progress.append((round(time.monotonic() - start, 1), count))
            if count >= args.messages:
                break
            for bridge in bridges:
                if bridge.process.poll() is not None:
                    raise SystemExit('bridge exited: '
                        + bridge.log.read_text()[-2000:])
        stored_at = time.monotonic()
        for thread in threads:
            thread.join(60)
        if published_at is None:
            published_at = time.monotonic()
        time.sleep(1)  # anything extra (a duplicate) would show now
        rows, distinct = common.query(name,
            'SELECT count(*), count(DISTINCT (device, message_id)) '
            'FROM device_telemetry')[0]
        elapsed = stored_at - start
        stats = [b.stats() for b in bridges]
        # steady-state rate: between 10 % and 90 % of the rows
        lo = next((p for p in progress if p[1] >= args.messages * .1), None)
        hi = next((p for p in progress if p[1] >= args.messages * .9), None)
        steady = (round((hi[1] - lo[1]) / (hi[0] - lo[0]))
            if lo and hi and hi[0] > lo[0] else None)
        return {
            'mode': 'preload (drain rate of the bridge)' if args.preload
            else 'live (publish and store at once)',
            'preload_publish_rate': round(args.messages / preload_seconds)
            if args.preload else None,
            'workers': workers,
            'messages': args.messages,
            'publisher_acks': len(acked), 'publish_errors': len(errors),
            'publish_seconds': round(published_at - start, 2),
            'publish_rate': round(len(acked) / (published_at - start)),
            'stored_seconds': round(elapsed, 2),
            'events_per_second': round(rows / elapsed) if elapsed else None,
            'steady_events_per_second_10_90': steady,
            'rows': rows, 'distinct': distinct,
            'lossless': rows == distinct == args.messages,
            'bridge_stats': stats,
            'progress_tail': progress[-5:],
            }
    finally:
        for bridge in bridges:
            bridge.stop(signal.SIGTERM)
        end_sessions(broker.port, [b.client_id for b in bridges])


def end_sessions(port, client_ids):
    """Discard the persistent sessions of a round's bridges: an offline
    session that keeps its shared subscription still gets its share of
    the group's messages, which the next round's bridges would never see"""
    import paho.mqtt.client as paho
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    for client_id in client_ids:
        client = paho.Client(paho.CallbackAPIVersion.VERSION2,
            client_id=client_id, protocol=paho.MQTTv5)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 0
        client.connect('127.0.0.1', port, clean_start=True,
            properties=properties)
        client.loop_start()
        time.sleep(0.3)
        client.disconnect()
        client.loop_stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--messages', type=int, default=100000)
    parser.add_argument('--devices', type=int, default=200)
    parser.add_argument('--publishers', type=int, default=4)
    parser.add_argument('--inflight', type=int, default=500)
    parser.add_argument('--workers', default='1,2')
    parser.add_argument('--timeout', type=float, default=600)
    parser.add_argument('--preload', action='store_true',
        help='publish everything while the bridges are stopped, then time '
        'only their draining (excludes the Python publisher)')
    args = parser.parse_args()
    result = {'benchmark': 'ingest', 'machine': common.machine(),
        'parameters': vars(args), 'rounds': []}
    devices = ['BENCH%05d' % i for i in range(args.devices)]
    with common.tempdir('bench-ingest-') as directory, \
            common.database('bench_ingest') as name:
        with common.transaction(name) as pool:
            elders = common.create_elders(1)
            common.create_devices(pool, devices, 'mqtt', elders=elders)
        broker = common.Broker(directory)
        broker.start()
        try:
            for workers in [int(w) for w in args.workers.split(',')]:
                result['rounds'].append(
                    run_round(name, broker, directory, devices, args, workers))
                print(json.dumps(result['rounds'][-1]), flush=True)
        finally:
            broker.stop()
    summary = '; '.join('%d worker(s): %s events/s (steady %s), %d/%d rows, '
        'lossless=%s' % (r['workers'], r['events_per_second'],
            r['steady_events_per_second_10_90'], r['rows'], r['messages'],
            r['lossless']) for r in result['rounds'])
    common.report('ingest', result, summary)


if __name__ == '__main__':
    main()
