const { render, text, settle } = require('./helpers');

beforeEach(() => global.resetWx());

// The meal API lives next to the WeChat API: …/db/meal/family/v1/
const MEAL = 'https://platform.test/db/meal/family/v1/';

const POINT = {
  code: 'XC01', name: '新城区长者食堂', address: '新华大街88号', distance_m: 279,
  delivery: true, order_cutoff_hours: 2, hours: [],
};
const OFFER = {
  id: 21, meal_period: 'lunch', dish: '清蒸鱼套餐', price: '15.00', subsidy: '8.00',
  self_pay: '7.00', basis: 'full', tags: [{ code: 'low_salt', name: '低盐' }, { code: 'soft', name: '软烂' }],
};
const ORDER = {
  id: 9, number: 'XC01-20300102-00009', state: 'ordered', state_name: '已预订', date: '2030-01-02',
  meal_period: 'lunch', meal_period_name: '午餐', service_mode: 'pickup', service_mode_name: '自取',
  dish: '清蒸鱼套餐', point: { code: 'XC01', name: '新城区长者食堂' }, price: '15.00',
  subsidy: '8.00', self_pay: '7.00', estimated: true, can_cancel: true,
};

/** A stateful stand-in of the meal API; fails the first order with a 503. */
function mealServer() {
  const state = { ordered: false, cancelled: false, posts: 0 };
  global.server = (method, url, body, header) => {
    if (!url.startsWith(MEAL)) return [404, {}];
    const path = url.slice(MEAL.length);
    if (path === 'elders/3/points') return [200, { elder: { id: 3, name: '巴特尔' }, points: [POINT] }];
    if (path === 'elders/3/menus?point=XC01&days=7') {
      const order = state.ordered && !state.cancelled
        ? { id: 9, number: ORDER.number, point: 'XC01', dish: OFFER.dish } : null;
      return [200, {
        point: POINT,
        subsidy: { per_meal: '8.00', daily_cap: '12.00', monthly_cap: '30.00' },
        days: [{ date: '2030-01-02', weekday: 2, periods: [{
          meal_period: 'lunch', meal_period_name: '午餐', deadline: '2030-01-02 09:00',
          orderable: !order, order, offers: [OFFER],
        }] }],
      }];
    }
    if (path === 'orders?elder=3') {
      if (!state.ordered) return [200, { orders: [] }];
      return [200, { orders: [state.cancelled
        ? { ...ORDER, state: 'cancelled', state_name: '已取消', can_cancel: false } : ORDER] }];
    }
    if (method === 'POST' && path === 'orders') {
      state.posts += 1;
      if (state.posts === 1) return [503, { error: '服务暂时不可用，请稍后再试。', code: 'unavailable' }];
      state.ordered = true;
      expect(header['Idempotency-Key']).toBe(body.request_key);
      return [201, { order: ORDER, replayed: false }];
    }
    if (method === 'POST' && path === 'orders/9/cancel') {
      state.cancelled = true;
      return [200, { order: { ...ORDER, state: 'cancelled', state_name: '已取消', can_cancel: false } }];
    }
    return [404, { error: '未找到', code: 'not_found' }];
  };
  return state;
}

test('meal: menus with the subsidised price, one key per meal, cancel', async () => {
  wx.setStorageSync('session', 'S1');
  mealServer();
  const page = render('pages/meal/meal');
  await page.instance.onLoad({ elder: '3' });
  await settle();
  expect(text(page, '.elder-name')).toBe('为 巴特尔 订餐');
  expect(text(page, '.point-name')).toBe('新城区长者食堂');
  expect(text(page, '.point-info')).toBe('新华大街88号，距家约 279 米');
  expect(text(page, '.subsidy')).toContain('每餐最多 ¥8.00，每天最多 ¥12.00，每月最多 ¥30.00');
  expect(text(page, '.day-label')).toBe('1月2日 周三');
  expect(text(page, '.period-name')).toBe('午餐');
  expect(text(page, '.offer .prices')).toBe('原价 ¥15.00 补贴 ¥8.00');
  expect(text(page, '.offer .self-pay')).toBe('自付 ¥7.00');
  expect(text(page, '.offer .hint')).toBe('低盐、软烂');
  expect(page.querySelectorAll('.mode')).toHaveLength(3); // the point delivers
  const first = wx.requests.find((r) => r.path.endsWith('points'));
  expect(first.header.Authorization).toBe('Bearer S1');

  // "再想想": nothing is sent
  wx.showModal.mockImplementationOnce((options) => options.success({ confirm: false }));
  page.querySelector('.order').dispatchEvent('tap');
  await settle();
  expect(wx.requests.filter((r) => r.method === 'POST')).toHaveLength(0);

  page.instance.pickMode({ detail: { value: 'pickup' } });
  page.querySelector('.order').dispatchEvent('tap');
  await settle();
  expect(wx.showModal.mock.calls.at(-1)[0].content).toBe(
    '为巴特尔预订1月2日 周三午餐：清蒸鱼套餐（自取），原价 ¥15.00，补贴 ¥8.00，预计自付 ¥7.00。');
  expect(text(page, '.error')).toBe('✘ 服务暂时不可用，请稍后再试。');
  // the retry of the same meal sends the same key: one order on the server
  page.querySelector('.order').dispatchEvent('tap');
  await settle();
  const posts = wx.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/orders'));
  expect(posts).toHaveLength(2);
  expect(posts[0].header['Idempotency-Key']).toMatch(/^meal-[a-z0-9-]{8,}$/);
  expect(posts[1].header['Idempotency-Key']).toBe(posts[0].header['Idempotency-Key']);
  expect(posts[0].body).toEqual({
    elder: 3, point: 'XC01', date: '2030-01-02', meal_period: 'lunch', offer: 21,
    service_mode: 'pickup', count: 1, request_key: posts[0].header['Idempotency-Key'],
  });
  expect(text(page, '.done')).toBe(
    '✔ 订餐成功：2030-01-02 午餐 清蒸鱼套餐，自取，预计自付 ¥7.00，订单号 XC01-20300102-00009。');
  expect(text(page, '.ordered')).toBe('✔ 已订：清蒸鱼套餐（订单号 XC01-20300102-00009）');
  expect(page.querySelector('.order')).toBeFalsy();
  expect(text(page, '.meal-order .state')).toBe('状态：已预订');
  expect(text(page, '.meal-order')).toContain('预计自付 ¥7.00');

  // a new meal gets a new key
  page.instance.keys = {};
  page.querySelector('.cancel').dispatchEvent('tap');
  await settle();
  const cancel = wx.requests.find((r) => r.path.endsWith('orders/9/cancel'));
  expect(cancel.body).toEqual({ reason: '家属在小程序取消' });
  expect(text(page, '.done')).toBe('✔ 已取消订单 XC01-20300102-00009。');
  expect(text(page, '.meal-order .state')).toBe('状态：已取消');
  expect(page.querySelector('.cancel')).toBeFalsy();
  expect(page.querySelector('.order')).toBeTruthy();
});

test('meal: a refused order is said in words; no point nearby', async () => {
  wx.setStorageSync('session', 'S1');
  mealServer();
  const serve = global.server;
  global.server = (method, url, body, header) => {
    if (method === 'POST') {
      return [422, { error: '已过订餐截止时间（2030-01-02 09:00），无法预订这一餐。', code: 'too_late' }];
    }
    return serve(method, url, body, header);
  };
  const page = render('pages/meal/meal');
  await page.instance.onLoad({ elder: '3' });
  await settle();
  page.querySelector('.order').dispatchEvent('tap');
  await settle();
  expect(text(page, '.error')).toBe('✘ 已过订餐截止时间（2030-01-02 09:00），无法预订这一餐。');
  expect(page.querySelector('.done')).toBeFalsy();

  global.server = (method, url) => {
    if (url === MEAL + 'elders/4/points') return [200, { elder: { id: 4, name: '乌兰' }, points: [] }];
    if (url === MEAL + 'orders?elder=4') return [200, { orders: [] }];
    return [404, {}];
  };
  const empty = render('pages/meal/meal');
  await empty.instance.onLoad({ elder: '4' });
  await settle();
  expect(text(empty, '.no-points')).toBe('附近暂无可以订餐的助餐点，请致电 12349 咨询。');
  expect(text(empty, '.meal-order')).toBeNull();
});

test('meal: someone else\'s older person, an expired session', async () => {
  global.server = () => [403, { error: '您不是这位老人登记的家属。', code: 'not_your_elder' }];
  wx.setStorageSync('session', 'S1');
  const page = render('pages/meal/meal');
  await page.instance.onLoad({ elder: '5' });
  await settle();
  expect(text(page, '.error')).toBe('✘ 您不是这位老人登记的家属。');
  expect(wx.reLaunch).not.toHaveBeenCalled();

  global.server = () => [401, { error: '请重新登录。', code: 'unauthenticated' }];
  const again = render('pages/meal/meal');
  await again.instance.onLoad({ elder: '3' });
  await settle();
  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/login' });
  expect(wx.getStorageSync('session')).toBe('');
});

test('home: 助餐订餐 opens the meal page of the older person', async () => {
  wx.setStorageSync('session', 'S1');
  global.server = (method, path) => {
    if (path === 'elders') return [200, { items: [{ id: 3 }], total: 1 }];
    if (path === 'elders/3') return [200, { elder: { id: 3, name: '巴特尔', age: 85, region: '新城区', devices: { total: 0, online: 0 }, open_alarms: 0 } }];
    if (path === 'elders/3/alarms?size=5') return [200, { items: [], total: 0 }];
    return [404, {}];
  };
  const page = render('pages/home/home');
  await page.instance.onShow();
  await settle();
  const button = page.querySelector('.meal');
  expect(button.dom.textContent.trim()).toBe('助餐订餐');
  button.dispatchEvent('tap');
  await settle();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/meal/meal?elder=3' });
});
