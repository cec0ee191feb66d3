const api = require('../../utils/api.js');

Component({
  data: { orders: [], page: 1, more: false, ratings: {}, comments: {}, error: '' },
  methods: {
    onShow() { return this.load(1); },
    load(page) {
      return api.get(`orders?page=${page}&size=10`).then((data) => {
        const orders = page === 1 ? data.items : this.data.orders.concat(data.items);
        this.setData({ orders, page, more: orders.length < data.total, error: '' });
      }, (error) => this.setData({ error: error.message }));
    },
    next() { return this.load(this.data.page + 1); },
    rate(event) {
      const id = event.currentTarget.dataset.id;
      this.setData({ ['ratings.' + id]: event.detail.value });
    },
    comment(event) {
      this.setData({ ['comments.' + event.currentTarget.dataset.id]: event.detail.value });
    },
    replace(order) {
      this.setData({ orders: this.data.orders.map((o) => (o.id === order.id ? order : o)) });
    },
    confirm(event) {
      const id = event.currentTarget.dataset.id;
      const rating = this.data.ratings[id];
      if (!rating) {
        this.setData({ error: '请先选择评分（1 到 5 分）。' });
        return Promise.resolve();
      }
      return api.post(`orders/${id}/confirm`, { rating, comment: this.data.comments[id] || undefined })
        .then((data) => { this.setData({ error: '' }); this.replace(data.order); },
          (error) => this.setData({ error: error.message }));
    },
    cancel(event) {
      const id = event.currentTarget.dataset.id;
      return api.post(`orders/${id}/cancel`, { reason: '家属取消' })
        .then((data) => this.replace(data.order), (error) => this.setData({ error: error.message }));
    },
    complain(event) {
      const id = event.currentTarget.dataset.id;
      return new Promise((resolve) => {
        wx.showModal({
          title: '投诉', editable: true, placeholderText: '请写下您遇到的问题',
          success: (res) => {
            if (!res.confirm || !res.content) { resolve(); return; }
            api.post(`orders/${id}/complaints`, { description: res.content }).then(() => {
              this.setData({ error: '投诉已提交，工作人员会尽快处理。' });
              resolve();
            }, (error) => { this.setData({ error: error.message }); resolve(); });
          },
        });
      });
    },
  },
});
