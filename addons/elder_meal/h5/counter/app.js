/* Canteen counter terminal (助餐点签到终端) of elder_meal — vanilla JavaScript.
 *
 * Texts: the page embeds the translated catalogue (JSON in <script
 * id="i18n">, ir.message records msg_h5_c_* rendered by h5.py in the
 * language of the browser); T(key, {name: value}) fills %(name)s.
 *
 * Login: JSON-RPC common.db.login on /<db>/rpc/ (answering elder_security's
 * extra rounds), then GET /<db>/meal/counter/points and POST
 * /<db>/meal/checkin with "Authorization: Session base64(login:id:session)".
 */
(function () {
  'use strict';

  var DB = decodeURIComponent(location.pathname.split('/')[1] || '');
  var BASE = '/' + encodeURIComponent(DB);
  var KEY = 'elder_meal_counter:' + DB;
  var CATALOGUE = {};
  try { CATALOGUE = JSON.parse(document.getElementById('i18n').textContent); } catch (e) { CATALOGUE = {}; }
  function T(key, values) {
    var text = CATALOGUE[key] !== undefined ? CATALOGUE[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (m, name) {
      return values && values[name] !== undefined ? String(values[name]) : m;
    });
  }
  function httpText(status) { return CATALOGUE['http_' + status]; }

  var $ = function (id) { return document.getElementById(id); };
  var session = null;
  var loginParams = {};
  var points = [];
  var state = {point: null, period: null, offer: null, payment: 'cash'};

  try { session = JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { session = null; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; }
      else if (k === 'class') { node.className = attrs[k]; }
      else if (k.slice(0, 2) === 'on') { node.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) {
        node.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
      }
    });
    (children || []).forEach(function (c) {
      if (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); }
    });
    return node;
  }

  function say(text, isError) {
    var box = $('message');
    box.textContent = text || '';
    box.className = 'message' + (isError ? ' error' : '');
    box.hidden = !text;
  }

  function show(view) {
    ['login-view', 'counter-view', 'result-view'].forEach(function (v) { $(v).hidden = v !== view; });
    $('logout').hidden = view === 'login-view';
  }

  function b64utf8(text) {
    var bytes = new TextEncoder().encode(text);
    var bin = '';
    bytes.forEach(function (b) { bin += String.fromCharCode(b); });
    return btoa(bin);
  }

  /* --- login --- */

  function showLogin(message) {
    session = null;
    sessionStorage.removeItem(KEY);
    loginParams = {};
    $('extra').hidden = true;
    $('point-name').textContent = '';
    show('login-view');
    say(message || '', !!message);
  }

  function login(event) {
    event.preventDefault();
    var user = $('login').value.trim();
    var password = $('password').value;
    if (!user || !password) { say(T('login_missing'), true); return; }
    if (!$('extra').hidden) {
      var value = $('extra-input').value;
      if (!value) { say(T('fill_in', {label: $('extra-label').textContent}), true); return; }
      loginParams[$('extra-input').name] = value;
    }
    loginParams.password = password;
    var button = $('login-submit');
    button.disabled = true;
    say(T('logging_in'));
    fetch(BASE + '/rpc/', {
      method: 'POST', credentials: 'omit',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({id: 1, method: 'common.db.login',
        params: [user, loginParams, document.documentElement.lang === 'en' ? 'en' : 'zh_CN']})
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(response.status === 401 || response.status === 403 ?
          T('bad_login') : (httpText(response.status) || T('server_error', {status: response.status})));
      }
      return response.json();
    }).then(function (data) {
      if (data.error) {
        if (data.error[0] === 'LoginException') {
          var name = data.error[1][0], message = data.error[1][1], type = data.error[1][2];
          delete loginParams[name];
          $('extra').hidden = false;
          $('extra-label').textContent = message;
          $('extra-input').name = name;
          $('extra-input').type = type === 'password' ? 'password' : 'text';
          $('extra-input').value = '';
          $('login-submit').textContent = T('continue');
          say(T('extra_prompt', {message: message}), false);
          $('extra-input').focus();
          return;
        }
        throw new Error(T('bad_login'));
      }
      session = {login: user, userId: data.result[0], token: data.result[1]};
      sessionStorage.setItem(KEY, JSON.stringify(session));
      $('password').value = '';
      $('extra').hidden = true;
      $('login-submit').textContent = T('login_button');
      loginParams = {};
      say('');
      loadPoints();
    }).catch(function (error) {
      say(error.message === 'Failed to fetch' ? T('network_error') : error.message, true);
    }).then(function () { button.disabled = false; });
  }

  function headers() {
    return {'Content-Type': 'application/json',
      'Authorization': 'Session ' + b64utf8(session.login + ':' + session.userId + ':' + session.token)};
  }

  function logout() {
    if (session) {
      fetch(BASE + '/rpc/', {method: 'POST', headers: headers(),
        body: JSON.stringify({id: 2, method: 'common.db.logout', params: []})}).catch(function () {});
    }
    showLogin('');
    say(T('logged_out'));
  }

  function call(method, path, body) {
    return fetch(BASE + '/meal/' + path, {
      method: method, credentials: 'omit', headers: headers(),
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (response.status === 401) {
          showLogin(httpText(401));
          throw new Error(httpText(401));
        }
        if (!response.ok) {
          throw new Error((data && data.error) || httpText(response.status) ||
            T('server_error', {status: response.status}));
        }
        return data;
      });
    });
  }

  /* --- counter --- */

  function loadPoints() {
    return call('GET', 'counter/points').then(function (data) {
      points = data.points;
      if (!points.length) { show('login-view'); say(T('no_point'), true); return; }
      var select = $('point');
      select.textContent = '';
      points.forEach(function (p) { select.appendChild(el('option', {value: p.code, text: p.name})); });
      $('point-box').hidden = points.length < 2;
      choosePoint(points[0].code);
      show('counter-view');
    }).catch(function (error) { if (session) { say(error.message, true); } });
  }

  function current() {
    for (var i = 0; i < points.length; i++) { if (points[i].code === state.point) { return points[i]; } }
    return null;
  }

  function pressed(container, button) {
    Array.prototype.forEach.call(container.querySelectorAll('button'), function (b) {
      b.setAttribute('aria-pressed', b === button ? 'true' : 'false');
    });
  }

  function choosePoint(code) {
    state.point = code;
    var point = current();
    $('point').value = code;
    $('point-name').textContent = point.name;
    var box = $('periods');
    box.textContent = '';
    state.period = point.period_now;
    ['breakfast', 'lunch', 'dinner'].forEach(function (period) {
      if (point.periods.indexOf(period) < 0) { return; }
      box.appendChild(el('button', {type: 'button', class: 'choice', 'data-period': period,
        'aria-pressed': period === state.period ? 'true' : 'false',
        onclick: function (event) { state.period = period; pressed(box, event.currentTarget); showOffers(); say(''); }
      }, [T('period_' + period)]));
    });
    if (!state.period) { say(T('period_closed'), false); } else { say(''); }
    showOffers();
  }

  function showOffers() {
    var point = current();
    var box = $('offers');
    box.textContent = '';
    state.offer = null;
    var offers = point.offers.filter(function (o) { return o.meal_period === state.period; });
    if (!offers.length) { box.appendChild(el('p', {class: 'hint', text: T('no_offer')})); return; }
    state.offer = offers[0].id;
    offers.forEach(function (offer, i) {
      box.appendChild(el('button', {type: 'button', class: 'choice offer', 'data-offer': offer.id,
        'aria-pressed': i === 0 ? 'true' : 'false',
        onclick: function (event) { state.offer = offer.id; pressed(box, event.currentTarget); }
      }, [el('span', {text: offer.dish}), el('strong', {text: T('yuan', {amount: offer.price})})]));
    });
  }

  function choosePayment(event) {
    var button = event.target.closest('button');
    if (!button) { return; }
    state.payment = button.getAttribute('data-payment');
    pressed($('payments'), button);
    $('reference-box').hidden = state.payment !== 'wechat';
  }

  function checkIn(method, value, image) {
    if (!state.period) { say(T('choose_period'), true); return Promise.resolve(); }
    var body = {point: state.point, method: method, meal_period: state.period,
      offer: state.offer, service_mode: 'dine_in', payment_method: state.payment};
    if (state.payment === 'wechat') { body.payment_reference = $('reference').value.trim(); }
    if (image !== undefined) { body.image = image; } else { body.value = value; }
    say(T('checking'));
    return call('POST', 'checkin', body).then(function (data) {
      say('');
      showResult(data);
    }).catch(function (error) {
      say(error.message === 'Failed to fetch' ? T('network_error') : error.message, true);
    });
  }

  function row(label, value, cls) {
    return el('div', {class: 'row ' + (cls || '')}, [el('span', {class: 'label', text: label}),
      el('strong', {class: 'value', text: value})]);
  }

  function showResult(data) {
    var box = $('result');
    box.textContent = '';
    var ok = data.result === 'accepted';
    box.className = 'result ' + (ok ? 'ok' : 'refused');
    box.setAttribute('data-result', data.result);
    box.appendChild(el('p', {class: 'verdict', text: ok ? T('accepted') : T('rejected')}));
    if (ok) {
      var order = data.order;
      box.appendChild(row(T('person'), data.person.name));
      box.appendChild(row(T('dish'), order.dish));
      box.appendChild(row(T('price'), T('yuan', {amount: order.price})));
      box.appendChild(row(T('subsidy'), T('yuan', {amount: order.subsidy}), 'subsidy'));
      box.appendChild(row(T('self_pay'), T('yuan', {amount: order.self_pay}), 'self-pay'));
      if (order.basis_text) { box.appendChild(row(T('basis'), order.basis_text)); }
    } else {
      box.appendChild(row(T('reason'), data.message || data.reason || ''));
    }
    show('result-view');
    $('next').focus();
  }

  function nextPerson() {
    $('id-number').value = '';
    $('qr-code').value = '';
    $('reference').value = '';
    $('photo').value = '';
    $('id-form').hidden = true;
    $('qr-form').hidden = true;
    say('');
    loadPoints();
  }

  function photoChosen() {
    var file = $('photo').files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () {
      var data = String(reader.result);
      checkIn('face', null, data.slice(data.indexOf(',') + 1));
    };
    reader.readAsDataURL(file);
  }

  function entry(form, input) {
    $('id-form').hidden = form !== 'id-form';
    $('qr-form').hidden = form !== 'qr-form';
    $(input).focus();
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('point').addEventListener('change', function () { choosePoint($('point').value); });
    $('payments').addEventListener('click', choosePayment);
    $('photo').addEventListener('change', photoChosen);
    $('method-id').addEventListener('click', function () { entry('id-form', 'id-number'); });
    $('method-qr').addEventListener('click', function () { entry('qr-form', 'qr-code'); });
    $('id-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var value = $('id-number').value.trim().toUpperCase();
      if (!value) { say(T('fill_in', {label: T('id_number')}), true); return; }
      checkIn('id_card', value);
    });
    $('qr-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var value = $('qr-code').value.trim();
      if (!value) { say(T('fill_in', {label: T('qr_code')}), true); return; }
      checkIn('qr', value);
    });
    $('next').addEventListener('click', nextPerson);
    if (session) { loadPoints(); } else { showLogin(''); }
  });
}());
