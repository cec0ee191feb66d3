const { render, text, settle } = require('./helpers');

beforeEach(() => global.resetWx());

function fill(page, values) {
  for (const [name, value] of Object.entries(values)) {
    page.instance.input({ currentTarget: { dataset: { name } }, detail: { value } });
  }
}

test('login: wx.login code → session; not bound → the bind page', async () => {
  global.server = (method, path, body) => {
    expect([method, path, body]).toEqual(['POST', 'login/miniprogram',
      { appid: 'wx5e1d2c3b4a596870', code: 'wx-login-code' }]);
    return [200, { session: 'S1', bound: false }];
  };
  const page = render('pages/login/login');
  page.querySelector('.login').dispatchEvent('tap');
  await settle();
  expect(wx.getStorageSync('session')).toBe('S1');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/bind/bind' });
});

test('login: WeChat refuses the code → the error in words', async () => {
  global.server = () => [401, { error: '微信登录凭证无效（40029），请重试。', code: 'invalid_code' }];
  const page = render('pages/login/login');
  await page.instance.login();
  expect(text(page, '.error')).toContain('40029');
});

test('bind: request, SMS code with consent, bound', async () => {
  wx.setStorageSync('session', 'S1');
  const binding = { id: 7, state: 'pending', method: 'sms', code_sent_to: '139****5678', elder: { id: 3, name: '巴特尔' } };
  global.server = (method, path, body, header) => {
    expect(header.Authorization).toBe('Bearer S1');
    if (path === 'bindings') return [201, { binding }];
    if (path === 'bindings/7/verify') {
      return body.code === '123456'
        ? [200, { binding: { ...binding, state: 'active' } }]
        : [422, { error: '验证码错误（还可尝试 4 次）。', code: 'wrong_code' }];
    }
    return [404, {}];
  };
  const page = render('pages/bind/bind');
  // Missing fields are named in words
  await page.instance.submit();
  expect(text(page, '.error')).toBe('请填写：老人身份证号码、老人姓名、您的姓名、您与老人的关系、您的手机号码');
  expect(wx.requests).toHaveLength(0);

  fill(page, { id_number: '150102194003150012', elder_name: '巴特尔', name: '王芳', phone: '13698765432' });
  page.instance.pickRelationship({ detail: { value: '1' } });
  await page.instance.submit();
  expect(wx.requests[0].body).toEqual({ id_number: '150102194003150012', elder_name: '巴特尔',
    name: '王芳', relationship: 'daughter', phone: '13698765432', method: 'sms' });
  expect(text(page, '.hint')).toContain('139****5678');

  // The consent must be ticked
  page.instance.inputCode({ detail: { value: '123456' } });
  await page.instance.verify();
  expect(text(page, '.error')).toContain('同意');
  expect(wx.requests).toHaveLength(1);
  // A wrong code: the server's words
  page.instance.consent({ detail: { value: ['yes'] } });
  page.instance.inputCode({ detail: { value: '000000' } });
  await page.instance.verify();
  expect(text(page, '.error')).toBe('验证码错误（还可尝试 4 次）。');
  page.instance.inputCode({ detail: { value: '123456' } });
  await page.instance.verify();
  expect(wx.requests[2].body).toEqual({ code: '123456', consent: true });
  expect(text(page, '.done')).toBe('已成功绑定 巴特尔。');
});
