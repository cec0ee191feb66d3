const api = require('../../utils/api.js');

function isoDate(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

Component({
  data: {
    elder: null, items: [], itemId: null, date: '', time: '', note: '',
    today: isoDate(new Date()), key: '', busy: false, error: '', order: null,
  },
  methods: {
    onLoad(query) {
      const elder = Number(query.elder);
      // One key per visit of the page: a double tap books once.
      const key = 'mp-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
      this.setData({ elder, key });
      return api.get(`elders/${elder}/items`).then((data) => {
        this.setData({ items: data.items });
      }, (error) => this.setData({ error: error.message }));
    },
    pickItem(event) { this.setData({ itemId: Number(event.detail.value) }); },
    pickDate(event) { this.setData({ date: event.detail.value }); },
    pickTime(event) { this.setData({ time: event.detail.value }); },
    inputNote(event) { this.setData({ note: event.detail.value }); },
    submit() {
      if (!this.data.itemId || !this.data.date || !this.data.time) {
        this.setData({ error: '请选择服务项目、日期和上门时间。' });
        return Promise.resolve();
      }
      this.setData({ busy: true, error: '' });
      return api.post('orders', {
        elder: this.data.elder, item: this.data.itemId, date: this.data.date,
        time_from: this.data.time, note: this.data.note || undefined,
        request_key: this.data.key,
      }).then((data) => {
        this.setData({ busy: false, order: data.order });
      }, (error) => this.setData({ busy: false, error: error.message }));
    },
  },
});
