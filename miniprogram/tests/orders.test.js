const { render, text, settle } = require('./helpers');

beforeEach(() => global.resetWx());

test('book: one idempotency key per page, the order confirmed in words', async () => {
  global.server = (method, path, body) => {
    if (path === 'elders/3/items') return [200, { items: [{ id: 5, name: '助洁服务', price: '50.00', unit_name: '次' }] }];
    if (path === 'orders') return [201, { order: { id: 9, number: 'SO0009', state_name: '已派单', ...body } }];
    return [404, {}];
  };
  const page = render('pages/book/book');
  await page.instance.onLoad({ elder: '3' });
  await settle();
  expect(text(page, '.item')).toContain('助洁服务（50.00 元/次）');
  await page.instance.submit();
  expect(text(page, '.error')).toBe('请选择服务项目、日期和上门时间。');
  page.instance.pickItem({ detail: { value: '5' } });
  page.instance.pickDate({ detail: { value: '2030-01-02' } });
  page.instance.pickTime({ detail: { value: '09:00' } });
  await page.instance.submit();
  await page.instance.submit();
  const posts = wx.requests.filter((r) => r.path === 'orders');
  expect(posts).toHaveLength(2);
  expect(posts[0].body.request_key).toBe(posts[1].body.request_key);
  expect(posts[0].body).toMatchObject({ elder: 3, item: 5, date: '2030-01-02', time_from: '09:00' });
  expect(text(page, '.done')).toContain('SO0009');
});

test('orders: rate a completed visit with the stars and confirm', async () => {
  const order = { id: 9, item: { name: '助洁服务' }, elder: { name: '巴特尔' }, date: '2030-01-02',
    time_from: '09:00', state: 'completed', state_name: '已完成', can_confirm: true, can_cancel: false };
  global.server = (method, path, body) => {
    if (path.startsWith('orders?')) return [200, { items: [order], total: 1 }];
    if (path === 'orders/9/confirm') return [200, { order: { ...order, state: 'confirmed', state_name: '已确认', can_confirm: false, rating: body.rating } }];
    return [404, {}];
  };
  const page = render('pages/orders/orders');
  await page.instance.onShow();
  await settle();
  // No rating yet: said in words, nothing sent
  page.querySelector('.confirm').dispatchEvent('tap');
  await settle();
  expect(text(page, '.error')).toBe('请先选择评分（1 到 5 分）。');
  const rating = page.querySelector('.rate');
  rating.querySelectorAll('.star')[4].dispatchEvent('tap');
  await settle();
  page.querySelector('.confirm').dispatchEvent('tap');
  await settle();
  const confirm = wx.requests.find((r) => r.path === 'orders/9/confirm');
  expect(confirm.body).toEqual({ rating: 5 });
  expect(text(page, '.order')).toContain('评分：5 分');
  expect(text(page, '.state')).toBe('状态：已确认');
});
