/* 护理员工作台 (worker H5 app) of elder_service — vanilla JavaScript, no build.
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
  var STATES = {
    accepted: '待出发', on_the_way: '已出发', in_service: '服务中',
    completed: '已完成', confirmed: '已确认', closed: '已关闭'
  };
  var ANOMALIES = {
    geofence: '超出地理围栏', no_reference: '老人住址无参考坐标',
    double_checkin: '重复签到', short_duration: '服务时长明显短于标准',
    overlap: '与其他工单服务时间重叠', travel: '两次服务之间移动速度异常',
    missing_evidence: '缺少服务凭证（照片或签名）', steps_missing: '必做服务步骤未完成'
  };
  var HTTP = {
    400: '提交的数据不完整或格式不对', 401: '登录已失效，请重新登录',
    403: '无权操作这张工单', 404: '没有找到这张工单',
    409: '工单当前状态不允许这个操作，请刷新后再试', 413: '照片太大，请重新拍摄',
    429: '尝试次数过多，请稍后再试'
  };

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
    box.textContent = isError ? '错误：' + text : text;
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
    show('login-view', '护理员登录');
    if (message) { say(message, true); }
  }

  function login(event) {
    event.preventDefault();
    var user = $('login').value.trim();
    var password = $('password').value;
    if (!user || !password) { say('请输入登录名和密码', true); return; }
    if (!$('extra').hidden) {
      var value = $('extra-input').value;
      if (!value) { say('请填写：' + $('extra-label').textContent, true); return; }
      loginParams[$('extra-input').name] = value;
    }
    loginParams.password = password;
    var button = $('login-submit');
    button.disabled = true;
    say('正在登录…');
    fetch(BASE + '/rpc/', {
      method: 'POST', credentials: 'omit',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({id: 1, method: 'common.db.login',
        params: [user, loginParams, 'zh_CN']})
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(response.status === 401 || response.status === 403 ?
          '登录名或密码错误' : (HTTP[response.status] || '服务器错误（' + response.status + '）'));
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
          $('login-submit').textContent = '继续';
          say('请按提示填写后继续：' + message, false);
          $('extra-input').focus();
          return;
        }
        throw new Error(String(data.error[1] && data.error[1][0] || data.error[0]));
      }
      session = {login: user, userId: data.result[0], token: data.result[1]};
      sessionStorage.setItem(KEY, JSON.stringify(session));
      $('password').value = '';
      $('extra').hidden = true;
      $('login-submit').textContent = '登录';
      loginParams = {};
      say('');
      loadTasks();
    }).catch(function (error) {
      say(error.message === 'Failed to fetch' ? '网络连接失败，请检查网络' : error.message, true);
    }).then(function () { button.disabled = false; });
  }

  function logout() {
    if (session) {
      fetch(BASE + '/rpc/', {method: 'POST', headers: headers(),
        body: JSON.stringify({id: 2, method: 'common.db.logout', params: []})}).catch(function () {});
    }
    showLogin('');
    say('已退出登录');
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
          showLogin(HTTP[401]);
          throw new Error(HTTP[401]);
        }
        if (!response.ok) {
          throw new Error((data && data.error) || HTTP[response.status] ||
            '服务器错误（' + response.status + '）');
        }
        return data;
      });
    });
  }

  /* --- tasks --- */

  function loadTasks() {
    show('tasks-view', '今日任务');
    return call('GET', 'tasks').then(function (data) {
      tasks = data.tasks;
      $('tasks-date').textContent = data.date + '，共 ' + tasks.length + ' 项任务';
      var list = $('tasks');
      list.textContent = '';
      if (!tasks.length) { list.appendChild(el('li', {text: '今天没有待服务的任务。'})); }
      tasks.forEach(function (task) {
        list.appendChild(el('li', {}, [el('button', {
          type: 'button', class: 'task', 'data-order': task.id,
          onclick: function () { openTask(task.id); }
        }, [
          el('strong', {text: (task.time_from ? task.time_from.slice(0, 5) + ' ' : '') + task.item}),
          el('span', {class: 'state state-' + task.state, text: STATES[task.state] || task.state}),
          el('span', {class: 'line', text: '老人：' + task.elder}),
          el('span', {class: 'line', text: '地址：' + (task.address || '—')})
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
      return el('p', {class: 'sub', text: '没有老人住址坐标，请按地址前往。'});
    }
    var lat = Number(task.latitude), lon = Number(task.longitude);
    return el('div', {class: 'nav'}, [
      el('a', {href: 'geo:' + lat + ',' + lon + '?q=' + lat + ',' + lon + '(' + encodeURIComponent(task.elder) + ')',
        'data-nav': 'geo', text: '手机地图导航'}),
      el('a', {href: 'https://uri.amap.com/marker?position=' + lon + ',' + lat +
        '&coordinate=wgs84&callnative=1&name=' + encodeURIComponent(task.elder + '家'),
        target: '_blank', rel: 'noopener noreferrer', 'data-nav': 'amap', text: '高德地图'})
    ]);
  }

  function fileInput(id, text) {
    var preview = el('img', {class: 'preview', alt: '已选照片预览', hidden: true});
    var input = el('input', {type: 'file', id: id, accept: 'image/*', capture: 'environment',
      onchange: function () {
        if (input.files[0]) {
          preview.src = URL.createObjectURL(input.files[0]);
          preview.hidden = false;
          label.firstChild.textContent = text + '（已选择，可重拍）';
        }
      }});
    var label = el('label', {class: 'file', for: id}, [text, input]);
    return el('div', {}, [label, preview]);
  }

  function renderTask() {
    var t = current;
    var view = $('task-view');
    view.textContent = '';
    show('task-view', '任务详情');
    view.appendChild(el('div', {class: 'card'}, [
      el('h2', {}, [t.item, el('span', {id: 'task-state', class: 'state state-' + t.state,
        text: STATES[t.state] || t.state})]),
      el('p', {text: '工单号：' + t.number}),
      el('p', {text: '时间：' + t.date + ' ' + (t.time_from ? t.time_from.slice(0, 5) : '') +
        (t.time_to ? '–' + t.time_to.slice(0, 5) : '')}),
      el('p', {text: '老人：' + t.elder}),
      el('p', {text: '地址：' + (t.address || '—')}),
      navLinks(t)
    ]));
    var flags = lastFlags[t.id];
    if (flags && flags.length) {
      view.appendChild(el('p', {class: 'flag', id: 'flags', role: 'status',
        text: '已标记待审核：' + flags.map(function (k) { return ANOMALIES[k] || k; }).join('、')}));
    } else if (t.flagged) {
      view.appendChild(el('p', {class: 'flag', id: 'flags', text: '已标记待审核：有异常待督导审核'}));
    }
    if (t.state === 'accepted') {
      view.appendChild(el('button', {type: 'button', class: 'action', id: 'depart',
        onclick: depart, text: '出发'}));
    }
    if (t.state === 'accepted' || t.state === 'on_the_way') {
      var box = el('div', {class: 'card'}, [el('h2', {text: '到达签到'}),
        el('p', {class: 'sub', text: '签到会记录您当前的定位' +
          (t.evidence.photo_before ? '，并需要一张服务前照片。' : '。')})]);
      if (t.evidence.photo_before) { box.appendChild(fileInput('photo-before', '拍服务前照片')); }
      box.appendChild(el('button', {type: 'button', class: 'action', id: 'checkin',
        onclick: checkin, text: '签到'}));
      view.appendChild(box);
    }
    if (t.state === 'in_service') {
      var steps = el('ul', {class: 'steps'});
      t.steps.forEach(function (s) {
        steps.appendChild(el('li', {}, [el('label', {}, [
          el('input', {type: 'checkbox', class: 'step', value: s.id, checked: s.done}),
          s.name + (s.required ? '（必做）' : '')])]));
      });
      var out = el('div', {class: 'card'}, [el('h2', {text: '服务步骤'}), steps]);
      view.appendChild(out);
      var ev = el('div', {class: 'card'}, [el('h2', {text: '签退'})]);
      if (t.evidence.photo_after) { ev.appendChild(fileInput('photo-after', '拍服务后照片')); }
      ev.appendChild(el('label', {for: 'signature', text: '请老人或家属在下方签名'}));
      var canvas = el('canvas', {id: 'signature', class: 'sig', 'aria-label': '签名区域'});
      ev.appendChild(canvas);
      ev.appendChild(el('div', {class: 'row'}, [el('button', {type: 'button', class: 'secondary',
        id: 'sig-clear', text: '重签', onclick: function () { clearSignature(canvas); }})]));
      ev.appendChild(el('button', {type: 'button', class: 'action', id: 'checkout',
        onclick: checkout, text: '签退'}));
      view.appendChild(ev);
      setupSignature(canvas);
    }
    if (t.state === 'completed' || t.state === 'confirmed' || t.state === 'closed') {
      view.appendChild(el('p', {class: 'done', id: 'done', role: 'status',
        text: '服务已完成' + (t.checkout_time ? '（签退 ' + String(t.checkout_time).slice(11, 16) + '）' : '') +
          '。感谢您的辛苦付出！'}));
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
      if (!navigator.geolocation) { reject(new Error('此浏览器不支持定位，无法签到')); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({latitude: p.coords.latitude.toFixed(6), longitude: p.coords.longitude.toFixed(6),
          accuracy: p.coords.accuracy, timestamp: new Date().toISOString()});
      }, function (e) {
        reject(new Error(e.code === 1 ? '无法获取定位：请在手机设置中允许本页面使用定位' :
          '无法获取定位：请到开阔处重试'));
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
    var flags = (data.anomalies || []).map(function (k) { return ANOMALIES[k] || k; });
    say(okText + (flags.length ? '。已标记待审核：' + flags.join('、') : ''), false);
  }

  function failed(id, text) {
    return function (error) { busy(id, false, text); say(error.message, true); };
  }

  function depart() {
    busy('depart', true, '正在提交…');
    call('POST', current.id + '/depart').then(function (data) { done(data, '已出发，请注意交通安全'); },
      failed('depart', '出发'));
  }

  function checkin() {
    busy('checkin', true, '正在定位…');
    var pos;
    position().then(function (p) { pos = p; return photo('photo-before'); }).then(function (data) {
      pos.photo = data;
      busy('checkin', true, '正在签到…');
      return call('POST', current.id + '/checkin', pos);
    }).then(function (data) { done(data, '签到成功，开始服务'); }, failed('checkin', '签到'));
  }

  function checkout() {
    var canvas = $('signature');
    // The elder's (or family's) signature confirms every visit, even when
    // the item does not list it as required evidence.
    if (!canvas.signed) {
      say('请先请老人或家属在签名区域签名', true);
      return;
    }
    var steps = Array.prototype.filter.call(document.querySelectorAll('input.step'),
      function (i) { return i.checked; }).map(function (i) { return Number(i.value); });
    busy('checkout', true, '正在定位…');
    var pos;
    position().then(function (p) { pos = p; return photo('photo-after'); }).then(function (data) {
      pos.photo = data;
      pos.steps = steps;
      if (canvas.signed) { pos.signature = canvas.toDataURL('image/png').split(',')[1]; }
      busy('checkout', true, '正在签退…');
      return call('POST', current.id + '/checkout', pos);
    }).then(function (data) { done(data, '签退成功，服务已完成'); }, failed('checkout', '签退'));
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
