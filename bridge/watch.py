"""TCP server for the "3G" smart-watch protocol used by many elderly watches:
frames ``[3G*<ID>*<LLLL>*<CMD>,<fields…>]`` where LLLL is the length of
``CMD,fields`` as 4 hex digits and ``3G`` the vendor code (also SG, CS …).

- ``LK`` keepalive (every 5–8 minutes) is answered ``[3G*ID*0002*LK]``;
- ``UD``/``UD2`` positions (UD2: sent late, from the watch's memory);
- ``AL`` alarm with a position and the status word, answered
  ``[3G*ID*0002*AL]``; the watch repeats it until answered.

Replies are sent only after the event is committed: an alarm the platform
did not store is never confirmed to the watch. Events of all connections
are written in batches through the same store as the MQTT bridge.
"""
import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import logging
import re
import time
from collections import Counter

from .adapters import MalformedMessage
from .store import TemporaryError

logger = logging.getLogger(__name__)

HEADER = re.compile(rb'\[([A-Z0-9]{2})\*([0-9A-Za-z]{1,20})\*([0-9A-Fa-f]{4})\*')
ANSWERED = {'LK', 'AL'}
# High 16 bits of the status word: alarms (3G protocol document)
ALARM_BITS = {0: 'sos', 1: 'low_battery', 4: 'taken_off', 5: 'fall'}


def frame(vendor, ident, content):
    data = content.encode('ascii')
    return b'[%s*%s*%04X*%s]' % (
        vendor.encode(), ident.encode(), len(data), data)


def split_frames(buffer):
    """Return (frames, rest, garbage bytes): frames as (vendor, id, content);
    bytes that are not a frame are skipped"""
    frames, garbage = [], 0
    while True:
        start = buffer.find(b'[')
        if start < 0:
            garbage += len(buffer)
            return frames, b'', garbage
        if start:
            garbage += start
            buffer = buffer[start:]
        match = HEADER.match(buffer)
        if not match:
            if len(buffer) < 40 and b']' not in buffer:
                return frames, buffer, garbage  # header not complete yet
            buffer = buffer[1:]
            garbage += 1
            continue
        length = int(match.group(3), 16)
        end = match.end() + length
        if len(buffer) < end + 1:
            return frames, buffer, garbage
        if buffer[end:end + 1] != b']':
            buffer = buffer[1:]
            garbage += 1
            continue
        content = buffer[match.end():end].decode('utf-8', 'replace')
        frames.append((match.group(1).decode(), match.group(2).decode(),
                content))
        buffer = buffer[end + 1:]


def _coordinate(value, hemisphere):
    number = float(value)
    return -number if hemisphere in {'S', 'W'} else number


def parse_position(fields):
    """UD/AL fields: date ddmmyy, time hhmmss, A|V, lat, N|S, lon, E|W,
    speed, direction, altitude, satellites, gsm, battery, steps, rolls,
    status (hex) …"""
    if len(fields) < 7:
        raise MalformedMessage('position with %s fields' % len(fields))
    try:
        time_ = dt.datetime.strptime(fields[0] + fields[1], '%d%m%y%H%M%S')
        values = {}
        if fields[2] == 'A':
            values['latitude'] = _coordinate(fields[3], fields[4])
            values['longitude'] = _coordinate(fields[5], fields[6])
        if len(fields) > 12 and fields[12]:
            values['battery'] = int(fields[12])
        status = int(fields[15], 16) if len(fields) > 15 and fields[15] \
            else 0
    except ValueError as error:
        raise MalformedMessage('invalid position: %s' % error) from error
    alarms = status >> 16
    for bit, name in ALARM_BITS.items():
        if alarms & (1 << bit):
            values[name] = True
    return time_.replace(tzinfo=dt.timezone.utc), values


def to_event(ident, content, received=None):
    "One frame → a normalised event, or None for commands not stored"
    command, *fields = content.split(',')
    received = received or dt.datetime.now(dt.timezone.utc)
    base = {'protocol': 'tcp_watch', 'device_key': ident, 'raw': content}
    if command == 'LK':
        values = {}
        if len(fields) >= 3 and fields[2].isdigit():
            values['battery'] = int(fields[2])
        # keepalives repeat the same content: make each one count
        return dict(base, time=received, kind='heartbeat', values=values,
            message_id='lk:%d' % (received.timestamp() * 1000))
    if command in {'UD', 'UD2', 'AL'}:
        time_, values = parse_position(fields)
        kind = 'alarm' if command == 'AL' else 'position'
        # a repeated AL (not answered yet) is the same message
        digest = hashlib.sha256(content.encode()).hexdigest()[:32]
        return dict(base, time=time_, kind=kind, values=values,
            message_id='%s:%s' % (command.lower(), digest))
    return None


class WatchServer:
    def __init__(self, store, host='127.0.0.1', port=8001, batch_size=500,
            batch_interval=0.2, idle_timeout=900):
        self.store = store
        self.host, self.port = host, port
        self.batch_size, self.batch_interval = batch_size, batch_interval
        self.idle_timeout = idle_timeout
        self.stats = Counter()
        self.executor = concurrent.futures.ThreadPoolExecutor(1)
        self.queue = None

    async def serve(self, stop=None):
        self.queue = asyncio.Queue()
        writer = asyncio.create_task(self._writer())
        server = await asyncio.start_server(
            self._connection, self.host, self.port)
        logger.info('watch server on %s:%s', self.host, self.port)
        async with server:
            if stop is None:
                await server.serve_forever()
            else:
                await stop.wait()
        writer.cancel()

    async def _connection(self, reader, writer):
        buffer = b''
        try:
            while True:
                data = await asyncio.wait_for(
                    reader.read(4096), self.idle_timeout)
                if not data:
                    break
                frames, buffer, garbage = split_frames(buffer + data)
                if garbage:
                    self.stats['malformed'] += 1
                    logger.warning('skipped %s bytes that are not frames',
                        garbage)
                if len(buffer) > 65536:
                    buffer = b''
                for vendor, ident, content in frames:
                    await self._frame(writer, vendor, ident, content)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _frame(self, writer, vendor, ident, content):
        self.stats['received'] += 1
        command = content.split(',', 1)[0]
        try:
            event = to_event(ident, content)
        except MalformedMessage as error:
            self.stats['malformed'] += 1
            logger.warning('malformed %s frame of %s: %s', command, ident,
                error)
            event = None
        if event is not None:
            future = asyncio.get_running_loop().create_future()
            await self.queue.put((event, future))
            status = await future
            self.stats[status] += 1
            if status == 'unknown_device':
                logger.warning('unknown watch %s', ident)
        else:
            self.stats['ignored'] += 1
        if command in ANSWERED:
            writer.write(frame(vendor, ident, command))
            await writer.drain()

    async def _writer(self):
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            deadline = time.monotonic() + self.batch_interval
            while len(batch) < self.batch_size:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(
                            self.queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            events = [e for e, _ in batch]
            delay = 0.5
            while True:
                try:
                    statuses = await loop.run_in_executor(
                        self.executor, self.store.write, events)
                    break
                except TemporaryError as error:
                    logger.warning('database unavailable: %s', error)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10)
                except Exception:
                    logger.exception('watch batch rejected')
                    statuses = ['rejected'] * len(events)
                    break
            for (_, future), status in zip(batch, statuses):
                if not future.done():
                    future.set_result(status)
