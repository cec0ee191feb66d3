"""Smoke test of the served platform: JSON-RPC login, and sao in Chromium.

Uses the web_server and page fixtures of the root conftest.py (gunicorn on a
test database with every addons module activated and the demo data)."""
import json
import urllib.request
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / 'test-output' / 'browser'


def rpc(url, method, params, session=None):
    request = urllib.request.Request(url, method='POST',  # noqa: S310 (URL checked to be http(s) / built from a local test server)
        data=json.dumps({'id': 1, 'method': method, 'params': params}).encode(),
        headers={'Content-Type': 'application/json'})
    if session:
        request.add_header('Authorization', f'Session {session}')
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (URL checked to be http(s) / built from a local test server)
        return json.load(response)


def test_admin_logs_in_over_json_rpc(web_server):
    import base64
    url = f'{web_server.url}{web_server.database}/rpc/'
    response = rpc(url, 'common.db.login',
        ['admin', {'password': web_server.password}, 'zh_CN'])
    assert 'result' in response, response
    user_id, key = response['result'][:2]
    session = base64.b64encode(f'admin:{user_id}:{key}'.encode()).decode()
    preferences = rpc(url, 'model.res.user.get_preferences', [True, {}],
        session=session)['result']
    assert preferences['language'] == 'zh_CN'


def test_sao_shows_the_users_chinese(web_server, browser):
    # An English browser: sao's own strings stay English, so Chinese on the
    # page comes from the server in the admin's language (zh_CN).
    context = browser.new_context(locale='en-US')
    page = context.new_page()
    try:
        page.goto(f'{web_server.url}#{web_server.database}')
        page.wait_for_selector('label[for=login]:has-text("User name")')
        # The test server lists no databases (conftest.py): sao asks for
        # the name in a text entry.
        page.fill('input#database', web_server.database)
        page.fill('#login', 'admin')
        page.click('.login-dialog button[type=submit]')
        page.wait_for_selector('input[type=password]').fill(web_server.password)
        page.keyboard.press('Enter')
        page.wait_for_function('() => (Sao.Session.current_session || {})'
            '.context?.language == "zh_CN"', timeout=30_000)
        page.wait_for_function(
            r'() => /[\u4e00-\u9fff]/.test(document.body.innerText)')
    except Exception:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=OUTPUT / 'smoke_failure.png')
        raise
    finally:
        context.close()


def _sao_list_widgets():
    "The column widgets of the installed sao's list views (tree.js WIDGETS)"
    import re
    source = (Path(__file__).resolve().parent.parent / 'var' / 'sao'
        / 'package' / 'src' / 'view' / 'tree.js').read_text()
    block = re.search(r'Sao\.View\.TreeXMLViewParser\.WIDGETS = \{(.*?)\};',
        source, re.S).group(1)
    return set(re.findall(r"'(\w+)':", block))


def test_every_list_column_has_a_sao_widget(web_server):
    """sao builds a list column from the widget named by the view, else by
    the field's type; it has none for datetime and timestamp (Tryton shows
    them as a date and a time column), and one such column breaks the
    whole list or the form that embeds it ("ColumnFactory is not a
    constructor"). Every list of every module, embedded ones included."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from h5_tools import server_python
    widgets = _sao_list_widgets()
    assert {'char', 'date', 'time', 'many2one'} <= widgets, widgets
    missing = server_python(web_server.database, '''
from lxml import etree
widgets = set(%r)
View = pool.get('ir.ui.view')
missing = set()

def check(view, where):
    arch = etree.fromstring(view['arch'])
    if arch.tag == 'tree':
        for element in arch.iter('field'):
            field = view['fields'].get(element.get('name'), {})
            widget = element.get('widget') or field.get('type')
            if widget not in widgets:
                missing.add('%%s: %%s (%%s)' %% (
                        where, element.get('name'), widget))
    for name, field in view['fields'].items():
        for sub in (field.get('views') or {}).values():
            check(sub, where + ' > ' + name)

for view in View.search([('type', 'in', ['tree', 'form']),
            ('inherit', '=', None)]):
    if not view.model or not view.module.startswith('elder_'):
        continue
    Model = pool.get(view.model)
    check(Model.fields_view_get(view_id=view.id),
        '%%s/view/%%s.xml' %% (view.module, view.name))
result = sorted(missing)
''' % sorted(widgets))
    assert not missing, '\n'.join(missing)
