// The platform's API (addons/elder_wechat/openapi.json) over wx.request.
// Every answer is JSON; errors are {error, code} with an HTTP status: the
// promise is rejected with an ApiError whose message is the translated
// text to show to the user (in words, not only colours).

const SESSION = 'session';

class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function base() {
  const app = typeof getApp === 'function' ? getApp() : null;
  if (app && app.globalData && app.globalData.apiBase) {
    return app.globalData.apiBase;
  }
  return require('./config.js').apiBase;
}

/**
 * @param {'GET'|'POST'|'DELETE'} method
 * @param {string} path
 * @param {object} [data]
 * @returns {Promise<any>}
 */
function request(method, path, data) {
  return new Promise((resolve, reject) => {
    const header = { 'Content-Type': 'application/json', 'Accept-Language': 'zh-CN' };
    const session = wx.getStorageSync(SESSION);
    if (session) {
      header.Authorization = 'Bearer ' + session;
    }
    wx.request({
      url: base() + '/' + path,
      method,
      data: data === undefined ? undefined : JSON.stringify(data),
      header,
      success(res) {
        const body = typeof res.data === 'string' ? safeJson(res.data) : res.data;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve(body);
        } else {
          if (res.statusCode === 401) {
            wx.removeStorageSync(SESSION);
          }
          reject(new ApiError(res.statusCode, (body && body.code) || 'error',
            (body && body.error) || '服务暂时不可用，请稍后再试。'));
        }
      },
      fail() {
        reject(new ApiError(0, 'network', '网络连接失败，请检查网络后重试。'));
      },
    });
  });
}

function safeJson(text) {
  try { return JSON.parse(text); } catch (e) { return null; }
}

/** @returns {Promise<{session: string, bound: boolean}>} */
function login(appid) {
  return new Promise((resolve, reject) => {
    wx.login({
      success(res) {
        request('POST', 'login/miniprogram', { appid, code: res.code })
          .then((data) => {
            wx.setStorageSync(SESSION, data.session);
            resolve(data);
          }, reject);
      },
      fail() { reject(new ApiError(0, 'login', '微信登录失败，请重试。')); },
    });
  });
}

module.exports = {
  ApiError,
  request,
  login,
  get: (path) => request('GET', path),
  post: (path, data) => request('POST', path, data || {}),
  del: (path) => request('DELETE', path),
  loggedIn: () => Boolean(wx.getStorageSync(SESSION)),
  logout: () => request('POST', 'logout', {}).finally(() => wx.removeStorageSync(SESSION)),
};
