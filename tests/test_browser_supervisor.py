"""A district supervisor in the web client sees the older people of the
district, and nothing else, in Chinese.

Logs into sao as the demo user supervisor_xc (region scope 150102 新城区),
opens 养老服务 > 老年人档案 from the menu and checks, on the default 在册
(active) tab, that
- every column label is Chinese,
- every row's residence region is 新城区 or a region below it,
- the number of rows equals the number of active older people under 新城区
  in the database (read with SQL, outside the record rules under test).
Screenshot: test-output/browser/supervisor_elders.png.

Needs the web_server fixture of the root conftest.py (gunicorn + sao on a
database with every addons module and tools/demo.py's data).
"""
import importlib.util
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / 'test-output' / 'browser'
LOGIN = 'supervisor_xc'
DISTRICT_CODE = '150102'  # 新城区
DISTRICT_NAME = '新城区'
CJK = re.compile('[\u3400-\u4dbf\u4e00-\u9fff]')
TIMEOUT = 30_000  # ms; the first requests load the pool's views


def _demo_password():
    spec = importlib.util.spec_from_file_location(
        'elder_demo', ROOT / 'tools' / 'demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEMO_PASSWORD


def _district_facts(database):
    """Count of active older people living in the district or below it, and
    the names of those regions, straight from PostgreSQL."""
    import psycopg
    uri = (os.environ.get('TRYTOND_DATABASE__URI')
        or os.environ.get('TRYTOND_DATABASE_URI'))
    with psycopg.connect(uri, dbname=database) as conn:
        path, = conn.execute(
            'SELECT path FROM elder_region WHERE code = %s',
            [DISTRICT_CODE]).fetchone()
        count, = conn.execute(
            'SELECT count(*) FROM elder_elder e '
            'JOIN elder_region r ON r.id = e.region '
            "WHERE e.state = 'active' AND r.path LIKE %s",
            [path + '%']).fetchone()
        names = {name for name, in conn.execute(
                'SELECT name FROM elder_region WHERE path LIKE %s',
                [path + '%'])}
    return count, names


def _login(page, url, database, login, password):
    page.goto(url)
    select = page.locator('select#database')
    entry = page.locator('input#database')
    # A select when the server lists its databases, else a text entry.
    page.locator('select#database:visible, input#database:visible').first\
        .wait_for(state='visible', timeout=TIMEOUT)
    if select.is_visible():
        # The list is filled asynchronously from the server.
        select.locator(f'option[value="{database}"]').wait_for(
            state='attached', timeout=TIMEOUT)
        select.select_option(database)
    elif entry.is_visible() and entry.is_enabled():
        entry.fill(database)
    page.locator('input#login').fill(login)
    page.locator('button[type=submit]').click()
    # sao asks the password in a second dialog.
    password_entry = page.locator('.modal input[type=password]')
    password_entry.wait_for(state='visible', timeout=TIMEOUT)
    password_entry.fill(password)
    password_entry.press('Enter')
    password_entry.wait_for(state='detached', timeout=TIMEOUT)


def _menu_row(page, label):
    "The row of the menu tree whose text matches the label (a regex)."
    return page.locator('#menu tbody tr').filter(
        has=page.locator('div.column-char', has_text=re.compile(label)))


def _open_menu(page, parent, child):
    parent_row = _menu_row(page, parent).first
    parent_row.wait_for(state='visible', timeout=TIMEOUT)
    child_row = _menu_row(page, child).first
    if not child_row.is_visible():
        parent_row.locator('span.expander').click()
    child_row.wait_for(state='visible', timeout=TIMEOUT)
    # A menu entry opens on activation (double click, or Enter).
    child_row.locator('div.column-char').dblclick()


def _wait_tabs_settled(page, quiet=1500, timeout=TIMEOUT):
    """Wait until no tab has opened for `quiet` ms: the user's login actions
    (res.user actions, the demo users open their main list) open tabs
    asynchronously after the menu shows."""
    tabs = page.locator('#tablist > li')
    count, stable, waited = tabs.count(), 0, 0
    while stable < quiet and waited < timeout:
        page.wait_for_timeout(250)
        waited += 250
        now = tabs.count()
        stable = stable + 250 if now == count else 0
        count = now


def _active_tab(page):
    return page.locator('#tabcontent > .tab-pane.active')


def _record_count(tab):
    "The number of records sao reports in the toolbar ('_/54' → 54)."
    badge = tab.locator('.toolbar .navbar-text .badge').first
    badge.wait_for(state='visible')
    waited = 0
    while not re.search(r'/\d+$', badge.inner_text().strip()):
        assert waited < TIMEOUT, f'no record count: {badge.inner_text()!r}'
        tab.page.wait_for_timeout(100)
        waited += 100
    return int(badge.inner_text().strip().rsplit('/', 1)[1])


def _load_all_rows(tab, total):
    """Click sao's 'More' button (it shows 20 rows at a time) until the list
    holds `total` rows or there is nothing more to show."""
    rows = tab.locator('.treeview table.tree tbody tr:not(.more-row)')
    more = tab.locator('tr.more-row button')
    waited = 0
    while rows.count() < total and waited < TIMEOUT:
        # A DOM click: sao re-renders the rows while they load, so the
        # button moves and a pointer click may land on something else.
        more.evaluate_all('buttons => buttons.forEach(b => b.click())')
        tab.page.wait_for_timeout(100)
        waited += 100
    return rows.count()


def test_supervisor_sees_only_own_district(web_server, page):
    try:
        _check_district_list(web_server, page)
    finally:
        # Also on failure: the screen tells what went wrong.
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / 'supervisor_elders.png'))


def _check_district_list(web_server, page):
    expected_count, district_regions = _district_facts(web_server.database)
    assert expected_count > 0, 'no demo data: tools/demo.py did not run'

    page.set_viewport_size({'width': 1600, 'height': 1000})
    page.set_default_timeout(TIMEOUT)
    _login(page, web_server.url, web_server.database, LOGIN,
        _demo_password())

    # Menu labels are the zh_CN translations; the English names are the
    # msgids (matched too, so a missing translation fails on the column
    # labels below with a clear message rather than on a missing menu).
    _menu_row(page, r'^(养老服务|Eldercare)$').first.wait_for(state='visible')
    _wait_tabs_settled(page)
    _open_menu(page, r'^(养老服务|Eldercare)$', r'^(老年人档案|Older People)$')
    tab = _active_tab(page)
    title = tab.locator('.toolbar .title').first
    title.wait_for(state='visible')
    assert re.search('老年人档案|老年人|Older People', title.inner_text())

    table = tab.locator('.treeview table.tree').first
    table.locator('tbody tr').first.wait_for(state='visible')
    # The list opens on the first tab of the action's domains (在册, active).
    active_domain = tab.locator('.tab-domain li.active')
    if active_domain.count():
        assert re.search('在册|Active', active_domain.inner_text())
    shown_count = _record_count(tab)
    _load_all_rows(tab, shown_count)

    labels = [label.strip() for label in
        table.locator('thead th:visible label').all_inner_texts()]
    labels = [label for label in labels if label]
    assert labels, 'no column labels found'
    not_chinese = [label for label in labels if not CJK.search(label)]
    assert not not_chinese, (
        f'column labels not in Chinese: {not_chinese} (all: {labels})')

    # The residence region is the list's many2one column; sao links each
    # cell to its header with the headers attribute.
    region_headers = table.locator('thead th.many2one')
    if region_headers.count() > 1:
        region_headers = region_headers.filter(
            has_text=re.compile('居住|Region'))
    assert region_headers.count() == 1, (
        f'cannot tell the region column among {labels}')
    header_id = region_headers.get_attribute('id')
    rows = table.locator('tbody tr:not(.more-row)')
    regions = rows.locator(f'td[headers="{header_id}"]')
    region_texts = [text.strip() for text in regions.all_inner_texts()]

    assert rows.count() == expected_count, (
        f'{rows.count()} rows shown, {expected_count} active older people '
        f'live in {DISTRICT_NAME}')
    assert len(region_texts) == expected_count
    # A region shows as its path ("内蒙古自治区 / 呼和浩特市 / 新城区 / …") or,
    # should its display change, as its own name.
    outside = [text for text in region_texts
        if DISTRICT_NAME not in text.split(' / ')
        and text.split(' / ')[-1] not in district_regions]
    assert not outside, f'rows outside {DISTRICT_NAME}: {outside[:5]}'

    # The record count sao shows in the toolbar agrees ("_/54"), and so does
    # the count on the 在册 tab when the action shows one.
    assert shown_count == expected_count
    badge = active_domain.locator('.badge')
    if active_domain.count() and badge.inner_text().strip():
        assert badge.inner_text().strip() == str(expected_count)


# --- monitoring of home services (§7.1.2) ----------------------------------------

def _district_orders(database):
    "Flagged orders and all orders of older people in the district (SQL)"
    import psycopg
    uri = (os.environ.get('TRYTOND_DATABASE__URI')
        or os.environ.get('TRYTOND_DATABASE_URI'))
    with psycopg.connect(uri, dbname=database) as conn:
        path, = conn.execute(
            'SELECT path FROM elder_region WHERE code = %s',
            [DISTRICT_CODE]).fetchone()
        flagged, total = conn.execute(
            'SELECT count(*) FILTER (WHERE o.flagged), count(*) '
            'FROM service_order o JOIN elder_elder e ON e.id = o.elder '
            'JOIN elder_region r ON r.id = e.region '
            'WHERE r.path LIKE %s', [path + '%']).fetchone()
    return flagged, total


def _open_path(page, labels):
    "Expand the menu rows of labels[:-1] and open the last one"
    for label in labels[:-1]:
        row = _menu_row(page, label).first
        row.wait_for(state='visible', timeout=TIMEOUT)
        following = _menu_row(page, labels[labels.index(label) + 1]).first
        if not following.is_visible():
            row.locator('span.expander').click()
    target = _menu_row(page, labels[-1]).first
    target.wait_for(state='visible', timeout=TIMEOUT)
    target.locator('div.column-char').dblclick()


def test_supervisor_monitors_orders(web_server, page):
    """The district supervisor sees the orders of the district by state
    with the flagged ones on their own tab, and the monitoring graphs."""
    try:
        _check_monitoring(web_server, page)
    finally:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / 'supervisor_monitoring.png'))


def _check_monitoring(web_server, page):
    flagged, total = _district_orders(web_server.database)
    assert flagged > 0 and total > flagged, (flagged, total)
    page.set_viewport_size({'width': 1600, 'height': 1000})
    page.set_default_timeout(TIMEOUT)
    _login(page, web_server.url, web_server.database, LOGIN,
        _demo_password())
    _menu_row(page, r'^(养老服务|Eldercare)$').first.wait_for(state='visible')
    _wait_tabs_settled(page)
    _open_path(page, [r'^(养老服务|Eldercare)$',
            r'^(居家上门服务|Home Services)$', r'^(服务工单|Service Orders)$'])
    tab = _active_tab(page)
    tab.locator('.toolbar .title').filter(
        has_text=re.compile('服务工单')).first.wait_for(state='visible')
    domains = tab.locator('.tab-domain li')
    domains.first.wait_for(state='visible')
    names = [n.strip() for n in domains.all_inner_texts()]
    for label in ['待派单', '待核查', '已逾期', '全部']:
        assert any(label in n for n in names), (label, names)
    flagged_tab = domains.filter(has_text='待核查').first
    flagged_tab.locator('a').click()
    tab.locator('.tab-domain li.active').filter(has_text='待核查').wait_for()
    _wait_count(tab, flagged)
    _wait_badge(flagged_tab, flagged)
    page.screenshot(path=str(OUTPUT / 'supervisor_flagged.png'))
    all_tab = domains.filter(has_text='全部').first
    all_tab.locator('a').click()
    tab.locator('.tab-domain li.active').filter(has_text='全部').wait_for()
    _wait_count(tab, total)

    _open_path(page, [r'^(养老服务|Eldercare)$',
            r'^(居家上门服务|Home Services)$', r'^(服务监管|Service Monitoring)$'])
    tab = _active_tab(page)
    tab.locator('.toolbar .title').filter(
        has_text=re.compile('服务监管')).first.wait_for(state='visible')
    graph = tab.locator('.graph svg, .graph canvas').first
    graph.wait_for(state='visible')
    # The pie of the open orders by state, with the flagged and overdue tabs
    text = tab.inner_text()
    assert re.search(r'\d+(\.\d+)?%', text), text[:500]
    for label in ['待核查', '已逾期']:
        assert label in text, text[:500]
    page.screenshot(path=str(OUTPUT / 'supervisor_monitoring.png'))


def _wait_count(tab, expected):
    "The toolbar's record count once the new tab's records are loaded"
    waited = 0
    while _record_count(tab) != expected:
        assert waited < TIMEOUT, (_record_count(tab), expected)
        tab.page.wait_for_timeout(100)
        waited += 100


def _wait_badge(domain, expected):
    badge = domain.locator('.badge')
    waited = 0
    while badge.inner_text().strip() != str(expected):
        assert waited < TIMEOUT, badge.inner_text()
        domain.page.wait_for_timeout(100)
        waited += 100
