const api = require('../../utils/api.js');
const config = require('../../utils/config.js');

Component({
  data: { bills: [], busy: null, error: '' },
  methods: {
    onShow() { return this.load(); },
    load() {
      return api.get('bills').then((data) => this.setData({ bills: data.items }),
        (error) => this.setData({ error: error.message }));
    },
    pay(event) {
      const id = event.currentTarget.dataset.id;
      this.setData({ busy: id, error: '' });
      return api.post(`bills/${id}/pay`, { appid: config.appid }).then((data) => new Promise((resolve) => {
        wx.requestPayment({
          ...data.pay_params,
          success: () => resolve(this.waitPaid(data.payment.id, 10)),
          fail: (res) => {
            const cancelled = res && /cancel/.test(res.errMsg || '');
            this.setData({ busy: null, error: cancelled ? '您已取消支付。' : '支付未完成，请重试。' });
            resolve();
          },
        });
      }), (error) => this.setData({ busy: null, error: error.message }));
    },
    // The platform learns of the payment from WeChat Pay's notification.
    waitPaid(payment, tries) {
      return api.get(`payments/${payment}`).then((data) => {
        if (data.payment.state === 'paid' || tries <= 0) {
          this.setData({ busy: null, error: data.payment.state === 'paid' ? '' : '支付结果确认中，请稍后刷新。' });
          return this.load();
        }
        return new Promise((r) => setTimeout(r, 500)).then(() => this.waitPaid(payment, tries - 1));
      });
    },
  },
});
