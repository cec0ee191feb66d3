# This file is part of the eldercare platform. See LICENSE.
"HTTP routes of elder_security: the providers' encrypted reporting interface"
import json
import logging

from werkzeug.wrappers import Response

from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.wsgi import app

from .reporting import PATH

logger = logging.getLogger(__name__)

# 1 MiB: one service record with its evidence references, not files.
MAX_REPORT_SIZE = 1024 * 1024


def _json_response(status, data):
    return Response(
        json.dumps(data, ensure_ascii=False), status=status,
        content_type='application/json; charset=utf-8')


@app.route('/<database_name>' + PATH, methods=['POST'])
@with_pool
@with_transaction()
def provider_report(request, pool):
    """Receive one encrypted and signed service record from a provider
    (see reporting.py for the protocol)."""
    Report = pool.get('security.provider.report')
    body = request.get_data()
    status, data = Report.receive(
        request.headers, request.path, body)
    return _json_response(status, data)


provider_report.max_request_size = MAX_REPORT_SIZE
