# This file is part of the eldercare platform. See LICENSE.
"""Supervision big screen (大数据监管大屏): figures from the analytics store
for one region and the regions below it.

``figures(store, scope)`` runs the supervision queries (ClickHouse SQL,
every one restricted to the region's subtree through the synced region
paths). The web routes (routes.py) decide the scope from the user's record
rule scope (``res.user.elder_region``): a district supervisor asks for their
district or a region below it, never for another one.
"""

DONE = ('completed', 'confirmed', 'closed')
QUOTA_STATES = ('pending', 'statement')
TZ = 'Asia/Shanghai'

R = ('(SELECT id FROM $db.regions FINAL '
    'WHERE startsWith(path, {path:String}))')
E = ('(SELECT id FROM $db.elders FINAL WHERE region IN %s)' % R)  # noqa: S608 (constant store SQL, values bound as parameters)
D = ('(SELECT id FROM $db.devices FINAL WHERE region IN %s)' % R)  # noqa: S608 (constant store SQL, values bound as parameters)
TODAY = "toDate(now(), '%s')" % TZ

QUERIES = {
    'kpi_elders': (
        "SELECT count() FROM $db.elders FINAL "  # noqa: S608 (constant store SQL, values bound as parameters)
        "WHERE region IN %s AND state = 'active'" % R),
    'kpi_orders_month': (
        "SELECT count(), countIf(state IN %s) FROM $db.orders FINAL "  # noqa: S608 (constant store SQL, values bound as parameters)
        "WHERE elder IN %s AND requested_date >= toStartOfMonth(%s) "
        "AND state NOT IN ('draft', 'cancelled')" % (DONE, E, TODAY)),
    'elders_by_category': (
        "SELECT ec.category, count() AS n "  # noqa: S608 (constant store SQL, values bound as parameters)
        "FROM $db.elder_categories AS ec FINAL "
        "WHERE ec.elder IN (SELECT id FROM $db.elders FINAL "
        "WHERE region IN %s AND state = 'active') "
        "GROUP BY ec.category ORDER BY n DESC" % R),
    'elders_by_level': (
        "SELECT level, count() FROM (SELECT elder, "  # noqa: S608 (constant store SQL, values bound as parameters)
        "argMax(level, (effective_date, id)) AS level "
        "FROM $db.assessments FINAL "
        "WHERE state IN ('published', 'effective') AND elder IN %s "
        "GROUP BY elder) GROUP BY level ORDER BY level" % E),
    'orders_by_month': (
        "SELECT toStartOfMonth(requested_date) AS m, count(), "  # noqa: S608 (constant store SQL, values bound as parameters)
        "countIf(state IN %s) FROM $db.orders FINAL "
        "WHERE elder IN %s AND state NOT IN ('draft', 'cancelled') "
        "AND requested_date >= addMonths(toStartOfMonth(%s), -11) "
        "GROUP BY m ORDER BY m" % (DONE, E, TODAY)),
    'orders_by_type': (
        "SELECT service_type, count() AS n FROM $db.orders FINAL "  # noqa: S608 (constant store SQL, values bound as parameters)
        "WHERE elder IN %s AND state NOT IN ('draft', 'cancelled') "
        "AND requested_date >= addDays(%s, -90) "
        "GROUP BY service_type ORDER BY n DESC" % (E, TODAY)),
    'spend_by_month': (
        "SELECT toMonth(service_month) AS m, sum(subsidy_amount), "  # noqa: S608 (constant store SQL, values bound as parameters)
        "sum(amount) FROM $db.settlement_lines FINAL "
        "WHERE region IN %s AND state IN %s "
        "AND toYear(service_month) = toYear(%s) GROUP BY m ORDER BY m"
        % (R, QUOTA_STATES, TODAY)),
    'budget_own': (
        "SELECT sum(amount) FROM $db.budgets FINAL "  # noqa: S608 (constant store SQL, values bound as parameters)
        "WHERE region = {region:UInt32} AND year = toYear(%s)" % TODAY),
    'budget_below': (
        "SELECT sum(amount) FROM $db.budgets FINAL "  # noqa: S608 (constant store SQL, values bound as parameters)
        "WHERE region IN %s AND year = toYear(%s)" % (R, TODAY)),
    'devices': (
        "SELECT count(), countIf(last_seen >= now64() - "  # noqa: S608 (constant store SQL, values bound as parameters)
        "toIntervalMinute(coalesce(heartbeat_minutes, 60) * 2)) "
        "FROM $db.devices FINAL WHERE region IN %s "
        "AND state IN ('installed', 'active', 'fault')" % R),
    'alarms_by_hour': (
        "SELECT toHour(first_occurrence, '%s') AS h, count() "  # noqa: S608 (constant store SQL, values bound as parameters)
        "FROM $db.alarms FINAL WHERE region IN %s "
        "AND first_occurrence >= now64() - INTERVAL 7 DAY "
        "GROUP BY h ORDER BY h" % (TZ, R)),
    'alarms_by_kind': (
        "SELECT kind, count() AS n, countIf(state != 'closed') "  # noqa: S608 (constant store SQL, values bound as parameters)
        "FROM $db.alarms FINAL WHERE region IN %s "
        "AND first_occurrence >= now64() - INTERVAL 30 DAY "
        "GROUP BY kind ORDER BY n DESC" % R),
    'calls': (
        "SELECT countIf(direction = 'inbound'), "  # noqa: S608 (constant store SQL, values bound as parameters)
        "countIf(direction = 'inbound' AND answer_at IS NOT NULL), "
        "avgIf(wait_seconds, answer_at IS NOT NULL) "
        "FROM $db.calls FINAL WHERE region IN %s "
        "AND offered_at >= now64() - INTERVAL 30 DAY" % R),
    'alarm_response': (
        "SELECT count(), avgIf(dateDiff('second', raised_at, accepted_at), "  # noqa: S608 (constant store SQL, values bound as parameters)
        "accepted_at IS NOT NULL), quantileIf(0.9)(dateDiff('second', "
        "raised_at, accepted_at), accepted_at IS NOT NULL), "
        "countIf(accepted_at > sla_deadline OR (accepted_at IS NULL "
        "AND sla_deadline < now64())) "
        "FROM $db.alarm_handlings FINAL WHERE region IN %s "
        "AND raised_at >= now64() - INTERVAL 30 DAY" % R),
    'providers': (
        "SELECT o.provider, p.name, count() AS n, avg(o.rating), "  # noqa: S608 (constant store SQL, values bound as parameters)
        "countIf(o.flagged = 1) FROM $db.orders AS o FINAL "
        "LEFT JOIN (SELECT id, name FROM $db.providers FINAL) AS p "
        "ON p.id = o.provider "
        "WHERE o.elder IN %s AND o.state IN %s AND o.provider IS NOT NULL "
        "AND o.requested_date >= addDays(%s, -90) "
        "GROUP BY o.provider, p.name ORDER BY n DESC LIMIT 10"
        % (E, DONE, TODAY)),
    'evaluation': (
        "SELECT provider, argMax(score, end_date), argMax(grade, end_date) "
        "FROM $db.evaluations FINAL GROUP BY provider"),
    'anomalies': (
        "SELECT (SELECT count() FROM $db.orders FINAL WHERE elder IN %s "  # noqa: S608 (constant store SQL, values bound as parameters)
        "AND flagged = 1 AND requested_date >= addDays(%s, -30)), "
        "(SELECT count() FROM $db.calls FINAL WHERE region IN %s "
        "AND anomaly IS NOT NULL AND anomaly != '' "
        "AND offered_at >= now64() - INTERVAL 30 DAY), "
        "(SELECT count() FROM $db.alarms FINAL WHERE region IN %s "
        "AND state = 'open' AND first_occurrence < now64() - INTERVAL 1 DAY)"
        % (E, TODAY, R, R)),
    'meals': (
        "SELECT count() FROM $db.meal_orders FINAL WHERE region IN %s "  # noqa: S608 (constant store SQL, values bound as parameters)
        "AND date >= addDays(%s, -30) AND state != 'cancelled'"
        % (R, TODAY)),
    'beds': (
        "SELECT count() FROM $db.beds FINAL WHERE region IN %s "  # noqa: S608 (constant store SQL, values bound as parameters)
        "AND state NOT IN ('draft', 'cancelled', 'terminated')" % R),
    'renovations': (
        "SELECT count() FROM $db.renovations FINAL WHERE region IN %s" % R),  # noqa: S608 (constant store SQL, values bound as parameters)
    'telemetry_by_hour': (
        "SELECT toStartOfHour(ts) AS h, count() FROM $db.telemetry "  # noqa: S608 (constant store SQL, values bound as parameters)
        "WHERE device IN %s AND ts >= now64() - INTERVAL 24 HOUR "
        "GROUP BY h ORDER BY h" % D),
    'children': (
        "SELECT toUInt32OrZero(splitByChar('/', substring(r.path, "
        "length({path:String}) + 1))[1]) AS child, count() "
        "FROM $db.elders AS e FINAL "
        "INNER JOIN (SELECT id, path FROM $db.regions FINAL) AS r "
        "ON r.id = e.region WHERE startsWith(r.path, {path:String}) "
        "AND e.state = 'active' GROUP BY child"),
    'children_orders': (
        "SELECT toUInt32OrZero(splitByChar('/', substring(r.path, "  # noqa: S608 (constant store SQL, values bound as parameters)
        "length({path:String}) + 1))[1]) AS child, count() "
        "FROM $db.orders AS o FINAL "
        "INNER JOIN (SELECT id, region FROM $db.elders FINAL) AS e "
        "ON e.id = o.elder "
        "INNER JOIN (SELECT id, path FROM $db.regions FINAL) AS r "
        "ON r.id = e.region WHERE startsWith(r.path, {path:String}) "
        "AND o.state NOT IN ('draft', 'cancelled') "
        "AND o.requested_date >= addDays(%s, -30) GROUP BY child" % TODAY),
    'children_alarms': (
        "SELECT toUInt32OrZero(splitByChar('/', substring(r.path, "
        "length({path:String}) + 1))[1]) AS child, count() "
        "FROM $db.alarms AS a FINAL "
        "INNER JOIN (SELECT id, path FROM $db.regions FINAL) AS r "
        "ON r.id = a.region WHERE startsWith(r.path, {path:String}) "
        "AND a.first_occurrence >= now64() - INTERVAL 30 DAY GROUP BY child"),
    'child_regions': (
        "SELECT id, code, name, level FROM $db.regions FINAL "
        "WHERE parent = {region:UInt32} AND active = 1 ORDER BY code"),
    }


def _num(value):
    if value is None:
        return 0
    try:
        return float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return 0


def run(store, name, region):
    _, rows = store.query(QUERIES[name], {
            'path': region['path'], 'region': region['id']})
    return rows


def figures(store, region):
    """All the figures of the big screen for a region {id, path, ...}, with
    ids and codes (the routes put the translated labels on them)"""
    q = lambda name: run(store, name, region)  # noqa: E731
    data = {}
    data['elders'] = _num(q('kpi_elders')[0][0])
    total, done = q('kpi_orders_month')[0]
    data['orders_month'] = {'total': total, 'done': done}
    data['elders_by_category'] = [[c, n] for c, n in q('elders_by_category')]
    data['elders_by_level'] = [[lv, n] for lv, n in q('elders_by_level')]
    data['orders_by_month'] = [[str(m)[:7], n, d]
        for m, n, d in q('orders_by_month')]
    data['orders_by_type'] = [[t, n] for t, n in q('orders_by_type')]
    spend = {m: (_num(s), _num(a)) for m, s, a in q('spend_by_month')}
    budget = _num(q('budget_own')[0][0]) or _num(q('budget_below')[0][0])
    data['spend'] = {
        'months': list(range(1, 13)),
        'subsidy': [round(spend.get(m, (0, 0))[0], 2) for m in range(1, 13)],
        'budget_month': round(budget / 12, 2),
        'budget_year': budget,
        'spent_year': round(sum(s for s, _ in spend.values()), 2),
        }
    total, online = q('devices')[0]
    data['devices'] = {'total': total, 'online': online,
        'rate': round(online / total, 4) if total else None}
    hours = dict(q('alarms_by_hour'))
    data['alarms_by_hour'] = [hours.get(h, 0) for h in range(24)]
    data['alarms_by_kind'] = [[k, n, o] for k, n, o in q('alarms_by_kind')]
    inbound, answered, wait = q('calls')[0]
    data['calls'] = {'inbound': inbound, 'answered': answered,
        'rate': round(answered / inbound, 4) if inbound else None,
        'wait': round(_num(wait), 1)}
    count, avg, p90, overdue = q('alarm_response')[0]
    data['alarm_response'] = {'count': count, 'avg': round(_num(avg), 1),
        'p90': round(_num(p90), 1), 'overdue': overdue}
    scores = {p: (_num(s), g) for p, s, g in q('evaluation')}
    data['providers'] = [{
            'id': p, 'name': name, 'orders': n,
            'rating': round(_num(r), 2) if r is not None else None,
            'flagged': f, 'score': scores.get(p, (None, None))[0],
            'grade': scores.get(p, (None, None))[1]}
        for p, name, n, r, f in q('providers')]
    flagged, call_anomalies, stale_alarms = q('anomalies')[0]
    data['anomalies'] = {'flagged_orders': flagged,
        'call_anomalies': call_anomalies, 'stale_alarms': stale_alarms,
        'budget_alert': bool(budget) and data['spend']['spent_year']
        >= 0.9 * budget}
    data['meals'] = _num(q('meals')[0][0])
    data['beds'] = _num(q('beds')[0][0])
    data['renovations'] = _num(q('renovations')[0][0])
    data['telemetry_by_hour'] = [[str(h)[11:16], n]
        for h, n in q('telemetry_by_hour')]
    elders = dict(q('children'))
    orders = dict(q('children_orders'))
    alarms = dict(q('children_alarms'))
    data['children'] = [{
            'id': i, 'code': code, 'name': name, 'level': level,
            'elders': elders.get(i, 0), 'orders': orders.get(i, 0),
            'alarms': alarms.get(i, 0)}
        for i, code, name, level in q('child_regions')]
    return data
