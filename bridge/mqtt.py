"""MQTT side of the bridge: paho-mqtt 2.x, MQTT 5, persistent session.

The broker keeps the session (clean_start=False, session expiry) and the
QoS 1 messages of the subscriptions while the bridge is away. A message is
acknowledged (PUBACK, manual_ack) only after the batch holding it is
committed, so a crash redelivers it and the ON CONFLICT insert makes the
second copy a no-op: nothing lost, nothing twice.
"""
import json
import logging
import os
import queue
import signal
import threading
import time
from collections import Counter

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from . import adapters
from .store import TemporaryError

logger = logging.getLogger(__name__)


class Bridge:
    def __init__(self, store, host='127.0.0.1', port=1883, client_id=None,
            username=None, password=None, group='bridge',
            batch_size=500, batch_interval=0.2, session_expiry=7 * 24 * 3600,
            stats_file=None, keepalive=30):
        self.store = store
        self.host, self.port = host, port
        self.group = group
        self.batch_size = batch_size
        self.batch_interval = batch_interval
        self.stats_file = stats_file
        self.keepalive = keepalive
        self.session_expiry = session_expiry
        self.stats = Counter()
        self.queue = queue.Queue()
        self.stopping = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
            protocol=mqtt.MQTTv5, manual_ack=True)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self.on_connect
        self.client.on_disconnect = self.on_disconnect
        self.client.on_message = self.on_message
        self.client.on_subscribe = self.on_subscribe
        self._stats_lock = threading.Lock()
        self.client.reconnect_delay_set(1, 30)

    # --- network thread ---------------------------------------------------

    def on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error('connection refused: %s', reason_code)
            return
        logger.info('connected to %s:%s (session present: %s)',
            self.host, self.port, flags.session_present)
        # Subscribing again is harmless and covers a session the broker lost
        client.subscribe([(t, mqtt.SubscribeOptions(qos=1))
                for t in adapters.subscriptions(self.group)])

    def on_subscribe(self, client, userdata, mid, reason_codes, properties):
        failed = [c for c in reason_codes if c.is_failure]
        if failed:
            logger.error('subscription refused: %s', failed)
        else:
            self.stats['subscribed'] += 1
            self.write_stats()

    def on_disconnect(self, client, userdata, flags, reason_code, properties):
        if not self.stopping.is_set():
            logger.warning('disconnected (%s): reconnecting', reason_code)

    def on_message(self, client, userdata, message):
        # Only parse here; the main thread writes and acknowledges.
        try:
            events = adapters.parse(
                message.topic, message.payload, message.properties)
            error = None
        except adapters.MalformedMessage as exc:
            events, error = [], str(exc)
        self.queue.put((message.mid, message.qos, message.topic,
                message.payload, events, error))

    # --- main thread ---------------------------------------------------------

    def connect(self):
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        while not self.stopping.is_set():
            try:
                self.client.connect(self.host, self.port, self.keepalive,
                    clean_start=False, properties=properties)
                return
            except OSError as error:
                logger.warning('cannot connect to %s:%s: %s', self.host,
                    self.port, error)
                self.stopping.wait(1)

    def run(self):
        self.connect()
        self.client.loop_start()
        try:
            while not self.stopping.is_set():
                batch = self._next_batch()
                if batch:
                    self.process(batch)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            self.write_stats()

    def stop(self, *args):
        self.stopping.set()

    def _next_batch(self):
        try:
            batch = [self.queue.get(timeout=0.5)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_interval
        urgent = _has_alarm(batch[0])
        while len(batch) < self.batch_size:
            # An alarm does not wait for the batch to fill: what is already
            # queued goes with it, then the batch is written
            timeout = 0 if urgent else deadline - time.monotonic()
            if timeout <= 0 and not urgent:
                break
            try:
                item = (self.queue.get_nowait() if urgent
                    else self.queue.get(timeout=timeout))
            except queue.Empty:
                break
            batch.append(item)
            urgent = urgent or _has_alarm(item)
        return batch

    def process(self, batch):
        "Write a batch in one transaction, then acknowledge its messages"
        events, owners = [], []
        for index, (_, _, topic, payload, message_events, error) in enumerate(
                batch):
            self.stats['received'] += 1
            if error:
                self.stats['malformed'] += 1
                logger.warning('malformed message on %s: %s: %.200r',
                    topic, error, payload)
            elif not message_events:
                self.stats['ignored'] += 1
            for event in message_events:
                events.append(event)
                owners.append(index)
        if events:
            statuses = self._write(events)
            self._failpoint('exit_after_commit')
            for event, status in zip(events, statuses):
                self.stats[status] += 1
                if status == 'unknown_device':
                    logger.warning('unknown device %s/%s',
                        event['protocol'], event['device_key'])
                elif status == 'rejected':
                    logger.error('rejected %s/%s message %s',
                        event['protocol'], event['device_key'],
                        event['message_id'])
        for mid, qos, *_ in batch:
            if qos:
                self.client.ack(mid, qos)
        self.stats['batches'] += 1
        self.write_stats()

    def _failpoint(self, name):
        """Tests: BRIDGE_FAILPOINT=exit_after_commit:N kills the process
        after its Nth commit, before the acknowledgements (the worst moment
        for a crash)"""
        point = os.environ.get('BRIDGE_FAILPOINT', '')
        if point.startswith(name + ':'):
            self.stats['_' + name] += 1
            if self.stats['_' + name] >= int(point.split(':', 1)[1]):
                logger.critical('failpoint %s reached', point)
                os._exit(70)

    def _write(self, events):
        delay = 0.5
        while True:
            try:
                return self.store.write(events)
            except TemporaryError as error:
                # The database is away: keep the batch (unacknowledged)
                logger.warning('database unavailable, retrying: %s', error)
                if self.stopping.wait(delay):
                    raise SystemExit(1)  # not acknowledged: redelivered
                delay = min(delay * 2, 10)
            except Exception:
                if len(events) == 1:
                    logger.exception('event rejected: %.300r', events[0])
                    return ['rejected']
                # A bad event spoils its batch: find it by halves
                logger.exception('batch failed, splitting it')
                half = len(events) // 2
                return self._write(events[:half]) + self._write(events[half:])

    def write_stats(self):
        if self.stats_file:
            with self._stats_lock:
                tmp = self.stats_file + '.tmp'
                with open(tmp, 'w') as file:
                    json.dump(dict(self.stats), file)
                os.replace(tmp, self.stats_file)


def _has_alarm(item):
    "Whether a queued message holds an alarm event (written at once)"
    return any(e.get('kind') == 'alarm' for e in item[4])


def install_signal_handlers(bridge):
    signal.signal(signal.SIGTERM, bridge.stop)
    signal.signal(signal.SIGINT, bridge.stop)
