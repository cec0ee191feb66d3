/* Worker H5 app (护理员工作台) of elder_service — vanilla JavaScript, no build.
 *
 * Texts: the page embeds the translated catalogue (JSON in <script
 * id="i18n">, ir.message records msg_h5_w_* rendered by h5.py in the
 * language of the browser); T(key, {name: value}) fills %(name)s.
 *
 * Login: JSON-RPC common.db.login on /<db>/rpc/, answering elder_security's
 * extra rounds (LoginException: new password, its confirmation, TOTP code).
 * Then the worker routes /<db>/service/worker/... with
 * "Authorization: Session base64(login:user_id:session)".
 */
(function () {
  'use strict';

  var DB = decodeURIComponent(location.pathname.split('/')[1] || '');
  var BASE = '/' + encodeURIComponent(DB);
  var KEY = 'elder_worker_session:' + DB;
  var CATALOGUE = {};
  try { CATALOGUE = JSON.parse(document.getElementById('i18n').textContent); } catch (e) { CATALOGUE = {}; }
  function T(key, values) {
    var text = CATALOGUE[key] !== undefined ? CATALOGUE[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (m, name) {
      return values && values[name] !== undefined ? String(values[name]) : m;
    });
  }
  function stateName(state) { return CATALOGUE['state_' + state] || state; }
  function anomalyName(kind) { return CATALOGUE['anomaly_' + kind] || kind; }
  function httpText(status) { return CATALOGUE['http_' + status]; }

  var $ = function (id) { return document.getElementById(id); };
  var session = null;
  var tasks = [];
  var current = null;
  var loginParams = {};
  var lastFlags = {};

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
    box.textContent = isError ? T('error', {message: text}) : text;
    box.className = 'message' + (isError ? ' error' : '');
    box.hidden = !text;
    if (text) { box.scrollIntoView({block: 'nearest'}); }
  }

  function show(view, title) {
    ['login-view', 'tasks-view', 'task-view'].forEach(function (v) { $(v).hidden = v !== view; });
    $('title').textContent = title;
    $('back').hidden = view !== 'task-view';
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
    show('login-view', T('login_title'));
    if (message) { say(message, true); }
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
        params: [user, loginParams, 'zh_CN']})
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
          $('extra-input').setAttribute('inputmode', name === 'totp_code' ? 'numeric' : 'text');
          $('login-submit').textContent = T('continue');
          say(T('extra_prompt', {message: message}), false);
          $('extra-input').focus();
          return;
        }
        throw new Error(String(data.error[1] && data.error[1][0] || data.error[0]));
      }
      session = {login: user, userId: data.result[0], token: data.result[1]};
      sessionStorage.setItem(KEY, JSON.stringify(session));
      $('password').value = '';
      $('extra').hidden = true;
      $('login-submit').textContent = T('login_button');
      loginParams = {};
      say('');
      loadTasks();
    }).catch(function (error) {
      say(error.message === 'Failed to fetch' ? T('network_error') : error.message, true);
    }).then(function () { button.disabled = false; });
  }

  function logout() {
    if (session) {
      fetch(BASE + '/rpc/', {method: 'POST', headers: headers(),
        body: JSON.stringify({id: 2, method: 'common.db.logout', params: []})}).catch(function () {});
    }
    showLogin('');
    say(T('logged_out'));
  }

  function headers() {
    return {'Content-Type': 'application/json',
      'Authorization': 'Session ' + b64utf8(session.login + ':' + session.userId + ':' + session.token)};
  }

  function call(method, path, body) {
    return fetch(BASE + '/service/worker/' + path, {
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

  /* --- tasks --- */

  function loadTasks() {
    show('tasks-view', T('tasks_title'));
    return call('GET', 'tasks').then(function (data) {
      tasks = data.tasks;
      $('tasks-date').textContent = T('tasks_count', {date: data.date, count: tasks.length});
      var list = $('tasks');
      list.textContent = '';
      if (!tasks.length) { list.appendChild(el('li', {text: T('no_tasks')})); }
      tasks.forEach(function (task) {
        list.appendChild(el('li', {}, [el('button', {
          type: 'button', class: 'task', 'data-order': task.id,
          onclick: function () { openTask(task.id); }
        }, [
          el('strong', {text: (task.time_from ? task.time_from.slice(0, 5) + ' ' : '') + task.item}),
          el('span', {class: 'state state-' + task.state, text: stateName(task.state)}),
          el('span', {class: 'line', text: T('elder_line', {name: task.elder})}),
          el('span', {class: 'line', text: T('address_line', {address: task.address || '—'})})
        ])]));
      });
    }).catch(function (error) { if (session) { say(error.message, true); } });
  }

  function openTask(id) {
    current = tasks.filter(function (t) { return t.id === id; })[0];
    if (current) { say(''); renderTask(); }
  }

  function navLinks(task) {
    if (task.latitude === null || task.latitude === undefined) {
      return el('p', {class: 'sub', text: T('no_coordinates')});
    }
    var lat = Number(task.latitude), lon = Number(task.longitude);
    return el('div', {class: 'nav'}, [
      el('a', {href: 'geo:' + lat + ',' + lon + '?q=' + lat + ',' + lon + '(' + encodeURIComponent(task.elder) + ')',
        'data-nav': 'geo', text: T('nav_phone')}),
      el('a', {href: 'https://uri.amap.com/marker?position=' + lon + ',' + lat +
        '&coordinate=wgs84&callnative=1&name=' + encodeURIComponent(T('home_of', {name: task.elder})),
        target: '_blank', rel: 'noopener noreferrer', 'data-nav': 'amap', text: T('nav_amap')})
    ]);
  }

  function fileInput(id, text) {
    var preview = el('img', {class: 'preview', alt: T('photo_preview'), hidden: true});
    var input = el('input', {type: 'file', id: id, accept: 'image/*', capture: 'environment',
      onchange: function () {
        if (input.files[0]) {
          preview.src = URL.createObjectURL(input.files[0]);
          preview.hidden = false;
          label.firstChild.textContent = T('photo_chosen', {text: text});
        }
      }});
    var label = el('label', {class: 'file', for: id}, [text, input]);
    return el('div', {}, [label, preview]);
  }

  function renderTask() {
    var t = current;
    var view = $('task-view');
    view.textContent = '';
    show('task-view', T('task_title'));
    view.appendChild(el('div', {class: 'card'}, [
      el('h2', {}, [t.item, el('span', {id: 'task-state', class: 'state state-' + t.state,
        text: stateName(t.state)})]),
      el('p', {text: T('order_line', {number: t.number})}),
      el('p', {text: T('time_line', {time: t.date + ' ' + (t.time_from ? t.time_from.slice(0, 5) : '') +
        (t.time_to ? '–' + t.time_to.slice(0, 5) : '')})}),
      el('p', {text: T('elder_line', {name: t.elder})}),
      el('p', {text: T('address_line', {address: t.address || '—'})}),
      navLinks(t)
    ]));
    var flags = lastFlags[t.id];
    if (flags && flags.length) {
      view.appendChild(el('p', {class: 'flag', id: 'flags', role: 'status',
        text: T('flagged', {kinds: flags.map(anomalyName).join(T('list_separator'))})}));
    } else if (t.flagged) {
      view.appendChild(el('p', {class: 'flag', id: 'flags', text: T('flagged', {kinds: T('flagged_generic')})}));
    }
    if (t.state === 'accepted') {
      view.appendChild(el('button', {type: 'button', class: 'action', id: 'depart',
        onclick: depart, text: T('depart')}));
    }
    if (t.state === 'accepted' || t.state === 'on_the_way') {
      var box = el('div', {class: 'card'}, [el('h2', {text: T('checkin_title')}),
        el('p', {class: 'sub', text: T(t.evidence.photo_before ? 'checkin_hint_photo' : 'checkin_hint')})]);
      if (t.evidence.photo_before) { box.appendChild(fileInput('photo-before', T('photo_before'))); }
      box.appendChild(el('button', {type: 'button', class: 'action', id: 'checkin',
        onclick: checkin, text: T('checkin')}));
      view.appendChild(box);
    }
    if (t.state === 'in_service') {
      var steps = el('ul', {class: 'steps'});
      t.steps.forEach(function (s) {
        steps.appendChild(el('li', {}, [el('label', {}, [
          el('input', {type: 'checkbox', class: 'step', value: s.id, checked: s.done}),
          s.required ? T('step_required', {name: s.name}) : s.name])]));
      });
      var out = el('div', {class: 'card'}, [el('h2', {text: T('steps_title')}), steps]);
      view.appendChild(out);
      var ev = el('div', {class: 'card'}, [el('h2', {text: T('checkout')})]);
      if (t.evidence.photo_after) { ev.appendChild(fileInput('photo-after', T('photo_after'))); }
      ev.appendChild(el('label', {for: 'signature', text: T('sign_here')}));
      var canvas = el('canvas', {id: 'signature', class: 'sig', 'aria-label': T('signature_area')});
      ev.appendChild(canvas);
      ev.appendChild(el('div', {class: 'row'}, [el('button', {type: 'button', class: 'secondary',
        id: 'sig-clear', text: T('sign_again'), onclick: function () { clearSignature(canvas); }})]));
      ev.appendChild(el('button', {type: 'button', class: 'action', id: 'checkout',
        onclick: checkout, text: T('checkout')}));
      view.appendChild(ev);
      setupSignature(canvas);
    }
    if (t.state === 'completed' || t.state === 'confirmed' || t.state === 'closed') {
      view.appendChild(el('p', {class: 'done', id: 'done', role: 'status',
        text: t.checkout_time ? T('done_at', {time: String(t.checkout_time).slice(11, 16)}) : T('done')}));
    }
  }

  /* --- signature --- */

  function setupSignature(canvas) {
    var ratio = window.devicePixelRatio || 1;
    var rect = canvas.getBoundingClientRect();
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    var ctx = canvas.getContext('2d');
    ctx.scale(ratio, ratio);
    ctx.lineWidth = 3; ctx.lineCap = 'round'; ctx.lineJoin = 'round'; ctx.strokeStyle = '#111111';
    canvas.signed = false;
    var drawing = false;
    function pos(e) { var r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
    canvas.addEventListener('pointerdown', function (e) {
      drawing = true; canvas.setPointerCapture(e.pointerId);
      var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); e.preventDefault();
    });
    canvas.addEventListener('pointermove', function (e) {
      if (!drawing) { return; }
      var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); canvas.signed = true; e.preventDefault();
    });
    ['pointerup', 'pointercancel', 'pointerleave'].forEach(function (n) {
      canvas.addEventListener(n, function () { drawing = false; });
    });
  }

  function clearSignature(canvas) {
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    canvas.signed = false;
  }

  /* --- visit actions --- */

  function position() {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject(new Error(T('no_geolocation'))); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({latitude: p.coords.latitude.toFixed(6), longitude: p.coords.longitude.toFixed(6),
          accuracy: p.coords.accuracy, timestamp: new Date().toISOString()});
      }, function (e) {
        reject(new Error(e.code === 1 ? T('position_denied') : T('position_failed')));
      }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 0});
    });
  }

  function photo(id) {
    var input = $(id);
    if (!input || !input.files || !input.files[0]) { return Promise.resolve(null); }
    var file = input.files[0];
    return new Promise(function (resolve) {
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 1280 / Math.max(img.width, img.height));
        var c = document.createElement('canvas');
        c.width = Math.round(img.width * scale); c.height = Math.round(img.height * scale);
        c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
        resolve(c.toDataURL('image/jpeg', 0.8).split(',')[1]);
      };
      img.onerror = function () {
        var reader = new FileReader();
        reader.onload = function () { resolve(String(reader.result).split(',')[1]); };
        reader.readAsDataURL(file);
      };
      img.src = URL.createObjectURL(file);
    });
  }

  function busy(id, on, text) {
    var b = $(id);
    if (b) { b.disabled = on; if (text) { b.textContent = text; } }
  }

  function done(data, okText) {
    current = data.order;
    tasks = tasks.map(function (t) { return t.id === current.id ? current : t; });
    lastFlags[current.id] = data.anomalies || [];
    renderTask();
    var flags = (data.anomalies || []).map(anomalyName);
    say(flags.length ? T('with_flags', {text: okText, kinds: flags.join(T('list_separator'))}) : okText, false);
  }

  function failed(id, text) {
    return function (error) { busy(id, false, text); say(error.message, true); };
  }

  function depart() {
    busy('depart', true, T('submitting'));
    call('POST', current.id + '/depart').then(function (data) { done(data, T('departed')); },
      failed('depart', T('depart')));
  }

  function checkin() {
    busy('checkin', true, T('locating'));
    var pos;
    position().then(function (p) { pos = p; return photo('photo-before'); }).then(function (data) {
      pos.photo = data;
      busy('checkin', true, T('checking_in'));
      return call('POST', current.id + '/checkin', pos);
    }).then(function (data) { done(data, T('checked_in')); }, failed('checkin', T('checkin')));
  }

  function checkout() {
    var canvas = $('signature');
    // The elder's (or family's) signature confirms every visit, even when
    // the item does not list it as required evidence.
    if (!canvas.signed) {
      say(T('signature_first'), true);
      return;
    }
    var steps = Array.prototype.filter.call(document.querySelectorAll('input.step'),
      function (i) { return i.checked; }).map(function (i) { return Number(i.value); });
    busy('checkout', true, T('locating'));
    var pos;
    position().then(function (p) { pos = p; return photo('photo-after'); }).then(function (data) {
      pos.photo = data;
      pos.steps = steps;
      if (canvas.signed) { pos.signature = canvas.toDataURL('image/png').split(',')[1]; }
      busy('checkout', true, T('checking_out'));
      return call('POST', current.id + '/checkout', pos);
    }).then(function (data) { done(data, T('checked_out')); }, failed('checkout', T('checkout')));
  }

  /* --- start --- */

  document.addEventListener('DOMContentLoaded', function () {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('refresh').addEventListener('click', function () { say(''); loadTasks(); });
    $('back').addEventListener('click', function () { say(''); loadTasks(); });
    if (session) { loadTasks(); } else { showLogin(''); }
  });
}());
