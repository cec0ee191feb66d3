// A stand-in of the wx.* APIs the pages use. wx.request goes to
// global.server: a function (method, path, body, header) → [status, data]
// that each test sets; every call is recorded in wx.requests.
const storage = new Map();

function reset() {
  storage.clear();
  global.wx.requests = [];
  global.server = () => [404, { error: '未找到', code: 'not_found' }];
  for (const name of Object.keys(global.wx)) {
    if (global.wx[name] && global.wx[name].mockClear) global.wx[name].mockClear();
  }
}

global.wx = {
  requests: [],
  getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
  setStorageSync: (key, value) => storage.set(key, value),
  removeStorageSync: (key) => storage.delete(key),
  getAppBaseInfo: () => ({ fontSizeSetting: 20, fontSizeScaleFactor: 1.25 }),
  login: jest.fn((options) => options.success({ code: 'wx-login-code' })),
  request: jest.fn((options) => {
    const path = options.url.replace(/^.*\/wechat\/v1\//, '');
    const body = options.data ? JSON.parse(options.data) : undefined;
    global.wx.requests.push({ method: options.method, path, body, header: options.header });
    Promise.resolve().then(() => {
      const [statusCode, data] = global.server(options.method, path, body, options.header);
      options.success({ statusCode, data });
    });
  }),
  requestPayment: jest.fn((options) => options.success({ errMsg: 'requestPayment:ok' })),
  requestSubscribeMessage: jest.fn((options) => options.complete({ errMsg: 'requestSubscribeMessage:ok' })),
  navigateTo: jest.fn(),
  switchTab: jest.fn(),
  reLaunch: jest.fn(),
  showModal: jest.fn((options) => options.success({ confirm: true, content: '' })),
};
global.getApp = () => ({ globalData: { apiBase: 'https://platform.test/db/wechat/v1' } });
global.resetWx = reset;
global.flush = () => new Promise((resolve) => setTimeout(resolve, 0));
