// H5 family page of the official account (公众号菜单「家属服务」).
// Same core screens as the mini program: login (official-account web
// authorisation), bind an older person, home (status, alarms), book,
// orders and rating, bills and pay (WeixinJSBridge), profile.
(function () {
  'use strict';
  var DB = location.pathname.split('/')[1];
  var API = '/' + DB + '/wechat/v1/';
  var params = new URLSearchParams(location.search);
  var APPID = params.get('appid') || localStorage.getItem('appid') || '';
  var main = document.getElementById('main');
  var RELATIONSHIPS = [['son', '儿子'], ['daughter', '女儿'], ['spouse', '配偶'],
    ['daughter_in_law', '儿媳'], ['son_in_law', '女婿'], ['grandchild', '孙辈'],
    ['sibling', '兄弟姐妹'], ['relative', '其他亲属'], ['neighbour', '邻居'],
    ['friend', '朋友'], ['other', '其他']];
  var LABELS = ['很不满意', '不满意', '一般', '满意', '非常满意'];

  function esc(value) {
    return String(value === null || value === undefined ? '' : value)
      .replace(/[&<>"']/g, function (c) {
        return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
      });
  }
  function session() { return localStorage.getItem('session'); }

  function call(method, path, body) {
    var headers = {'Accept-Language': 'zh-CN', 'Content-Type': 'application/json'};
    if (session()) headers.Authorization = 'Bearer ' + session();
    return fetch(API + path, {method: method, headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            if (response.status === 401 && path.indexOf('login') !== 0) {
              localStorage.removeItem('session');
            }
            var error = new Error(data.error || '服务暂时不可用，请稍后再试。');
            error.status = response.status;
            error.code = data.code;
            throw error;
          }
          return data;
        });
      }, function () { throw new Error('网络连接失败，请检查网络后重试。'); });
  }

  function show(html) { main.innerHTML = html; }
  function say(id, text, ok) {
    var node = document.getElementById(id);
    node.className = ok ? 'ok' : 'error';
    node.textContent = text;
  }
  function chinaTime(iso) {
    if (!iso) return '';
    var d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    function pad(n) { return String(n).padStart(2, '0'); }
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate())
      + ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  }

  // --- login ---------------------------------------------------------------
  function login() {
    var code = params.get('code');
    if (code) {
      return call('POST', 'login/oauth', {appid: APPID, code: code}).then(function (data) {
        localStorage.setItem('session', data.session);
        history.replaceState(null, '', location.pathname + '?appid=' + encodeURIComponent(APPID)
          + (data.bound ? '#home' : '#bind'));
        params = new URLSearchParams(location.search);
        return route();
      }, function (error) {
        show('<h2>登录</h2><p class="error" id="msg">' + esc(error.message) + '</p>'
          + '<button id="retry">重新登录</button>');
        document.getElementById('retry').onclick = authorize;
      });
    }
    return authorize();
  }
  function authorize() {
    var back = location.origin + location.pathname + '?appid=' + encodeURIComponent(APPID);
    return call('GET', 'oauth/url?appid=' + encodeURIComponent(APPID) + '&redirect='
        + encodeURIComponent(back)).then(function (data) {
      location.href = data.url;
    }, function (error) {
      show('<h2>登录</h2><p class="error">' + esc(error.message) + '</p>');
    });
  }

  // --- screens ---------------------------------------------------------------
  var screens = {};

  screens.home = function () {
    return call('GET', 'elders').then(function (data) {
      if (!data.items.length) {
        show('<h2>我的老人</h2><p class="hint">您还没有绑定老人。</p>'
          + '<button onclick="location.hash=\'#bind\'">绑定老人</button>');
        return;
      }
      return Promise.all(data.items.map(function (e) {
        return Promise.all([call('GET', 'elders/' + e.id), call('GET', 'elders/' + e.id + '/alarms?size=5')]);
      })).then(function (all) {
        var html = '<h2>我的老人</h2>';
        var alarms = [];
        all.forEach(function (pair) {
          var e = pair[0].elder;
          alarms = alarms.concat(pair[1].items);
          html += '<div class="card elder"><div class="name">' + esc(e.name) + '（' + esc(e.age) + '岁）</div>'
            + '<p>所在地区：' + esc(e.region) + '<br>设备在线：' + e.devices.online + ' / ' + e.devices.total
            + '<br><span class="' + (e.open_alarms ? 'warn' : '') + '">未处理告警：' + e.open_alarms + ' 条</span></p>'
            + '<button class="book" data-elder="' + e.id + '">预约服务</button></div>';
        });
        html += '<h2>最近告警</h2>';
        if (!alarms.length) html += '<p class="hint">最近没有告警。</p>';
        alarms.forEach(function (a) {
          html += '<div class="card alarm"><div class="name warn">⚠ ' + esc(a.kind_name) + '</div>'
            + '<p>时间：' + chinaTime(a.first_occurrence) + '<br>状态：' + esc(a.state_name) + '</p>'
            + (a.family_acknowledged ? '<p class="ok">您已确认收到</p>'
              : '<button class="danger ack" data-alarm="' + a.id + '">我已知晓</button>') + '</div>';
        });
        html += '<p class="error" id="msg"></p>';
        show(html);
        main.querySelectorAll('.book').forEach(function (b) {
          b.onclick = function () { location.hash = '#book/' + b.dataset.elder; };
        });
        main.querySelectorAll('.ack').forEach(function (b) {
          b.onclick = function () {
            call('POST', 'alarms/' + b.dataset.alarm + '/acknowledge', {}).then(screens.home,
              function (error) { say('msg', error.message); });
          };
        });
      });
    });
  };

  screens.bind = function () {
    show('<h2>绑定老人</h2><form id="form" novalidate>'
      + '<label for="id_number">老人身份证号码</label><input id="id_number" maxlength="18" autocomplete="off">'
      + '<label for="elder_name">老人姓名</label><input id="elder_name">'
      + '<label for="name">您的姓名</label><input id="name">'
      + '<label for="relationship">您与老人的关系</label><select id="relationship"><option value="">请选择</option>'
      + RELATIONSHIPS.map(function (r) { return '<option value="' + r[0] + '">' + r[1] + '</option>'; }).join('')
      + '</select><label for="phone">您的手机号码</label><input id="phone" inputmode="numeric" maxlength="11">'
      + '<label class="check"><input type="radio" name="method" value="sms" checked>短信验证码发到老人登记的手机</label>'
      + '<label class="check"><input type="radio" name="method" value="staff">由社区或 12349 热线电话核实</label>'
      + '<button type="submit" id="submit">提交绑定申请</button><p class="error" id="msg"></p></form>');
    document.getElementById('form').onsubmit = function (event) {
      event.preventDefault();
      var body = {};
      var labels = {id_number: '老人身份证号码', elder_name: '老人姓名', name: '您的姓名',
        relationship: '您与老人的关系', phone: '您的手机号码'};
      var missing = [];
      Object.keys(labels).forEach(function (k) {
        body[k] = document.getElementById(k).value.trim();
        if (!body[k]) missing.push(labels[k]);
      });
      if (missing.length) { say('msg', '请填写：' + missing.join('、')); return; }
      body.method = main.querySelector('input[name=method]:checked').value;
      call('POST', 'bindings', body).then(function (data) { verify(data.binding); },
        function (error) { say('msg', error.message); });
    };
  };

  function verify(binding) {
    if (binding.method !== 'sms') {
      show('<h2>绑定老人</h2><p class="ok">申请已提交。社区工作人员或 12349 热线会电话联系老人核实，核实后即可使用。</p>');
      return;
    }
    show('<h2>输入验证码</h2><p>验证码已发送到 ' + esc(binding.code_sent_to)
      + '，请向老人（或监护人）说明用途并征得同意后，请其告知验证码。</p>'
      + '<form id="form" novalidate><label for="code">验证码</label><input id="code" inputmode="numeric" maxlength="6">'
      + '<label class="check"><input type="checkbox" id="consent">老人（或监护人）已同意向我共享其养老服务信息</label>'
      + '<button type="submit" id="verify">确认绑定</button><p class="error" id="msg"></p></form>');
    document.getElementById('form').onsubmit = function (event) {
      event.preventDefault();
      var code = document.getElementById('code').value.trim();
      if (!/^\d{6}$/.test(code)) { say('msg', '请输入 6 位数字验证码。'); return; }
      if (!document.getElementById('consent').checked) {
        say('msg', '请先征得老人（或监护人）同意，并勾选同意。'); return;
      }
      call('POST', 'bindings/' + binding.id + '/verify', {code: code, consent: true}).then(function (data) {
        show('<h2>绑定成功</h2><p class="ok" id="msg">已成功绑定 ' + esc(data.binding.elder.name) + '。</p>'
          + '<button onclick="location.hash=\'#home\'">进入首页</button>');
      }, function (error) { say('msg', error.message); });
    };
  }

  screens.book = function (elder) {
    var key = 'h5-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
    return call('GET', 'elders/' + elder + '/items').then(function (data) {
      var tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
      show('<h2>预约服务</h2><form id="form" novalidate><label for="item">服务项目</label><select id="item">'
        + '<option value="">请选择</option>'
        + data.items.map(function (i) {
          return '<option value="' + i.id + '">' + esc(i.name) + '（' + esc(i.price) + ' 元/' + esc(i.unit_name) + '）</option>';
        }).join('') + '</select>'
        + '<label for="date">服务日期</label><input type="date" id="date" min="' + tomorrow + '" value="' + tomorrow + '">'
        + '<label for="time">上门时间</label><input type="time" id="time" value="09:00">'
        + '<label for="note">备注（选填）</label><input id="note" maxlength="200">'
        + '<button type="submit" id="submit">提交预约</button><p class="error" id="msg"></p></form>');
      document.getElementById('form').onsubmit = function (event) {
        event.preventDefault();
        var item = document.getElementById('item').value;
        var date = document.getElementById('date').value;
        var time = document.getElementById('time').value;
        if (!item || !date || !time) { say('msg', '请选择服务项目、日期和上门时间。'); return; }
        call('POST', 'orders', {elder: Number(elder), item: Number(item), date: date, time_from: time,
          note: document.getElementById('note').value || undefined, request_key: key}).then(function (d) {
          say('msg', '预约成功，订单号 ' + d.order.number + '，状态：' + d.order.state_name + '。', true);
        }, function (error) { say('msg', error.message); });
      };
    });
  };

  screens.orders = function () {
    return call('GET', 'orders?size=20').then(function (data) {
      var html = '<h2>服务订单</h2><p class="error" id="msg"></p>';
      if (!data.items.length) html += '<p class="hint">还没有订单。</p>';
      data.items.forEach(function (o) {
        html += '<div class="card order" data-order="' + o.id + '"><div class="name">' + esc(o.item.name) + '</div><p>老人：'
          + esc(o.elder.name) + '<br>日期：' + esc(o.date) + ' ' + esc(o.time_from || '') + '<br><b class="state">状态：'
          + esc(o.state_name) + '</b>' + (o.practitioner ? '<br>护理员：' + esc(o.practitioner) : '')
          + (o.rating ? '<br>评分：' + o.rating + ' 分' : '') + '</p>';
        if (o.can_confirm) {
          html += '<p>请为本次服务评分：</p><div class="stars" role="radiogroup" aria-label="评分">'
            + LABELS.map(function (label, i) {
              return '<button type="button" class="star" aria-pressed="false" data-value="' + (i + 1) + '">'
                + '<span class="marks" aria-hidden="true">' + '★'.repeat(i + 1) + '</span> '
                + label + '（' + (i + 1) + '分）</button>';
            }).join('') + '</div><p class="said"></p><label for="comment' + o.id + '">评价（选填）</label>'
            + '<input id="comment' + o.id + '" class="comment" maxlength="200"><button class="confirm">确认服务完成</button>';
        }
        if (o.can_cancel) html += '<button class="danger cancel">取消预约</button>';
        html += '</div>';
      });
      show(html);
      main.querySelectorAll('.order').forEach(function (card) {
        var id = card.dataset.order;
        var rating = 0;
        card.querySelectorAll('.star').forEach(function (star) {
          star.onclick = function () {
            rating = Number(star.dataset.value);
            card.querySelectorAll('.star').forEach(function (s) {
              s.setAttribute('aria-pressed', String(Number(s.dataset.value) === rating));
            });
            card.querySelector('.said').textContent = '已选择：' + rating + ' 分（' + LABELS[rating - 1] + '）';
          };
        });
        var confirm = card.querySelector('.confirm');
        if (confirm) {
          confirm.onclick = function () {
            if (!rating) { say('msg', '请先选择评分（1 到 5 分）。'); return; }
            call('POST', 'orders/' + id + '/confirm', {rating: rating,
              comment: card.querySelector('.comment').value || undefined}).then(screens.orders,
              function (error) { say('msg', error.message); });
          };
        }
        var cancel = card.querySelector('.cancel');
        if (cancel) {
          cancel.onclick = function () {
            call('POST', 'orders/' + id + '/cancel', {reason: '家属取消'}).then(screens.orders,
              function (error) { say('msg', error.message); });
          };
        }
      });
    });
  };

  screens.bills = function () {
    return call('GET', 'bills').then(function (data) {
      var html = '<h2>账单</h2><p class="error" id="msg"></p>';
      if (!data.items.length) html += '<p class="hint">没有需要支付的账单。</p>';
      data.items.forEach(function (b) {
        html += '<div class="card bill"><div class="name">' + esc(b.item) + '</div><p>老人：' + esc(b.elder.name)
          + '　日期：' + esc(b.service_date) + '<br>服务金额：' + esc(b.amount) + ' 元　补贴：' + esc(b.subsidy_amount)
          + ' 元<br><b>个人自付：' + esc(b.self_pay_amount) + ' 元</b></p>'
          + (b.paid ? '<p class="ok paid">已支付</p>'
            : '<button class="pay" data-bill="' + b.id + '">微信支付 ' + esc(b.self_pay_amount) + ' 元</button>')
          + '</div>';
      });
      show(html);
      main.querySelectorAll('.pay').forEach(function (button) {
        button.onclick = function () { pay(button.dataset.bill); };
      });
    });
  };

  function pay(bill) {
    call('POST', 'bills/' + bill + '/pay', {appid: APPID}).then(function (data) {
      if (!window.WeixinJSBridge) { say('msg', '请在微信中打开本页面后支付。'); return; }
      window.WeixinJSBridge.invoke('getBrandWCPayRequest', data.pay_params, function (res) {
        if (res.err_msg !== 'get_brand_wcpay_request:ok') {
          say('msg', /cancel/.test(res.err_msg) ? '您已取消支付。' : '支付未完成，请重试。');
          return;
        }
        waitPaid(data.payment.id, 20);
      });
    }, function (error) { say('msg', error.message); });
  }
  function waitPaid(payment, tries) {
    call('GET', 'payments/' + payment).then(function (data) {
      if (data.payment.state === 'paid' || tries <= 0) {
        screens.bills().then(function () {
          if (data.payment.state !== 'paid') say('msg', '支付结果确认中，请稍后刷新。');
        });
        return;
      }
      setTimeout(function () { waitPaid(payment, tries - 1); }, 500);
    });
  }

  screens.profile = function () {
    return Promise.all([call('GET', 'me'), call('GET', 'bindings')]).then(function (r) {
      var html = '<h2>我的</h2><p class="name">' + esc(r[0].name) + '</p><h2>已绑定的老人</h2>';
      r[1].items.forEach(function (b) {
        html += '<div class="card"><p>' + esc(b.elder.name) + '（' + esc(b.relationship_name) + '）<br>状态：'
          + esc(b.state_name) + '</p>' + (b.state === 'active' || b.state === 'pending'
            ? '<button class="danger unbind" data-binding="' + b.id + '">解除绑定</button>' : '') + '</div>';
      });
      html += '<button class="plain" onclick="location.hash=\'#bind\'">绑定其他老人</button>'
        + '<p class="error" id="msg"></p><p class="hint">客服热线：12349</p>';
      show(html);
      main.querySelectorAll('.unbind').forEach(function (b) {
        b.onclick = function () {
          call('DELETE', 'bindings/' + b.dataset.binding).then(screens.profile,
            function (error) { say('msg', error.message); });
        };
      });
    });
  };

  function route() {
    if (!session()) return login();
    document.getElementById('nav').hidden = false;
    var hash = (location.hash || '#home').slice(1).split('/');
    var name = screens[hash[0]] ? hash[0] : 'home';
    document.querySelectorAll('nav a').forEach(function (a) {
      a.className = a.getAttribute('href') === '#' + name ? 'active' : '';
    });
    return Promise.resolve(screens[name](hash[1])).catch(function (error) {
      if (error.status === 401) return login();
      show('<p class="error">' + esc(error.message) + '</p>');
    });
  }

  if (APPID) localStorage.setItem('appid', APPID);
  if (params.get('code')) localStorage.removeItem('session');
  window.addEventListener('hashchange', route);
  route();
}());
