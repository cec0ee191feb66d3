/* Supervision big screen (elder_bi). Vanilla JavaScript and ECharts.
 *
 * Login: JSON-RPC common.db.login on /<db>/rpc/ (answering elder_security's
 * extra rounds), then GET /<db>/bi/screen/data?region=<id> with
 * "Authorization: Session base64(login:user_id:session)". Clicking a region
 * (bar of the drill-down chart) loads that region; the chain above goes
 * back up. A figure links into the web client when the server gave a link
 * (the user may read the records).
 */
(function () {
  'use strict';
  var T = JSON.parse(document.getElementById('i18n').textContent);
  var BASE = window.location.pathname.replace(/\/bi\/screen\/.*$/, '');
  var KEY = 'elder_bi_session' + BASE;
  var session = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  var loginParams = {};
  var charts = {};
  var region = null;
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };
  var COLORS = ['#3fd0ff', '#7cffb2', '#ffb84d', '#ff6b6b', '#b38cff', '#58a6ff', '#ffd866', '#4de1c1'];

  function b64utf8(text) {
    return btoa(unescape(encodeURIComponent(text)));
  }
  function say(text) { $('message').textContent = text || ''; }
  function show(view) {
    $('login-view').hidden = view !== 'login';
    $('screen-view').hidden = view !== 'screen';
    $('logout').hidden = view !== 'screen';
    $('refresh').hidden = view !== 'screen';
  }
  function texts() {
    document.querySelectorAll('[data-t]').forEach(function (el) {
      el.textContent = T[el.getAttribute('data-t')] || '';
    });
    $('login-title').textContent = T.login_title;
    $('login-label').textContent = T.login_name;
    $('password-label').textContent = T.password;
    $('login-submit').textContent = T.login_button;
    $('logout').textContent = T.logout;
    $('refresh').textContent = T.refresh;
  }

  function showLogin(message) {
    session = null;
    sessionStorage.removeItem(KEY);
    loginParams = {};
    $('extra').hidden = true;
    show('login');
    $('login-message').textContent = message || '';
  }

  function login(event) {
    event.preventDefault();
    var user = $('login').value.trim();
    if (!$('extra').hidden) {
      loginParams[$('extra-input').name] = $('extra-input').value;
    }
    loginParams.password = $('password').value;
    fetch(BASE + '/rpc/', {
      method: 'POST', credentials: 'omit',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({id: 1, method: 'common.db.login', params: [user, loginParams, 'zh_CN']})
    }).then(function (r) {
      if (!r.ok) { throw new Error(T.bad_login); }
      return r.json();
    }).then(function (data) {
      if (data.error) {
        if (data.error[0] === 'LoginException') {
          $('extra').hidden = false;
          $('extra-label').textContent = data.error[1][1];
          $('extra-input').name = data.error[1][0];
          $('extra-input').type = data.error[1][2] === 'password' ? 'password' : 'text';
          $('login-submit').textContent = T['continue'];
          return;
        }
        throw new Error(T.bad_login);
      }
      session = {login: user, userId: data.result[0], token: data.result[1]};
      sessionStorage.setItem(KEY, JSON.stringify(session));
      $('password').value = '';
      load(null);
    }).catch(function (error) {
      $('login-message').textContent = error.message === 'Failed to fetch' ? T.network_error : error.message;
    });
  }

  function logout() {
    if (session) {
      fetch(BASE + '/rpc/', {method: 'POST', headers: headers(),
        body: JSON.stringify({id: 2, method: 'common.db.logout', params: []})}).catch(function () {});
    }
    showLogin('');
  }

  function headers() {
    return {'Content-Type': 'application/json',
      'Authorization': 'Session ' + b64utf8(session.login + ':' + session.userId + ':' + session.token)};
  }

  function load(regionId) {
    say(T.loading);
    var url = BASE + '/bi/screen/data' + (regionId ? '?region=' + encodeURIComponent(regionId) : '');
    fetch(url, {credentials: 'omit', headers: headers()}).then(function (r) {
      if (r.status === 401) { showLogin(''); return null; }
      if (r.status === 403) { throw new Error(T.forbidden); }
      if (r.status === 503) { throw new Error(T.no_store); }
      if (!r.ok) { throw new Error(T.network_error); }
      return r.json();
    }).then(function (data) {
      if (!data) { return; }
      region = data.region;
      show('screen');
      render(data);
      say('');
      document.body.setAttribute('data-loaded', region.id);
      clearTimeout(timer);
      timer = setTimeout(function () { load(region.id); }, 60000);
    }).catch(function (error) {
      show(session ? 'screen' : 'login');
      say(error.message);
    });
  }

  function link(href, text) {
    if (!href) { return document.createTextNode(text); }
    var a = document.createElement('a');
    a.href = href; a.target = '_blank'; a.rel = 'noopener';
    a.textContent = text; a.title = T.open_records;
    return a;
  }
  function pct(value) { return value === null || value === undefined ? T.none : (value * 100).toFixed(1) + '%'; }
  function num(value) { return value === null || value === undefined ? T.none : Number(value).toLocaleString('zh-CN'); }

  function kpi(label, value, sub, href) {
    var div = document.createElement('div');
    div.className = 'kpi';
    var l = document.createElement('div'); l.className = 'label'; l.textContent = label;
    var v = document.createElement('div'); v.className = 'value';
    v.appendChild(link(href, value));
    div.appendChild(l); div.appendChild(v);
    if (sub) { var s = document.createElement('div'); s.className = 'sub'; s.textContent = sub; div.appendChild(s); }
    return div;
  }

  function chart(id) {
    if (!charts[id]) { charts[id] = echarts.init($(id), null, {renderer: 'canvas'}); }
    return charts[id];
  }
  var axis = {axisLabel: {color: '#9fb6d9'}, axisLine: {lineStyle: {color: '#1d4f8c'}}, splitLine: {lineStyle: {color: '#123a66'}}};
  function base(extra) {
    return Object.assign({color: COLORS, textStyle: {color: '#e6f0ff', fontSize: 14},
      tooltip: {trigger: 'axis'}, grid: {left: 50, right: 20, top: 30, bottom: 30},
      animation: false}, extra);
  }
  function headerLink(id, href) {
    var h2 = $(id).parentNode.querySelector('h2');
    var old = h2.querySelector('a'); if (old) { old.remove(); }
    if (href) { var a = link(href, '›'); h2.appendChild(a); }
  }

  function render(d) {
    var L = d.links || {};
    // chain (drill up)
    var chain = $('chain'); chain.textContent = '';
    d.chain.forEach(function (r, i) {
      if (i < d.chain.length - 1) {
        var a = document.createElement('a'); a.textContent = r.name; a.setAttribute('data-region', r.id);
        a.addEventListener('click', function () { load(r.id); });
        chain.appendChild(a); chain.appendChild(document.createTextNode(' › '));
      } else {
        var s = document.createElement('span'); s.textContent = r.name; s.id = 'region-name'; chain.appendChild(s);
      }
    });
    // sync health
    var sync = $('sync');
    sync.className = '';
    if (d.sync.service !== 'running' || d.sync.errors.length || (d.sync.lag !== null && d.sync.lag > d.sync.alert)) {
      sync.className = 'bad';
    }
    sync.textContent = T.sync + ' ' + (d.sync.lag === null ? T.none : T.sync_lag.replace('%(seconds)s', d.sync.lag)) +
      (d.sync.errors.length ? ' · ' + T.sync_error + d.sync.errors.join(', ') : '');
    // KPIs
    var k = $('kpis'); k.textContent = '';
    k.appendChild(kpi(T.elders, num(d.elders), d.region.name, L.elders));
    k.appendChild(kpi(T.orders_month, num(d.orders_month.total), T.orders_done + ' ' + num(d.orders_month.done), L.orders));
    k.appendChild(kpi(T.spent_year, num(d.spend.spent_year), T.budget_year + ' ' + num(d.spend.budget_year), L.spend));
    k.appendChild(kpi(T.device_online, pct(d.devices.rate), num(d.devices.online) + ' / ' + num(d.devices.total), L.devices));
    k.appendChild(kpi(T.call_answer, pct(d.calls.rate), num(d.calls.answered) + ' / ' + num(d.calls.inbound), L.calls));
    var responded = d.alarm_response.count > 0;
    k.appendChild(kpi(T.alarm_response, responded ? num(d.alarm_response.avg) + T.seconds : T.none,
      (responded ? T.p90 + ' ' + num(d.alarm_response.p90) + T.seconds + ' · ' : '') + T.overdue + ' ' + num(d.alarm_response.overdue), L.alarm_handlings));
    k.appendChild(kpi(T.meals, num(d.meals), T.beds + ' ' + num(d.beds) + ' · ' + T.renovations + ' ' + num(d.renovations), L.meals));
    k.appendChild(kpi(T.alarms, num(d.alarms_by_hour.reduce(function (a, b) { return a + b; }, 0)), T.last_7_days, L.alarms));

    chart('c-category').setOption(base({tooltip: {trigger: 'item'}, series: [{type: 'pie', radius: ['35%', '68%'],
      label: {color: '#e6f0ff'}, data: d.elders_by_category.map(function (r) { return {name: r[0], value: r[1]}; })}]}), true);
    headerLink('c-category', L.elders);
    chart('c-level').setOption(base({xAxis: Object.assign({type: 'category', data: d.elders_by_level.map(function (r) { return r[0]; }),
      axisLabel: {color: '#9fb6d9', interval: 0, width: 90, overflow: 'truncate'}}, {}),
      yAxis: Object.assign({type: 'value'}, axis), series: [{type: 'bar', data: d.elders_by_level.map(function (r) { return r[1]; })}]}), true);
    headerLink('c-level', L.assessments);
    chart('c-orders').setOption(base({legend: {textStyle: {color: '#e6f0ff'}, top: 0},
      xAxis: Object.assign({type: 'category', data: d.orders_by_month.map(function (r) { return r[0]; })}, axis),
      yAxis: Object.assign({type: 'value'}, axis),
      series: [{name: T.orders, type: 'bar', data: d.orders_by_month.map(function (r) { return r[1]; })},
        {name: T.completed, type: 'line', data: d.orders_by_month.map(function (r) { return r[2]; })}]}), true);
    headerLink('c-orders', L.orders);
    chart('c-types').setOption(base({tooltip: {trigger: 'item'}, series: [{type: 'pie', radius: '65%', label: {color: '#e6f0ff'},
      data: d.orders_by_type.map(function (r) { return {name: r[0], value: r[1]}; })}]}), true);
    chart('c-spend').setOption(base({legend: {textStyle: {color: '#e6f0ff'}, top: 0},
      xAxis: Object.assign({type: 'category', data: d.spend.months.map(function (m) { return m + '月'; })}, axis),
      yAxis: Object.assign({type: 'value'}, axis),
      series: [{name: T.subsidy, type: 'bar', data: d.spend.subsidy},
        {name: T.budget, type: 'line', data: d.spend.months.map(function () { return d.spend.budget_month; })}]}), true);
    headerLink('c-spend', L.spend);
    chart('c-alarms').setOption(base({xAxis: Object.assign({type: 'category', data: d.alarms_by_hour.map(function (v, h) { return h + '时'; })}, axis),
      yAxis: Object.assign({type: 'value', minInterval: 1}, axis),
      series: [{name: T.alarms, type: 'bar', data: d.alarms_by_hour, itemStyle: {color: '#ffb84d'}}]}), true);
    headerLink('c-alarms', L.alarms);
    var kinds = $('kinds'); kinds.textContent = '';
    d.alarms_by_kind.forEach(function (r) {
      var li = document.createElement('li');
      li.appendChild(link(L.alarms, r[0]));
      var n = document.createElement('span'); n.className = 'n';
      n.textContent = num(r[1]) + ' / ' + T.open + ' ' + num(r[2]); li.appendChild(n);
      kinds.appendChild(li);
    });
    if (!d.alarms_by_kind.length) {
      var none = document.createElement('li'); none.textContent = T.none; kinds.appendChild(none);
    }
    // drill-down
    var kids = d.children;
    var c = chart('c-children');
    c.setOption(base({legend: {textStyle: {color: '#e6f0ff'}, top: 0},
      grid: {left: 50, right: 20, top: 30, bottom: 50},
      xAxis: Object.assign({type: 'category', data: kids.map(function (r) { return r.name; }),
        axisLabel: {color: '#e6f0ff', interval: 0, rotate: kids.length > 6 ? 30 : 0}}, {}),
      yAxis: Object.assign({type: 'value'}, axis),
      series: [{name: T.elders, type: 'bar', data: kids.map(function (r) { return r.elders; })},
        {name: T.orders, type: 'bar', data: kids.map(function (r) { return r.orders; })},
        {name: T.alarms, type: 'bar', data: kids.map(function (r) { return r.alarms; })}]}), true);
    c.off('click');
    c.on('click', function (params) { if (kids[params.dataIndex]) { load(kids[params.dataIndex].id); } });
    var drill = $('children-links'); drill.textContent = '';
    kids.forEach(function (r) {
      var b = document.createElement('button'); b.type = 'button'; b.textContent = r.name;
      b.setAttribute('data-region', r.id);
      b.addEventListener('click', function () { load(r.id); });
      drill.appendChild(b);
    });
    $('c-children').setAttribute('data-children', JSON.stringify(kids.map(function (r) { return [r.id, r.name]; })));
    // providers
    var t = $('t-providers'); t.textContent = '';
    var head = t.insertRow();
    ['#', T.provider, T.orders, T.rating, T.score].forEach(function (h) { var th = document.createElement('th'); th.textContent = h; head.appendChild(th); });
    d.providers.forEach(function (p, i) {
      var row = t.insertRow();
      row.insertCell().textContent = i + 1;
      row.insertCell().appendChild(link(p.link, p.name || '-'));
      row.insertCell().textContent = num(p.orders);
      row.insertCell().textContent = p.rating === null ? T.none : p.rating.toFixed(2);
      row.insertCell().textContent = p.score === null || p.score === undefined ? T.none : Number(p.score).toFixed(1) + (p.grade ? ' ' + p.grade : '');
    });
    // anomalies
    var ul = $('anomalies'); ul.textContent = '';
    [[T.flagged_orders, d.anomalies.flagged_orders, L.flagged_orders], [T.call_anomalies, d.anomalies.call_anomalies, L.calls],
      [T.stale_alarms, d.anomalies.stale_alarms, L.alarms], [T.overdue, d.alarm_response.overdue, L.alarm_handlings]].forEach(function (a) {
      var li = document.createElement('li');
      li.appendChild(link(a[2], a[0]));
      var n = document.createElement('span'); n.className = 'n'; n.textContent = num(a[1]); li.appendChild(n);
      ul.appendChild(li);
    });
    if (d.anomalies.budget_alert) {
      var li = document.createElement('li'); li.textContent = T.budget_alert; li.className = 'n'; ul.appendChild(li);
    }
  }

  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });
  document.addEventListener('DOMContentLoaded', function () {
    texts();
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('refresh').addEventListener('click', function () { if (region) { load(region.id); } });
    if (session) { load(null); } else { showLogin(''); }
  });
}());
