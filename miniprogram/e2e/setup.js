// wx.* over real HTTP: wx.request to the platform, and what the WeChat
// client does (wx.login, wx.requestSubscribeMessage, wx.requestPayment)
// to the local WeChat stand-in, which checks it as WeChat does.
const http = require('http');

const API = process.env.WECHAT_E2E_API;          // http://…/<db>/wechat/v1
const STANDIN = process.env.WECHAT_E2E_STANDIN;  // http://127.0.0.1:<port>
const CONTROL = process.env.WECHAT_E2E_CONTROL;  // the test's control server
const OPENID = process.env.WECHAT_E2E_OPENID;
const APPID = process.env.WECHAT_E2E_APPID;

function httpJson(method, url, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
    const request = http.request(url, {
      method,
      headers: { 'Content-Type': 'application/json', ...(headers || {}),
        ...(data ? { 'Content-Length': Buffer.byteLength(data) } : {}) },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = text; }
        resolve({ statusCode: response.statusCode, data: json });
      });
    });
    request.on('error', reject);
    if (data) request.write(data);
    request.end();
  });
}

const storage = new Map();
global.wx = {
  getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
  setStorageSync: (key, value) => storage.set(key, value),
  removeStorageSync: (key) => storage.delete(key),
  getAppBaseInfo: () => ({ fontSizeScaleFactor: 1 }),
  request(options) {
    httpJson(options.method, options.url, options.data, options.header)
      .then(options.success, options.fail);
  },
  login(options) {
    httpJson('POST', STANDIN + '/standin/login', { appid: APPID, openid: OPENID })
      .then((res) => options.success({ code: res.data.code }), options.fail);
  },
  requestSubscribeMessage(options) {
    httpJson('POST', STANDIN + '/standin/subscribe',
      { appid: APPID, openid: OPENID, tmplIds: options.tmplIds })
      .then((res) => { (options.success || (() => {}))(res.data); options.complete(res.data); });
  },
  requestPayment(options) {
    const params = { appId: options.appId, timeStamp: options.timeStamp, nonceStr: options.nonceStr,
      package: options.package, signType: options.signType, paySign: options.paySign };
    httpJson('POST', STANDIN + '/standin/requestPayment', params).then((res) => {
      if (res.data.errMsg === 'requestPayment:ok') options.success(res.data);
      else options.fail(res.data);
    }, options.fail);
  },
  navigateTo: jest.fn(),
  switchTab: jest.fn(),
  reLaunch: jest.fn(),
  showModal: jest.fn((options) => options.success({ confirm: false })),
};
global.getApp = () => ({ globalData: { apiBase: API } });
global.control = (action, body) => httpJson('POST', CONTROL + '/' + action, body || {}).then((r) => {
  if (r.statusCode !== 200) throw new Error(action + ': ' + JSON.stringify(r.data));
  return r.data;
});
global.standinMessages = () => httpJson('GET', STANDIN + '/standin/messages').then((r) => r.data);
