"""SOS press → agent notification latency under background load.

Mosquitto + bridge (one worker) + a database copied from the elder_device
template with: an agent user (group_agent, scope = the city 150100),
S older persons in district 150102, each with an SOS watch (installed,
active), and L load devices. A paced publisher sends `--load` non-alarm
events per second; meanwhile S SOS presses (one per SOS device, so each is
a NEW alarm, not a repeat counted on an open one) are published at
`--interval` seconds apart.

Latency = publish call → the agent's bus message received by a PostgreSQL
`LISTEN "bus"` connection (what trytond's bus thread listens to; it is sent
at the commit of the alarm's transaction, together with the
res.notification row). The HTTP long-poll hop from a running trytond to the
browser is not included (no trytond web server here). p50/p95/max.

    python bench/sos_latency.py [--sos 200] [--interval 0.1] [--load 1000]
"""
import argparse
import json
import signal
import threading
import time
import uuid

import common


def bus_listener(name, received, ready, stop):
    import psycopg
    conn = psycopg.connect(common.uri(), dbname=name, autocommit=True)
    conn.execute('LISTEN "bus"')
    ready.set()
    while not stop.is_set():
        for notify in conn.notifies(timeout=0.5):
            now = time.monotonic()
            payload = json.loads(notify.payload)
            received.append((now, payload))
            if stop.is_set():
                break
    conn.close()


def load_publisher(port, devices, rate, stop, counter):
    import paho.mqtt.client as paho
    client = paho.Client(paho.CallbackAPIVersion.VERSION2,
        client_id='bench-load-%s' % uuid.uuid4().hex[:8], protocol=paho.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect('127.0.0.1', port)
    client.loop_start()
    start, i = time.monotonic(), 0
    while not stop.is_set():
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        device = devices[i % len(devices)]
        client.publish('eldercare/%s/event' % device, json.dumps({
                    'id': 'load-%d' % i, 'ts': 1772323200 + i // len(devices),
                    'kind': 'heartbeat', 'values': {'battery': 90}}), qos=1)
        i += 1
        counter[0] = i
    client.loop_stop()
    client.disconnect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--sos', type=int, default=200)
    parser.add_argument('--interval', type=float, default=0.1)
    parser.add_argument('--load', type=float, default=1000)
    parser.add_argument('--load-devices', type=int, default=200)
    parser.add_argument('--warmup', type=float, default=5)
    parser.add_argument('--timeout', type=float, default=60)
    args = parser.parse_args()
    result = {'benchmark': 'sos_latency', 'machine': common.machine(),
        'parameters': vars(args)}
    sos_devices = ['SOSW%05d' % i for i in range(args.sos)]
    load_devices = ['LOADW%05d' % i for i in range(args.load_devices)]
    import paho.mqtt.client as paho
    with common.tempdir('bench-sos-') as directory, \
            common.database('bench_sos') as name:
        with common.transaction(name) as pool:
            from trytond.modules.elder_base.tests.tools import region
            User = pool.get('res.user')
            ModelData = pool.get('ir.model.data')
            agent, = User.create([{'login': 'bench_agent',
                        'name': 'bench_agent',
                        'groups': [('add', [ModelData.get_id(
                                        'elder_base', 'group_agent')])],
                        'elder_region': region('150100').id}])
            agent_id = agent.id
            elders = common.create_elders(args.sos)
            common.create_devices(pool, sos_devices, 'mqtt', elders=elders)
            common.create_devices(pool, load_devices, 'mqtt',
                elders=elders[:1])
        broker = common.Broker(directory)
        broker.start()
        bridge = common.BridgeProcess(name, broker, directory,
            client_id='bench-sos-bridge')
        received, ready, stop = [], threading.Event(), threading.Event()
        listener = threading.Thread(target=bus_listener,
            args=(name, received, ready, stop))
        listener.start()
        ready.wait(10)
        load_stop, load_count = threading.Event(), [0]
        loader = None
        try:
            bridge.start()
            if args.load:
                loader = threading.Thread(target=load_publisher, args=(
                        broker.port, load_devices, args.load, load_stop,
                        load_count))
                loader.start()
                time.sleep(args.warmup)
            client = paho.Client(paho.CallbackAPIVersion.VERSION2,
                client_id='bench-sos-%s' % uuid.uuid4().hex[:8],
                protocol=paho.MQTTv5)
            client.connect('127.0.0.1', broker.port)
            client.loop_start()
            sent = {}
            load_start = load_count[0]
            t_load = time.monotonic()
            for i, device in enumerate(sos_devices):
                sent[device] = time.monotonic()
                client.publish('eldercare/%s/event' % device, json.dumps({
                            'id': 'sos-%d' % i, 'kind': 'alarm',
                            'values': {'sos': True}}), qos=1)
                time.sleep(args.interval)
            load_rate = (load_count[0] - load_start) / (
                time.monotonic() - t_load)

            def matched():
                found = {}
                for at, payload in received:
                    if payload.get('channel') != 'user:%s' % agent_id:
                        continue
                    title = payload['message'].get('title', '')
                    for device in sos_devices:
                        if device in title and device not in found:
                            found[device] = at
                return found
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                found = matched()
                if len(found) >= len(sos_devices):
                    break
                time.sleep(0.5)
            found = matched()
            client.loop_stop()
            client.disconnect()
        finally:
            load_stop.set()
            if loader:
                loader.join(10)
            stop.set()
            listener.join(10)
            stats = bridge.stats()
            bridge.stop(signal.SIGTERM)
            broker.stop()
        latencies = [found[d] - sent[d] for d in found]
        alarms, notifications = common.query(name,
            "SELECT (SELECT count(*) FROM device_alarm WHERE kind = 'sos'), "
            '(SELECT count(*) FROM res_notification WHERE "user" = %s)',
            [agent_id])[0]
    ms = lambda v: round(v * 1000) if v is not None else None  # noqa: E731
    result.update({
            'sos_sent': len(sent), 'bus_messages_matched': len(found),
            'sos_alarms': alarms, 'agent_notifications': notifications,
            'background_load_achieved_per_s': round(load_rate),
            'latency_ms': {
                'p50': ms(common.percentile(latencies, 50)),
                'p95': ms(common.percentile(latencies, 95)),
                'p99': ms(common.percentile(latencies, 99)),
                'max': ms(max(latencies) if latencies else None),
                'min': ms(min(latencies) if latencies else None)},
            'measured_to': 'PostgreSQL NOTIFY on channel "bus" received '
                '(sent at the commit that creates the alarm and the '
                'res.notification row); trytond HTTP long-poll hop excluded',
            'bridge_stats': stats,
            })
    lat = result['latency_ms']
    common.report('sos_latency', result,
        'SOS→agent bus message p50 %s ms, p95 %s ms, max %s ms over %d/%d '
        'presses, background %s ev/s' % (lat['p50'], lat['p95'], lat['max'],
            len(found), len(sent), result['background_load_achieved_per_s']))


if __name__ == '__main__':
    main()
