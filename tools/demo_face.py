"""Demo faces for tools/demo.py (elder_face): three older people of 新城区
and the demo caregiver enrolled with their recorded biometric consent, and
a canteen gallery 新城区示例助餐点 (code DEMO-XC) used by the terminal login
``canteen`` (group Face Recognition Terminal, the demo password).

The photos are the test images of addons/elder_face/tests/data (adults from
the face-api.js examples, MIT): a demo of the mechanics only. To try it
against `./elder.sh run`:

    img=$(base64 -w0 addons/elder_face/tests/data/raj/raj3.png)
    curl -u canteen:'Demo@2026!elder' -H 'Content-Type: application/json' \\
        -d "{\\"gallery\\": \\"DEMO-XC\\", \\"image\\": \\"$img\\"}" \\
        http://127.0.0.1:8000/eldercare/face/identify

and a caregiver check-in photo of the first enrolled older person passes
the face check (amy4.png), another face is flagged."""
import datetime as dt
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACES = os.path.join(ROOT, 'addons', 'elder_face', 'tests', 'data')
ELDER_FACES = ['amy', 'raj', 'howard']
CAREGIVER_FACE = 'penny'
GALLERY_CODE = 'DEMO-XC'


def log(message):
    print(f'[demo] {message}', file=sys.stderr, flush=True)


def photos(person, numbers=(1, 2)):
    result = []
    for n in numbers:
        with open(os.path.join(FACES, person, f'{person}{n}.png'), 'rb') as f:
            result.append(f.read())
    return result


def load(pool, seed=2026):
    "Create the demo enrolments in the caller's transaction (as root)"
    from demo import DEMO_PASSWORD
    from trytond.exceptions import UserError
    Enrolment = pool.get('face.enrolment')
    Gallery = pool.get('face.gallery')
    Consent = pool.get('security.consent')
    Elder = pool.get('elder.elder')
    Region = pool.get('elder.region')
    Practitioner = pool.get('elder.practitioner')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')

    if Gallery.search([('code', '=', GALLERY_CODE)], limit=1):
        log('face demo already present: nothing to do')
        return {}
    district, = Region.search([('code', '=', '150102')])
    elders = Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', [district.id], 'parent'),
            ], order=[('id', 'ASC')], limit=len(ELDER_FACES))
    subjects = [('elder', e, p) for e, p in zip(elders, ELDER_FACES)]
    caregivers = Practitioner.search([('user.login', '=', 'caregiver')])
    if caregivers:
        subjects.append(('practitioner', caregivers[0], CAREGIVER_FACE))
    enrolled = []
    for kind, record, person in subjects:
        Consent.create([{
                    'party': record.party.id,
                    'purpose': 'biometrics',
                    'version': 'demo',
                    'given_at': dt.datetime.now() - dt.timedelta(days=1),
                    'given_by': 'subject',
                    'channel': 'counter',
                    'note': '示例数据',
                    }])
        enrolment, = Enrolment.create([{
                    'subject': kind, kind: record.id}])
        try:
            Enrolment.register_images(enrolment, photos(person))
        except UserError as exc:
            log(f'face demo: {record.name} not enrolled: {exc.message}')
            continue
        enrolled.append(enrolment)
        log(f'face demo: {record.name} enrolled with {person}1-2.png')
    terminal, = User.create([{
                'login': 'canteen', 'name': '助餐点终端（示例）',
                'password': DEMO_PASSWORD,
                'groups': [('add', [ModelData.get_id(
                                'elder_face', 'group_face_terminal')])],
                }])
    gallery, = Gallery.create([{
                'name': '新城区示例助餐点', 'code': GALLERY_CODE,
                'members': [('add', [e.id for e in enrolled
                            if e.subject == 'elder'])],
                'terminals': [('add', [terminal.id])],
                }])
    return {'gallery': gallery.id, 'enrolled': len(enrolled)}
