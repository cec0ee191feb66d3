"""Helpers of the H5 browser tests (worker app, family confirmation)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / 'test-output' / 'browser'
sys.path.insert(0, str(ROOT / 'tools'))
import elderctl  # noqa: E402

PHONE = dict(viewport={'width': 390, 'height': 844}, device_scale_factor=2,
    is_mobile=True, has_touch=True, locale='zh-CN',
    timezone_id='Asia/Shanghai')
TIMEOUT = 30_000


def uri():
    return (os.environ.get('TRYTOND_DATABASE__URI')
        or os.environ.get('TRYTOND_DATABASE_URI'))


def server_python(database, code):
    """Run code with trytond on the test database, as root, in a process with
    the web server's environment (configuration, keys, filestore); the code
    sets `result`, printed as JSON."""
    script = f'''
import json
from trytond.pool import Pool
from trytond.transaction import Transaction
database = {database!r}
Pool.start()
pool = Pool(database)
pool.init()
with Transaction().start(database, 0) as transaction:
{_indent(code)}
    transaction.commit()
print('RESULT=' + json.dumps(result, default=str))
'''
    env = elderctl.tryton_env(uri())  # as conftest.py's web_server
    for name in ['DB_NAME', 'DB_CACHE', 'TRYTOND_DATABASE__PATH']:
        env.pop(name, None)
    process = subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, '-c', script], env=env, capture_output=True,
        text=True, timeout=300, cwd=ROOT)
    for line in process.stdout.splitlines():
        if line.startswith('RESULT='):
            return json.loads(line[len('RESULT='):])
    raise AssertionError(process.stdout[-2000:] + process.stderr[-4000:])


def _indent(code):
    return '\n'.join('    ' + line for line in code.strip().splitlines())


def sql(database, query, params=()):
    import psycopg
    with psycopg.connect(uri(), dbname=database) as conn:
        return conn.execute(query, params).fetchall()


def luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg, bg):
    a, b = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (a + 0.05) / (b + 0.05)


STYLE_JS = '''el => {
  const s = getComputedStyle(el);
  let bg = null, node = el;
  while (node) {
    const c = getComputedStyle(node).backgroundColor;
    if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
    node = node.parentElement;
  }
  const r = el.getBoundingClientRect();
  return {font: parseFloat(s.fontSize), lineHeight: parseFloat(s.lineHeight),
    color: s.color, background: bg || 'rgb(255, 255, 255)',
    width: r.width, height: r.height};
}'''


def rgb(text):
    return tuple(int(float(v)) for v in
        text[text.index('(') + 1:text.index(')')].split(',')[:3])


# --- sao ---------------------------------------------------------------------

def menu_row(page, label):
    "The row of sao's menu tree whose text matches the label (a regex)"
    import re
    return page.locator('#menu tbody tr').filter(
        has=page.locator('div.column-char', has_text=re.compile(label)))


def open_menu_path(page, labels, timeout=60_000):
    "Expand the menu rows of labels[:-1] and open the last one"
    for index, label in enumerate(labels[:-1]):
        row = menu_row(page, label).first
        row.wait_for(state='visible', timeout=timeout)
        following = menu_row(page, labels[index + 1]).first
        if not following.is_visible():
            row.locator('span.expander').click()
    target = menu_row(page, labels[-1]).first
    target.wait_for(state='visible', timeout=timeout)
    # one click opens a leaf of sao's menu (a double click opens it thrice)
    target.locator('div.column-char').click()


def active_tab(page):
    "The tab sao shows"
    return page.locator('#tabcontent > .tab-pane.active')


# Records sao's desktop notifications, then shows them as the browser would
RECORD_NOTIFICATIONS = """
(() => {
    const Original = window.Notification;
    window.__notifications = [];
    class Recorded extends Original {
        constructor(title, options) {
            window.__notifications.push(
                {title: title, body: (options || {}).body || ''});
            super(title, options);
        }
    }
    window.Notification = Recorded;
})();
"""


def demo_module(name):
    "A demo loader of tools/ (demo, demo_device, demo_callcenter …)"
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'elder_' + name, ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
