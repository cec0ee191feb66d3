const { render, text, settle } = require('./helpers');

beforeEach(() => global.resetWx());

test('bills: pay with wx.requestPayment, then shown paid', async () => {
  let paid = false;
  const params = { appId: 'wx5e1d2c3b4a596870', timeStamp: '1700000000', nonceStr: 'n',
    package: 'prepay_id=wx123', signType: 'RSA', paySign: 'sig' };
  global.server = (method, path) => {
    if (path === 'bills') {
      return [200, { items: [{ id: 4, item: '助洁服务', elder: { name: '巴特尔' }, service_date: '2030-01-02',
        amount: '50.00', subsidy_amount: '0.00', self_pay_amount: '50.00', paid }], total: 1 }];
    }
    if (path === 'bills/4/pay') return [200, { payment: { id: 8, state: 'paying' }, pay_params: params }];
    if (path === 'payments/8') { paid = true; return [200, { payment: { id: 8, state: 'paid' } }]; }
    return [404, {}];
  };
  const page = render('pages/bills/bills');
  await page.instance.onShow();
  await settle();
  expect(text(page, '.due')).toBe('个人自付：50.00 元');
  await page.instance.pay({ currentTarget: { dataset: { id: 4 } } });
  await settle();
  expect(wx.requests.find((r) => r.path === 'bills/4/pay').body).toEqual({ appid: 'wx5e1d2c3b4a596870' });
  const call = wx.requestPayment.mock.calls[0][0];
  expect(call).toMatchObject(params);
  expect(text(page, '.paid')).toBe('已支付');
});

test('bills: a cancelled payment is said in words', async () => {
  wx.requestPayment.mockImplementationOnce((options) => options.fail({ errMsg: 'requestPayment:fail cancel' }));
  global.server = (method, path) => {
    if (path === 'bills') return [200, { items: [], total: 0 }];
    if (path === 'bills/4/pay') return [200, { payment: { id: 8 }, pay_params: {} }];
    return [404, {}];
  };
  const page = render('pages/bills/bills');
  await page.instance.pay({ currentTarget: { dataset: { id: 4 } } });
  await settle();
  expect(text(page, '.error')).toBe('您已取消支付。');
});
