const api = require('../../utils/api.js');
const config = require('../../utils/config.js');

Component({
  data: { elders: [], alarms: [], loading: true, error: '' },
  methods: {
    onShow() {
      return this.load();
    },
    load() {
      this.setData({ loading: true, error: '' });
      return api.get('elders').then((data) => Promise.all(
        data.items.map((elder) => api.get(`elders/${elder.id}`).then((d) => d.elder)),
      )).then((elders) => Promise.all(
        elders.map((elder) => api.get(`elders/${elder.id}/alarms?size=5`).then((d) => d.items)),
      ).then((lists) => {
        const alarms = [].concat(...lists).sort(
          (a, b) => (a.first_occurrence < b.first_occurrence ? 1 : -1));
        this.setData({ elders, alarms, loading: false });
      })).catch((error) => {
        this.setData({ loading: false, error: error.message });
        if (error.status === 401) wx.reLaunch({ url: '/pages/login/login' });
      });
    },
    acknowledge(event) {
      return api.post(`alarms/${event.detail.id}/acknowledge`).then((data) => {
        const alarms = this.data.alarms.map((a) => (a.id === data.alarm.id ? data.alarm : a));
        this.setData({ alarms });
      }, (error) => this.setData({ error: error.message }));
    },
    subscribe() {
      const ids = Object.values(config.templates);
      return new Promise((resolve) => {
        wx.requestSubscribeMessage({
          tmplIds: ids,
          complete: resolve,
        });
      });
    },
    book(event) {
      wx.navigateTo({ url: '/pages/book/book?elder=' + event.currentTarget.dataset.id });
    },
    meal(event) {
      wx.navigateTo({ url: '/pages/meal/meal?elder=' + event.currentTarget.dataset.id });
    },
    bind() {
      wx.navigateTo({ url: '/pages/bind/bind' });
    },
  },
});
