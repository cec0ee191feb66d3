"""python -m bridge run --database eldercare      (MQTT bridge)
python -m bridge watch --database eldercare    (TCP watch server)
python -m bridge udp --database eldercare      (UDP datagram server)
python -m bridge simulate --devices N --protocol PROTOCOL \
    --rate R --duration S                       (simulated devices: mqtt,
        zigbee, lora, ble, watch, udp, http, onenet, ctwing)

trytond is configured as usual: TRYTOND_CONFIG (a trytond.conf) and
TRYTOND_DATABASE__URI. The MQTT side by arguments or BRIDGE_* variables.
Run it from the repository root (trytond.conf's relative paths, the
elder_security key file)."""
import argparse
import logging
import os
import socket
import sys


def main(argv=None):
    env = os.environ.get
    parser = argparse.ArgumentParser(prog='python -m bridge')
    commands = parser.add_subparsers(dest='command', required=True)
    run = commands.add_parser('run', help='run the MQTT bridge')
    watch = commands.add_parser('watch', help='run the TCP watch server')
    udp = commands.add_parser('udp', help='run the UDP datagram server')
    simulate = commands.add_parser('simulate',
        help='simulated devices against a running platform or broker')
    from . import simulator
    simulator.add_arguments(simulate, env)
    for sub in [run, watch, udp]:
        sub.add_argument('--database', '-d',
            default=env('BRIDGE_DATABASE') or env('TRYTOND_DATABASE_NAMES'),
            required=not (
                env('BRIDGE_DATABASE') or env('TRYTOND_DATABASE_NAMES')))
        sub.add_argument('--config', '-c', default=env('TRYTOND_CONFIG'))
        sub.add_argument('--log-level',
            default=env('BRIDGE_LOG_LEVEL', 'INFO'))
    # Loopback by default; a device gateway sets BRIDGE_WATCH_HOST to its
    # public address behind the firewall.
    watch.add_argument('--host', default=env('BRIDGE_WATCH_HOST', '127.0.0.1'))
    watch.add_argument('--port', type=int,
        default=int(env('BRIDGE_WATCH_PORT', '8001')))
    udp.add_argument('--host', default=env('BRIDGE_UDP_HOST', '127.0.0.1'))
    udp.add_argument('--port', type=int,
        default=int(env('BRIDGE_UDP_PORT', '8002')))
    udp.add_argument('--batch-size', type=int,
        default=int(env('BRIDGE_BATCH_SIZE', '500')))
    udp.add_argument('--batch-interval', type=float,
        default=float(env('BRIDGE_BATCH_INTERVAL', '0.2')))
    udp.add_argument('--stats-file', default=env('BRIDGE_STATS_FILE'))
    run.add_argument('--mqtt-host', default=env('BRIDGE_MQTT_HOST', '127.0.0.1'))
    run.add_argument('--mqtt-port', type=int,
        default=int(env('BRIDGE_MQTT_PORT', '1883')))
    run.add_argument('--mqtt-username', default=env('BRIDGE_MQTT_USERNAME'))
    run.add_argument('--client-id',
        default=env('BRIDGE_CLIENT_ID', f'bridge-{socket.gethostname()}'),
        help='stable per worker: the broker keeps the session under it')
    run.add_argument('--group', default=env('BRIDGE_GROUP', 'bridge'),
        help='shared subscription group ($share/<group>/...)')
    run.add_argument('--batch-size', type=int,
        default=int(env('BRIDGE_BATCH_SIZE', '500')))
    run.add_argument('--batch-interval', type=float,
        default=float(env('BRIDGE_BATCH_INTERVAL', '0.2')))
    run.add_argument('--stats-file', default=env('BRIDGE_STATS_FILE'))
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(),
        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    logging.getLogger('trytond').setLevel(logging.WARNING)
    if args.command == 'simulate':
        return simulator.main(args)
    from .store import TrytonStore
    store = TrytonStore(args.database, args.config)
    if args.command == 'watch':
        return run_watch(store, args)
    if args.command == 'udp':
        return run_udp(store, args)
    from .mqtt import Bridge, install_signal_handlers
    bridge = Bridge(store, host=args.mqtt_host, port=args.mqtt_port,
        client_id=args.client_id, username=args.mqtt_username,
        password=env('BRIDGE_MQTT_PASSWORD'), group=args.group,
        batch_size=args.batch_size, batch_interval=args.batch_interval,
        stats_file=args.stats_file)
    install_signal_handlers(bridge)
    logging.getLogger('bridge').info('bridge %s started on %s',
        args.client_id, args.database)
    bridge.run()
    return 0


def run_watch(store, args):
    import asyncio
    import signal
    from .watch import WatchServer
    server = WatchServer(store, host=args.host, port=args.port)

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in [signal.SIGTERM, signal.SIGINT]:
            loop.add_signal_handler(sig, stop.set)
        await server.serve(stop)
    asyncio.run(main())
    logging.getLogger('bridge').info('watch server stopped: %s',
        dict(server.stats))
    return 0


def run_udp(store, args):
    import asyncio
    import signal
    from .udp import UdpServer
    server = UdpServer(store, host=args.host, port=args.port,
        batch_size=args.batch_size, batch_interval=args.batch_interval,
        stats_file=args.stats_file)

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in [signal.SIGTERM, signal.SIGINT]:
            loop.add_signal_handler(sig, stop.set)
        await server.serve(stop)
    asyncio.run(main())
    logging.getLogger('bridge').info('UDP server stopped: %s',
        dict(server.stats))
    return 0


if __name__ == '__main__':
    sys.exit(main())
