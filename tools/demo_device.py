"""Demo devices for tools/demo.py: watches, SOS buttons and smoke sensors in
the homes of older people of 新城区, installed and active, so that

    python -m bridge simulate --protocol watch --devices 5 --port 8001
    python -m bridge simulate --protocol mqtt --devices 5 --port 1884

(against `./elder.sh run`) raise alarms that agents see at once. Identifiers
follow the simulator's: watches 9900000001…, MQTT devices SIM00001…. The
Zigbee smoke sensors are smoke_01… (Zigbee2MQTT friendly names):

    mosquitto_pub -p 1884 -q 1 -t zigbee2mqtt/smoke_02 \
        -m '{"smoke": true, "battery": 90, "last_seen": "2026-11-25T10:00:00Z"}'

The first home also has an NB-IoT smoke sensor on CTWing (IMEI
869975030000001); the demo CTWing push token is DEMO_CTWING_TOKEN (demo
database only):

    python -m bridge simulate --protocol ctwing --devices 1 \
        --prefix 86997503000000 --alarm smoke --sos-ratio 0.5 \
        --url http://127.0.0.1:8000/eldercare --token demo-ctwing-token

tests/test_browser_alarm.py drives these three (watch SOS over TCP, Zigbee
smoke over MQTT, CTWing push) to the demo agent's screen."""

import sys

COUNT = 10
DEMO_CTWING_TOKEN = 'demo-ctwing-token'  # noqa: S105 (demo database only, documented)
NBIOT_IMEI = '869975030000001'


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
    if elders:
        values.append({
                'elder': elders[0].id,
                'provider': maintainer[0].id if maintainer else None,
                'type': types['SMOKE'].id, 'protocol': 'nbiot_ctwing',
                'identifier': NBIOT_IMEI, 'place': '客厅'})
        configure_ctwing(pool)
    devices = Device.create(values)
    Device.install(devices)
    Device.activate(devices)
    log(f'{len(devices)} devices (watches, SOS buttons, smoke sensors) in '
        f'{len(elders)} homes of 新城区')
    return {'devices': len(devices)}


def configure_ctwing(pool):
    "Set the demo CTWing push token (stored encrypted, write only)"
    Configuration = pool.get('device.configuration')
    configuration = Configuration(1)
    configuration.ctwing_token = DEMO_CTWING_TOKEN
    configuration.save()
