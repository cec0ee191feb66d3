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
        # sao's login ignores the #database of the URL until its list of
        # databases has come, and that is slow while other tests run.
        page.wait_for_function('() => jQuery("#database:visible").val()',
            timeout=30_000)
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
