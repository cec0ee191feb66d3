const api = require('../../utils/api.js');
const config = require('../../utils/config.js');

Component({
  data: { busy: false, error: '' },
  methods: {
    login() {
      this.setData({ busy: true, error: '' });
      return api.login(config.appid).then((data) => {
        this.setData({ busy: false });
        if (data.bound) {
          wx.switchTab({ url: '/pages/home/home' });
        } else {
          wx.navigateTo({ url: '/pages/bind/bind' });
        }
      }, (error) => {
        this.setData({ busy: false, error: error.message });
      });
    },
  },
});
