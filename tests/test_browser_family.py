"""The family confirms a completed visit on a phone (适老化 page).

A confirmation link is made on the server (elder_service.h5.
create_confirmation, as root) for a completed demo order; the page
GET /<db>/service/h5/confirm/<token> opens on a 390×844 touch viewport,
the family picks 5 分, writes a comment and confirms; the thank-you shows and
the order is confirmed with rating 5 in the database. The link is single use
(a second visit says so in words), an unknown token says so too. The
ageing-friendly measures of CODES.md are checked on the page: main text
≥ 18 px, the largest ≥ 30 px, line spacing ≥ 1.3, tap targets ≥ 60×60 px,
contrast ≥ 4.5:1. Screenshots: test-output/browser/family_*.png.
"""
from h5_tools import (
    OUTPUT, PHONE, STYLE_JS, TIMEOUT, contrast, rgb, server_python, sql)

COMMENT = '护理员很耐心，谢谢！'


def _link(web_server):
    "A completed demo order and its confirmation link"
    return server_python(web_server.database, '''
from trytond.modules.elder_service.h5 import create_confirmation
Order = pool.get('service.order')
order, = Order.search([('state', '=', 'completed')], limit=1,
    order=[('id', 'ASC')])
result = [order.id, create_confirmation(order)]
''')


def test_family_confirms_with_rating(web_server, browser):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    order_id, path = _link(web_server)
    url = web_server.url.rstrip('/') + path
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(url)
        page.locator('h1').wait_for(timeout=TIMEOUT)
        assert page.locator('h1').inner_text() == '服务确认'
        summary = page.locator('.summary').inner_text()
        for label in ['服务项目', '服务日期', '服务时长', '护理员']:
            assert label in summary
        assert '*' in summary  # the caregiver's name is masked
        _check_ageing_friendly(page)
        page.screenshot(path=str(OUTPUT / 'family_confirm.png'),
            full_page=True)

        # Confirming without a rating is refused (the browser asks first)
        page.locator('label.star').filter(has_text='非常满意').click()
        page.locator('#comment').fill(COMMENT)
        page.screenshot(path=str(OUTPUT / 'family_rated.png'),
            full_page=True)
        page.locator('button.primary').click()
        page.locator('.thanks').wait_for(timeout=TIMEOUT)
        assert '评分 5 分' in page.locator('.thanks').inner_text()
        assert '感谢' in page.locator('.thanks').inner_text()
        page.screenshot(path=str(OUTPUT / 'family_thanks.png'),
            full_page=True)

        # Single use: the link now says so in words
        page.goto(url)
        notice = page.locator('.notice')
        notice.wait_for(timeout=TIMEOUT)
        assert '已经使用过' in notice.inner_text()
        _check_ageing_friendly(page, form=False)
        page.screenshot(path=str(OUTPUT / 'family_used.png'), full_page=True)

        page.goto(url.rsplit('/', 1)[0] + '/not-a-token')
        assert '没有找到' in page.locator('.notice').inner_text()
    finally:
        context.close()

    (state, rating, comment, by), = sql(web_server.database,
        'SELECT state, rating, rating_comment, confirmed_by '
        'FROM service_order WHERE id = %s', [order_id])
    assert (state, rating, comment) == ('confirmed', 5, COMMENT)
    assert by
    # Only the token's hash is stored
    token = path.rsplit('/', 1)[1]
    names = [n for n, in sql(web_server.database,
            'SELECT name FROM ir_attachment WHERE resource = %s',
            [f'service.order,{order_id}'])]
    assert any(n.startswith('family-confirmation-') for n in names)
    assert not any(token in n for n in names)


def test_family_link_expired(web_server, browser):
    "An expired link is refused with a clear Chinese message"
    order_id, path = server_python(web_server.database, '''
from trytond.modules.elder_service.h5 import create_confirmation
Order = pool.get('service.order')
order, = Order.search([('state', '=', 'completed')], limit=1,
    order=[('id', 'DESC')])
result = [order.id, create_confirmation(order, hours=-1)]
''')
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        response = page.goto(web_server.url.rstrip('/') + path)
        assert response.status == 410
        assert '已过期' in page.locator('.notice').inner_text()
        page.screenshot(path=str(OUTPUT / 'family_expired.png'),
            full_page=True)
    finally:
        context.close()
    (state,), = sql(web_server.database,
        'SELECT state FROM service_order WHERE id = %s', [order_id])
    assert state == 'completed'


def _check_ageing_friendly(page, form=True):
    main = page.locator('p, dd, dt, legend').all()
    assert main
    for element in main:
        style = element.evaluate(STYLE_JS)
        assert style['font'] >= 18, style
        assert style['lineHeight'] / style['font'] >= 1.3, style
        assert contrast(rgb(style['color']), rgb(style['background'])) \
            >= 4.5, style
    largest = max(e.evaluate(STYLE_JS)['font']
        for e in page.locator('body *').all())
    assert largest >= 30, largest
    if form:
        targets = page.locator('.star-box, button, textarea').all()
        assert len(targets) == 7  # 5 ratings, the comment, the button
        for target in targets:
            style = target.evaluate(STYLE_JS)
            assert style['width'] >= 60 and style['height'] >= 60, style
            assert contrast(rgb(style['color']), rgb(style['background'])) \
                >= 4.5, style


# --- family ordering API (mini program) against the demo server ---------------

FAMILY_EMAIL = 'family.demo@example.com'  # tools/demo_service.py


def _api(web_server, method, path, body=None, session=None, headers=None):
    import json
    import urllib.error
    import urllib.request
    headers = dict(headers or {}, **{'Content-Type': 'application/json'})
    if session:
        headers['Authorization'] = 'Bearer ' + session
    request = urllib.request.Request(  # noqa: S310 (http test server)
        f'{web_server.url}{web_server.database}/service/family/v1/{path}',
        data=json.dumps(body).encode() if body is not None else None,
        headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (http test server)
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_family_api_order_to_rating(web_server):
    """The demo family orders through the API: the order is dispatched with
    its explanation stored; once the visit is done the family rates it."""
    import datetime as dt
    import uuid

    from test_browser_worker import _demo_password

    status, data = _api(web_server, 'POST', 'login',
        {'email': FAMILY_EMAIL, 'password': 'wrong'})
    assert status == 401
    assert data['error'] == '邮箱或密码错误。'  # Chinese by default
    status, data = _api(web_server, 'POST', 'login',
        {'email': FAMILY_EMAIL, 'password': _demo_password()})
    assert status == 200, data
    session = data['session']

    status, data = _api(web_server, 'GET', 'elders', session=session)
    assert status == 200 and data['elders'], data
    elder = data['elders'][0]
    status, data = _api(web_server, 'GET', f'elders/{elder["id"]}/items',
        session=session)
    items = {i['code']: i for i in data['items']}
    item = items.get('SC0301') or next(iter(items.values()))

    key = uuid.uuid4().hex
    body = {'elder': elder['id'], 'item': item['id'],
        'date': (dt.date.today() + dt.timedelta(days=1)).isoformat(),
        'time_from': '09:00', 'time_to': '10:00', 'note': '请先打电话'}
    status, data = _api(web_server, 'POST', 'orders', body, session,
        headers={'Idempotency-Key': key})
    assert status == 201, data
    order = data['order']
    assert order['state'] == 'dispatched', order
    assert order['state_name'] == '已派单'
    status, again = _api(web_server, 'POST', 'orders', body, session,
        headers={'Idempotency-Key': key})
    assert status == 200 and again['order']['id'] == order['id']

    (channel, explanation, count), = sql(web_server.database,
        'SELECT channel, dispatch_explanation, '
        '(SELECT count(*) FROM service_order WHERE request_key = %s) '
        'FROM service_order WHERE id = %s', [key, order['id']])
    assert channel == 'family' and count == 1
    assert '"chosen"' in explanation

    # The provider accepts and assigns; the caregiver visits (as the worker
    # app and the provider's form would).
    server_python(web_server.database, f'''
import datetime as dt
Order = pool.get('service.order')
order = Order({order['id']})
Order.accept([order])
if not order.previous_practitioner:  # else Assign takes the proposal
    staff = pool.get('elder.practitioner').search([
        ('provider', '=', order.provider.id), ('state', '=', 'active')])
    order.practitioner = [p for p in staff if order.item.qualifies(p)][0]
    order.save()
Order.assign([order])
start = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=1)
Order.checkin(order, order.elder.latitude, order.elder.longitude, 10, start)
Order.checkout(order, order.elder.latitude, order.elder.longitude, 10,
    start + dt.timedelta(minutes=order.item.duration))
result = order.state
''')
    status, data = _api(web_server, 'GET', f'orders/{order["id"]}',
        session=session)
    assert data['order']['state'] == 'completed' and \
        data['order']['can_confirm']
    assert data['order']['practitioner'].endswith('*')
    status, data = _api(web_server, 'POST', f'orders/{order["id"]}/confirm',
        {'rating': 5, 'comment': '准时、细心'}, session)
    assert status == 200, data
    assert data['order']['state'] == 'confirmed'
    (rating, by), = sql(web_server.database,
        'SELECT rating, confirmed_by FROM service_order WHERE id = %s',
        [order['id']])
    assert rating == 5 and by.startswith('家属（小程序）')
