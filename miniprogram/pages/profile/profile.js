const api = require('../../utils/api.js');

Component({
  data: { me: {}, bindings: [], error: '' },
  methods: {
    onShow() { return this.load(); },
    load() {
      return Promise.all([api.get('me'), api.get('bindings')]).then(([me, bindings]) => {
        this.setData({ me, bindings: bindings.items, error: '' });
      }, (error) => this.setData({ error: error.message }));
    },
    unbind(event) {
      const id = event.currentTarget.dataset.id;
      return new Promise((resolve) => {
        wx.showModal({
          title: '解除绑定', content: '解除后将不再收到这位老人的通知，确定吗？',
          success: (res) => {
            if (!res.confirm) { resolve(); return; }
            api.del(`bindings/${id}`).then(() => resolve(this.load()),
              (error) => { this.setData({ error: error.message }); resolve(); });
          },
        });
      });
    },
    bind() { wx.navigateTo({ url: '/pages/bind/bind' }); },
    logout() {
      return api.logout().then(() => wx.reLaunch({ url: '/pages/login/login' }));
    },
  },
});
