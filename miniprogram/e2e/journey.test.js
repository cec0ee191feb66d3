// A family member in the mini program, against the platform and the WeChat
// stand-in: log in, bind with the SMS code and consent, subscribe, book,
// receive the SOS alarm, acknowledge it, rate the service, pay the bill.
const { render, text, settle } = require('../tests/helpers');

async function until(check, what) {
  for (let i = 0; i < 100; i += 1) {
    // eslint-disable-next-line no-await-in-loop
    if (await check()) return;
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out: ' + what);
}

test('bind, book, alarm, rate and pay from the mini program', async () => {
  const login = render('pages/login/login');
  await login.instance.login();
  expect(text(login, '.error')).toBeNull();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/bind/bind' });

  const bind = render('pages/bind/bind');
  for (const [name, value] of Object.entries({ id_number: process.env.WECHAT_E2E_ID_NUMBER,
    elder_name: process.env.WECHAT_E2E_ELDER_NAME, name: '李娜', phone: '13611112222' })) {
    bind.instance.input({ currentTarget: { dataset: { name } }, detail: { value } });
  }
  bind.instance.pickRelationship({ detail: { value: '0' } });
  await bind.instance.submit();
  expect(text(bind, '.error')).toBeNull();
  const { code } = await control('code');
  bind.instance.inputCode({ detail: { value: code } });
  bind.instance.consent({ detail: { value: ['yes'] } });
  await bind.instance.verify();
  await settle();
  expect(text(bind, '.done')).toBe(`已成功绑定 ${process.env.WECHAT_E2E_ELDER_NAME}。`);

  const home = render('pages/home/home');
  await home.instance.onShow();
  await settle();
  expect(text(home, '.elder')).toContain(process.env.WECHAT_E2E_ELDER_NAME);
  await home.instance.subscribe();
  const elder = Number(process.env.WECHAT_E2E_ELDER);

  const book = render('pages/book/book');
  await book.instance.onLoad({ elder: String(elder) });
  await settle();
  book.instance.pickItem({ detail: { value: String(book.data.items[0].id) } });
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  book.instance.pickDate({ detail: { value: tomorrow } });
  book.instance.pickTime({ detail: { value: '10:00' } });
  await book.instance.submit();
  await settle();
  expect(text(book, '.done')).toContain('预约成功');
  const order = book.data.order.id;

  // The visit happens and the watch's SOS button is pressed
  await control('visit', { order });
  const messages = await standinMessages();
  const alarm = messages.find((m) => m.touser === process.env.WECHAT_E2E_OPENID
    && m.template_id === 'TPL-ALARM-001');
  expect(alarm).toBeTruthy();
  expect(alarm.kind).toBe('subscribe');
  expect(alarm.data.thing1.value).toBe(process.env.WECHAT_E2E_ELDER_NAME);

  await home.instance.onShow();
  await settle();
  const card = home.querySelector('.alarm-item');
  expect(text(card, '.kind')).toContain('紧急呼叫');
  card.querySelector('.ack').dispatchEvent('tap');
  await until(async () => { await settle(); return text(home.querySelector('.alarm-item'), '.done'); }, 'ack');
  expect(text(home.querySelector('.alarm-item'), '.done')).toBe('您已确认收到');

  const orders = render('pages/orders/orders');
  await orders.instance.onShow();
  await settle();
  orders.querySelector('.rate').querySelectorAll('.star')[4].dispatchEvent('tap');
  await settle();
  orders.querySelector('.confirm').dispatchEvent('tap');
  await until(async () => { await settle(); return /已确认/.test(text(orders, '.state') || ''); }, 'confirm');
  expect(text(orders, '.order')).toContain('评分：5 分');

  await control('settle');
  const bills = render('pages/bills/bills');
  await bills.instance.onShow();
  await settle();
  expect(text(bills, '.due')).toMatch(/个人自付：\d+\.\d\d 元/);
  await bills.instance.pay({ currentTarget: { dataset: { id: bills.data.bills[0].id } } });
  await settle();
  expect(text(bills, '.error')).toBeNull();
  expect(text(bills, '.paid')).toBe('已支付');
});
