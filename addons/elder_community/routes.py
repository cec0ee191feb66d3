# This file is part of the eldercare platform. See LICENSE.
"""Publication of the dishonest list (失信名单公示).

``GET /<database>/community/credit/dishonest`` answers the published
entries as JSON, without login: the list is public by design. Only the
published state is answered; practitioners' names come masked (王**) and
no other personal data leaves."""
import json

from trytond.protocols.wrappers import (
    HTTPStatus, Response, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app


@app.route('/<database_name>/community/credit/dishonest', methods={'GET'})
@with_pool
@with_transaction()
def dishonest_list(request, pool):
    Listing = pool.get('credit.listing')
    with Transaction().set_context(_check_access=False):
        entries = Listing.published()
    return Response(
        json.dumps({'entries': entries}, ensure_ascii=False),
        status=HTTPStatus.OK, content_type='application/json')
