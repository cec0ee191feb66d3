# This file is part of the eldercare platform. See LICENSE.
"""JSON routes of face verification (worker app) and identification
(canteen terminals).

Authentication is trytond's route authentication (``app.auth_required``:
the session of a JSON-RPC login or HTTP Basic), as for the worker routes of
elder_service. The person is looked up as the calling user, with access
checks and record rules (a caregiver reaches only the older people of their
own orders); the matching itself runs on the server's side. Every attempt
is logged (face.attempt) and audited. Answers never hold a template or an
image.

POST /<db>/face/verify    {"subject": "self" | "elder" | "practitioner",
                           "id": <record id, not for self>,
                           "image": "<base64 JPEG/PNG>",
                           "reference": "<optional, e.g. service.order,12>"}
POST /<db>/face/identify  {"gallery": "<gallery code>", "image": "<base64>"}
"""
import base64
import binascii
import json

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

MAX_IMAGE_REQUEST = 8 * 1024 * 1024
VERIFY_GROUPS = [
    'elder_base.group_caregiver', 'elder_base.group_operator',
    'elder_base.group_provider_admin', 'elder_face.group_face_terminal',
    'res.group_admin']
IDENTIFY_GROUPS = ['elder_face.group_face_terminal', 'res.group_admin']


def _json(data, status=HTTPStatus.OK):
    return Response(
        json.dumps(data, ensure_ascii=False, default=str), status=status,
        content_type='application/json')


def _in_groups(pool, names):
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    groups = set(User.get_groups())
    for name in names:
        module, fs_id = name.split('.')
        try:
            if ModelData.get_id(module, fs_id) in groups:
                return True
        except KeyError:
            continue
    return False


def _payload(request):
    try:
        data = json.loads(request.get_data(as_text=True) or '{}')
        if not isinstance(data, dict) or not data.get('image'):
            raise ValueError
        image = base64.b64decode(data['image'], validate=True)
    except (ValueError, TypeError, binascii.Error):
        abort(HTTPStatus.BAD_REQUEST)
    return data, image


@app.route('/<database_name>/face/verify', methods={'POST'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def face_verify(request, pool):
    "1:1: is the person on the image the claimed, enrolled person?"
    Elder = pool.get('elder.elder')
    Practitioner = pool.get('elder.practitioner')
    Enrolment = pool.get('face.enrolment')
    Attempt = pool.get('face.attempt')
    if not _in_groups(pool, VERIFY_GROUPS):
        abort(HTTPStatus.FORBIDDEN)
    data, image = _payload(request)
    subject = data.get('subject')
    try:
        if subject == 'self':
            with without_check_access():
                records = Practitioner.search([
                        ('user', '=', Transaction().user)], limit=1)
            source = 'worker'
        elif subject in {'elder', 'practitioner'}:
            Model = Elder if subject == 'elder' else Practitioner
            records = Model.search([('id', '=', int(data.get('id') or 0))])
            source = 'worker'
        else:
            abort(HTTPStatus.BAD_REQUEST)
    except AccessError as e:
        return _json({'error': e.message}, HTTPStatus.FORBIDDEN)
    except (TypeError, ValueError):
        abort(HTTPStatus.BAD_REQUEST)
    if not records:
        abort(HTTPStatus.NOT_FOUND)
    record, = records
    reference = str(data.get('reference') or '')[:100] or None
    try:
        with without_check_access():
            party = Model(record.id).party if subject != 'self' else (
                record.party)
            enrolment = Enrolment.for_party(party)
            attempt = Attempt.verify(
                enrolment, image, source=source, reference=reference)
    except UserError as e:
        Transaction().rollback()
        return _json({'error': e.message}, HTTPStatus.CONFLICT)
    return _json(attempt.as_json())


face_verify.max_request_size = MAX_IMAGE_REQUEST


@app.route('/<database_name>/face/identify', methods={'POST'})
@app.auth_required
@with_pool
@with_transaction(user='request', context=dict(_check_access=True))
def face_identify(request, pool):
    "1:N within the gallery (e.g. a canteen's enrolled older people)"
    Gallery = pool.get('face.gallery')
    Attempt = pool.get('face.attempt')
    if not _in_groups(pool, IDENTIFY_GROUPS):
        abort(HTTPStatus.FORBIDDEN)
    data, image = _payload(request)
    user = Transaction().user
    with without_check_access():
        galleries = Gallery.search([
                ('code', '=', str(data.get('gallery') or '')),
                ], limit=1)
        if not galleries:
            abort(HTTPStatus.NOT_FOUND)
        gallery, = galleries
        if user not in {u.id for u in gallery.terminals}:
            abort(HTTPStatus.FORBIDDEN)
        try:
            attempt = Attempt.identify(gallery, image, source='canteen')
        except UserError as e:
            Transaction().rollback()
            return _json({'error': e.message}, HTTPStatus.CONFLICT)
        result = attempt.as_json()
        person = None
        if attempt.matched:
            enrolment = attempt.matched
            person = {
                'subject': enrolment.subject,
                'id': (enrolment.elder or enrolment.practitioner).id,
                'name': enrolment.subject_name,
                }
        result['person'] = person
    return _json(result)


face_identify.max_request_size = MAX_IMAGE_REQUEST
