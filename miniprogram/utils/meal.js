// The family meal API of elder_meal (/<database>/meal/family/v1/, described
// in addons/elder_wechat/openapi.json under /meal/family/v1/): same session
// and error format as the WeChat API of utils/api.js, next to it on the
// server (…/wechat/v1 → …/meal/family/v1).

const { ApiError } = require('./api.js');

const SESSION = 'session';

function base() {
  const app = typeof getApp === 'function' ? getApp() : null;
  const wechat = (app && app.globalData && app.globalData.apiBase)
    || require('./config.js').apiBase;
  return wechat.replace(/\/wechat\/v1\/?$/, '/meal/family/v1');
}

/**
 * @param {'GET'|'POST'} method
 * @param {string} path
 * @param {object} [data]
 * @param {string} [key] the Idempotency-Key of a pre-order
 * @returns {Promise<any>}
 */
function request(method, path, data, key) {
  return new Promise((resolve, reject) => {
    /** @type {Record<string, string>} */
    const header = { 'Content-Type': 'application/json', 'Accept-Language': 'zh-CN' };
    const session = wx.getStorageSync(SESSION);
    if (session) header.Authorization = 'Bearer ' + session;
    if (key) header['Idempotency-Key'] = key;
    wx.request({
      url: base() + '/' + path,
      method,
      data: data === undefined ? undefined : JSON.stringify(data),
      header,
      success(res) {
        /** @type {any} */
        let body = res.data;
        if (typeof body === 'string') {
          try { body = JSON.parse(body); } catch (e) { body = null; }
        }
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve(body);
          return;
        }
        if (res.statusCode === 401) wx.removeStorageSync(SESSION);
        reject(new ApiError(res.statusCode, (body && body.code) || 'error',
          (body && body.error) || '服务暂时不可用，请稍后再试。'));
      },
      fail() {
        reject(new ApiError(0, 'network', '网络连接失败，请检查网络后重试。'));
      },
    });
  });
}

/** A new idempotency key: one per meal the family decides to order. */
function newKey() {
  return 'meal-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
}

module.exports = {
  base,
  newKey,
  points: (elder) => request('GET', `elders/${elder}/points`),
  menus: (elder, point, days) => request('GET',
    `elders/${elder}/menus?point=${encodeURIComponent(point)}&days=${days || 7}`),
  orders: (elder) => request('GET', `orders?elder=${elder}`),
  order: (data, key) => request('POST', 'orders', data, key),
  cancel: (id, reason) => request('POST', `orders/${id}/cancel`, { reason }),
};
