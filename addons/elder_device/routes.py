# This file is part of the eldercare platform. See LICENSE.
"""HTTP receivers of device messages (see receiver.py):

POST|GET /<database>/device/onenet         OneNET HTTP push (+ handshake)
POST     /<database>/device/ctwing         CTWing (AEP) subscription push
POST     /<database>/device/http/<identifier>/events
                                           devices posting JSON themselves,
                                           header X-Device-Token
"""
import json

from werkzeug.wrappers import Response

from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.wsgi import app

from .receiver import MAX_BODY, Receiver


def _json_response(status, data):
    return Response(
        json.dumps(data, ensure_ascii=False), status=status,
        content_type='application/json; charset=utf-8')


def _body(request):
    if (request.content_length or 0) > MAX_BODY:
        return None
    return request.get_data()


def _too_large():
    return _json_response(413, {'error': 'too_large'})


@app.route('/<database_name>/device/onenet', methods=['GET', 'POST'])
@with_pool
@with_transaction()
def onenet_push(request, pool):
    if request.method == 'GET':
        status, msg = Receiver.onenet_handshake(request.args)
        if status != 200:
            return _json_response(status, {'error': 'bad_signature'})
        return Response(msg, status=200, content_type='text/plain')
    body = _body(request)
    if body is None:
        return _too_large()
    return _json_response(*Receiver.onenet(body))


@app.route('/<database_name>/device/ctwing', methods=['POST'])
@with_pool
@with_transaction()
def ctwing_push(request, pool):
    body = _body(request)
    if body is None:
        return _too_large()
    return _json_response(*Receiver.ctwing(request.args, body))


@app.route('/<database_name>/device/http/<identifier>/events',
    methods=['POST'])
@with_pool
@with_transaction()
def http_events(request, pool, identifier):
    body = _body(request)
    if body is None:
        return _too_large()
    return _json_response(*Receiver.http(
            identifier, request.headers.get('X-Device-Token'), body))


for _route in [onenet_push, ctwing_push, http_events]:
    _route.max_request_size = MAX_BODY
