"""Concurrent TCP watch connections against `python -m bridge watch`.

C watches (registered, protocol tcp_watch, in stock: telemetry stored, no
alarm) connect at once (asyncio, one process, RLIMIT_NOFILE raised for
both sides); for --duration seconds each sends an LK keepalive every
--period seconds (random phase) and waits for its `[3G*ID*0002*LK]`
answer (sent by the server after the commit of the batch holding it), and
a UD position before every --ud-every-th LK. Reports connections
established / failed / dropped, LK sent / answered, answer latency
p50/p95/max, rows stored, and the server's RSS (idle after start, peak,
end).

    python bench/watch_connections.py [--connections 1000] [--duration 60]
        [--period 10] [--ud-every 2]
"""
import argparse
import asyncio
import datetime as dt
import random
import signal
import subprocess
import sys
import threading
import time

import common


def frame(ident, content):
    data = content.encode()
    return b'[3G*%s*%04X*%s]' % (ident.encode(), len(data), data)


def ud(ident, n):
    ts = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        seconds=n)
    return frame(ident, 'UD,%s,%s,A,%.6f,N,%.6f,E,0.00,0,1000,8,100,80,0,0,'
        '00000000' % (ts.strftime('%d%m%y'), ts.strftime('%H%M%S'),
            40.8424 + random.uniform(-.01, .01),  # noqa: S311
            111.7490 + random.uniform(-.01, .01)))  # noqa: S311


async def watch(ident, port, args, stats, latencies, end):
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection('127.0.0.1', port), 30)
    except (OSError, asyncio.TimeoutError):
        stats['connect_failed'] += 1
        return
    stats['connected'] += 1
    answer = frame(ident, 'LK')
    buffer, n = b'', 0
    try:
        await asyncio.sleep(random.uniform(0, args.period))  # noqa: S311
        while time.monotonic() < end:
            n += 1
            if args.ud_every and n % args.ud_every == 0:
                writer.write(ud(ident, n))
                stats['ud_sent'] += 1
            sent = time.monotonic()
            writer.write(frame(ident, 'LK,0,0,%d' % (90 - n % 10)))
            await writer.drain()
            stats['lk_sent'] += 1
            while answer not in buffer:
                data = await asyncio.wait_for(reader.read(4096), 30)
                if not data:
                    raise ConnectionError('closed by server')
                buffer += data
            buffer = buffer.split(answer, 1)[1]
            latencies.append(time.monotonic() - sent)
            stats['lk_answered'] += 1
            await asyncio.sleep(max(0, args.period - (time.monotonic() - sent)))
    except (OSError, ConnectionError, asyncio.TimeoutError) as error:
        stats['dropped'] += 1
        stats.setdefault('errors', []).append(repr(error)[:100])
    finally:
        writer.close()


async def run_clients(idents, port, args, stats, latencies):
    end = time.monotonic() + args.duration
    tasks = []
    for i, ident in enumerate(idents):
        tasks.append(asyncio.create_task(
                watch(ident, port, args, stats, latencies, end)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)  # 1,000 connections in ~0.5 s
    await asyncio.gather(*tasks)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--connections', type=int, default=1000)
    parser.add_argument('--duration', type=float, default=60)
    parser.add_argument('--period', type=float, default=10)
    parser.add_argument('--ud-every', type=int, default=2)
    args = parser.parse_args()
    nofile = common.raise_nofile(args.connections * 2 + 256)
    result = {'benchmark': 'watch_connections', 'machine': common.machine(),
        'parameters': vars(args), 'rlimit_nofile': nofile}
    idents = ['88%08d' % i for i in range(1, args.connections + 1)]
    with common.tempdir('bench-watch-') as directory, \
            common.database('bench_watch') as name:
        with common.transaction(name) as pool:
            common.create_devices(pool, idents, 'tcp_watch')
        port = common.elderctl.free_port()
        log = open(f'{directory}/watch.log', 'w')
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, '-m', 'bridge', 'watch', '--database', name,
                '--port', str(port)], cwd=common.ROOT,
            env=common.bridge_env(), stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=lambda: common.raise_nofile(
                args.connections * 2 + 256))
        rss = {'peak': 0}
        stop = threading.Event()

        def sample():
            while not stop.wait(0.5):
                value = common.rss_kib(server.pid) or 0
                rss['peak'] = max(rss['peak'], value)
        try:
            common.elderctl.wait_listening('127.0.0.1', port, server, 60)
            time.sleep(1)
            rss['idle'] = common.rss_kib(server.pid)
            sampler = threading.Thread(target=sample)
            sampler.start()
            stats = {'connected': 0, 'connect_failed': 0, 'dropped': 0,
                'lk_sent': 0, 'lk_answered': 0, 'ud_sent': 0}
            latencies = []
            start = time.monotonic()
            asyncio.run(run_clients(idents, port, args, stats, latencies))
            elapsed = time.monotonic() - start
            time.sleep(1)
            rss['end'] = common.rss_kib(server.pid)
            stop.set()
            sampler.join()
        finally:
            stop.set()
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        rows = common.query(name,
            'SELECT count(*) FROM device_telemetry')[0][0]
    ms = lambda v: round(v * 1000) if v is not None else None  # noqa: E731
    errors = stats.pop('errors', [])
    result.update({
            'seconds': round(elapsed, 1), **stats,
            'errors_sample': errors[:5],
            'lk_latency_ms': {
                'p50': ms(common.percentile(latencies, 50)),
                'p95': ms(common.percentile(latencies, 95)),
                'max': ms(max(latencies) if latencies else None)},
            'telemetry_rows': rows,
            'server_rss_mib': {k: round(v / 1024, 1) for k, v in rss.items()
                if v},
            })
    common.report('watch_connections', result,
        '%d/%d connected, %d dropped, LK answered %d/%d, p95 %s ms, '
        'server RSS idle %s MiB peak %s MiB' % (stats['connected'],
            args.connections, stats['dropped'], stats['lk_answered'],
            stats['lk_sent'], result['lk_latency_ms']['p95'],
            result['server_rss_mib'].get('idle'),
            result['server_rss_mib'].get('peak')))


if __name__ == '__main__':
    main()
