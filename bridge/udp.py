"""UDP server for devices sending datagrams (`python -m bridge udp`).

One JSON datagram per message:

    {"id": "<device identifier>", "msg_id": "…", "time": "…"|epoch,
     "kind": "vitals", "values": {…}}

protocol udp; `kind` is optional (alarm/vitals from the values, else
state); without `msg_id` the message id is a hash of the datagram. The
answer `{"ack": "<msg_id>", "status": "new"|"duplicate"|"unknown_device"|
"rejected"}` goes back to the sender only after the commit: a device that
gets no ack resends the same datagram, stored once.

Datagrams beginning with `[` are read as frames of the "3G" watch protocol
(watch.py; protocol tcp_watch, the same watch over UDP), LK/AL answered
after the commit. Anything else is logged, counted `malformed` and dropped:
the server never stops on bad input. The events go through the same
batching writer and store as the TCP watch server.
"""
import asyncio
import json
import logging
import os

from . import event, watch
from .adapters import MalformedMessage

logger = logging.getLogger(__name__)

MAX_PENDING = 20000  # datagrams waiting for their commit; more are dropped


def to_event(data):
    "A JSON datagram → (normalised event, ack id); MalformedMessage"
    message = event.load_json(data)
    if not isinstance(message, dict):
        raise MalformedMessage('datagram is not a JSON object')
    ident = message.get('id')
    if not isinstance(ident, (str, int)) or isinstance(ident, bool) \
            or str(ident) == '':
        raise MalformedMessage('no device "id"')
    # "id" is the device here, "msg_id" the message
    msg_id = message.get('msg_id')
    if msg_id in (None, ''):
        msg_id = event.content_hash(data)
    result = event.from_object('udp', ident, message,
        data.decode('utf-8', 'replace'), message_id=msg_id)
    return result, msg_id


class UdpServer(watch.WatchServer):
    "The watch server's batching writer, fed by datagrams"

    def __init__(self, store, host='127.0.0.1', port=8002,
            stats_file=None, **kwargs):
        super().__init__(store, host=host, port=port, **kwargs)
        self.stats_file = stats_file
        self.transport = None
        self.pending = 0
        self.tasks = set()

    async def serve(self, stop=None):
        self.queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        writer = asyncio.create_task(self._writer())
        stats = asyncio.create_task(self._stats_writer())
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self.host, self.port))
        logger.info('UDP server on %s:%s', self.host, self.port)
        try:
            await (stop.wait() if stop is not None
                else asyncio.Future())
        finally:
            self.transport.close()
            writer.cancel()
            stats.cancel()
            self.write_stats()

    def datagram(self, data, addr):
        self.stats['received'] += 1
        if self.pending >= MAX_PENDING:
            self.stats['overload'] += 1  # not acknowledged: resent
            return
        task = asyncio.get_running_loop().create_task(
            self._datagram(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _datagram(self, data, addr):
        self.pending += 1
        try:
            if data.lstrip().startswith(b'['):
                await self._frames(data, addr)
                return
            try:
                event, msg_id = to_event(data)
            except MalformedMessage as error:
                self.stats['malformed'] += 1
                logger.warning('malformed datagram from %s:%s: %s: %.200r',
                    addr[0], addr[1], error, data)
                return
            status = await self._store(event)
            self._send(json.dumps({'ack': msg_id, 'status': status}).encode(),
                addr)
        except Exception:
            self.stats['error'] += 1
            logger.exception('datagram from %s:%s', *addr[:2])
        finally:
            self.pending -= 1

    async def _frames(self, data, addr):
        frames, rest, garbage = watch.split_frames(data)
        if garbage or rest or not frames:
            self.stats['malformed'] += 1
            logger.warning('malformed watch datagram from %s:%s: %.200r',
                addr[0], addr[1], data)
        for vendor, ident, content in frames:
            command = content.split(',', 1)[0]
            try:
                event = watch.to_event(ident, content)
            except MalformedMessage as error:
                self.stats['malformed'] += 1
                logger.warning('malformed %s frame of %s: %s', command,
                    ident, error)
                continue
            if event is None:
                self.stats['ignored'] += 1
            else:
                await self._store(event)
            if command in watch.ANSWERED:
                self._send(watch.frame(vendor, ident, command), addr)

    async def _store(self, event):
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((event, future))
        status = await future
        self.stats[status] += 1
        if status == 'unknown_device':
            logger.warning('unknown device %s/%s', event['protocol'],
                event['device_key'])
        elif status == 'rejected':
            logger.error('rejected %s/%s message %s', event['protocol'],
                event['device_key'], event['message_id'])
        return status

    def _send(self, data, addr):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)
            self.stats['acked'] += 1

    async def _stats_writer(self):
        last = None
        while True:
            await asyncio.sleep(0.5)
            if dict(self.stats) != last:
                last = dict(self.stats)
                self.write_stats()

    def write_stats(self):
        if self.stats_file:
            tmp = self.stats_file + '.tmp'
            with open(tmp, 'w') as file:
                json.dump(dict(self.stats), file)
            os.replace(tmp, self.stats_file)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server):
        self.server = server

    def datagram_received(self, data, addr):
        self.server.datagram(data, addr)

    def error_received(self, exc):
        # e.g. ICMP port unreachable for an ack: the device resends
        logger.info('UDP error: %s', exc)
