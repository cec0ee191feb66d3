"""Demo devices for tools/demo.py: watches, SOS buttons and smoke sensors in
the homes of older people of 新城区, installed and active, so that

    python -m bridge simulate --protocol watch --devices 5 --port 8001
    python -m bridge simulate --protocol mqtt --devices 5 --port 1884

(against `./elder.sh run`) raise alarms that agents see at once. Identifiers
follow the simulator's: watches 9900000001…, MQTT devices SIM00001…."""
import sys

COUNT = 10


def log(message):
    print(f'[demo] {message}', file=sys.stderr, flush=True)


def load(pool, seed=2026):
    "Create the demo devices in the caller's transaction (as root)"
    Device = pool.get('device.device')
    Type = pool.get('device.type')
    Elder = pool.get('elder.elder')
    Region = pool.get('elder.region')
    Provider = pool.get('elder.provider')

    if Device.search([], limit=1):
        log('devices already present: nothing to do')
        return {}
    district, = Region.search([('code', '=', '150102')])
    elders = Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', [district.id], 'parent'),
            ], order=[('id', 'ASC')], limit=COUNT)
    maintainer = Provider.search([
            ('state', '=', 'active'),
            ('service_areas', 'child_of', [district.id], 'parent'),
            ], limit=1)
    types = {t.code: t for t in Type.search([])}
    values = []
    for i, elder in enumerate(elders, 1):
        common = {
            'elder': elder.id,
            'provider': maintainer[0].id if maintainer else None,
            }
        values.append({**common, 'type': types['WATCH'].id,
                'protocol': 'tcp_watch', 'identifier': '99%08d' % i,
                'place': '随身佩戴'})
        values.append({**common, 'type': types['SOS'].id,
                'protocol': 'mqtt', 'identifier': 'SIM%05d' % i,
                'place': '卧室床头'})
        values.append({**common, 'type': types['SMOKE'].id,
                'protocol': 'zigbee', 'identifier': 'smoke_%02d' % i,
                'place': '厨房'})
    devices = Device.create(values)
    Device.install(devices)
    Device.activate(devices)
    log(f'{len(devices)} devices (watches, SOS buttons, smoke sensors) in '
        f'{len(elders)} homes of 新城区')
    return {'devices': len(devices)}
