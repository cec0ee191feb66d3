const { render, text, settle } = require('./helpers');

beforeEach(() => global.resetWx());

const ALARM = { id: 11, kind: 'sos', kind_name: 'SOS', state: 'open', state_name: '待处理',
  description: 'SOS pressed', first_occurrence: '2025-05-01T02:00:00+00:00', family_acknowledged: false };

test('home: elders, devices, alarms; acknowledge an alarm; subscribe', async () => {
  wx.setStorageSync('session', 'S1');
  global.server = (method, path) => {
    if (path === 'elders') return [200, { items: [{ id: 3 }], total: 1 }];
    if (path === 'elders/3') return [200, { elder: { id: 3, name: '巴特尔', age: 85, region: '新城区', devices: { total: 2, online: 1 }, open_alarms: 1 } }];
    if (path === 'elders/3/alarms?size=5') return [200, { items: [ALARM], total: 1 }];
    if (path === 'alarms/11/acknowledge') return [200, { alarm: { ...ALARM, family_acknowledged: true } }];
    return [404, {}];
  };
  const page = render('pages/home/home');
  await page.instance.onShow();
  await settle();
  expect(text(page, '.elder')).toContain('巴特尔（85岁）');
  expect(text(page, '.elder')).toContain('设备在线：1 / 2');
  expect(text(page, '.warn')).toBe('未处理告警：1 条');
  const card = page.querySelector('.alarm-item');
  expect(text(card, '.kind')).toBe('⚠ SOS');
  expect(text(card, '.alarm-card')).toContain('2025-05-01 10:00'); // China time
  card.querySelector('.ack').dispatchEvent('tap');
  await settle();
  expect(wx.requests.map((r) => r.path)).toContain('alarms/11/acknowledge');
  expect(text(page.querySelector('.alarm-item'), '.done')).toBe('您已确认收到');

  await page.instance.subscribe();
  expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toContain('TPL-ALARM-001');
});

test('home: an expired session goes back to the login', async () => {
  wx.setStorageSync('session', 'OLD');
  global.server = () => [401, { error: '请重新登录。', code: 'unauthenticated' }];
  const page = render('pages/home/home');
  await page.instance.onShow();
  await settle();
  expect(text(page, '.error')).toBe('请重新登录。');
  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/login' });
  expect(wx.getStorageSync('session')).toBe('');
});
