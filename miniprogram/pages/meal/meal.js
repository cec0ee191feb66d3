// 助餐订餐: the published menus of the coming days at a meal point serving
// the older person, with the price after their subsidy; pre-order (one
// idempotency key per meal chosen: a double tap or a retry orders once),
// cancel before the point's deadline, and the older person's meal orders.
const meal = require('../../utils/meal.js');

const WEEKDAYS = ['周一', '周二', '周三', '周四', '周五', '周六', '周日'];
const MODES = [
  { value: 'dine_in', name: '堂食' },
  { value: 'pickup', name: '自取' },
  { value: 'delivery', name: '送餐上门' },
];

function dayLabel(iso, weekday) {
  const [, month, day] = iso.split('-').map(Number);
  return `${month}月${day}日 ${WEEKDAYS[weekday]}`;
}

function showDays(days) {
  return days.map((d) => ({
    date: d.date,
    label: dayLabel(d.date, d.weekday),
    periods: d.periods.map((p) => ({
      ...p,
      offers: p.offers.map((o) => ({
        ...o,
        tagText: (o.tags || []).map((t) => t.name).join('、'),
      })),
    })),
  }));
}

function confirm(title, content) {
  return new Promise((resolve) => {
    wx.showModal({
      title, content, confirmText: '确定', cancelText: '再想想',
      success: (res) => resolve(Boolean(res.confirm)),
      fail: () => resolve(false),
    });
  });
}

Component({
  data: {
    elder: 0, elderName: '', points: [], pointIndex: 0, point: null,
    modes: MODES, mode: 'dine_in', subsidy: null, days: [], orders: [],
    busy: false, loading: true, error: '', done: '',
  },
  methods: {
    onLoad(query) {
      this.setData({ elder: Number(query.elder) });
      return this.loadPoints();
    },
    fail(error) {
      this.setData({ busy: false, loading: false, error: error.message });
      if (error.status === 401) wx.reLaunch({ url: '/pages/login/login' });
    },
    loadPoints() {
      this.setData({ loading: true, error: '' });
      return meal.points(this.data.elder).then((data) => {
        this.setData({ elderName: data.elder.name, points: data.points });
        if (!data.points.length) {
          this.setData({ loading: false });
          return this.loadOrders();
        }
        return this.choosePoint(0);
      }).catch((error) => this.fail(error));
    },
    choosePoint(index) {
      const point = this.data.points[index];
      const mode = this.data.mode === 'delivery' && !point.delivery ? 'dine_in' : this.data.mode;
      this.setData({ pointIndex: index, point, mode });
      return Promise.all([this.loadMenus(), this.loadOrders()]);
    },
    pickPoint(event) {
      return this.choosePoint(Number(event.detail.value)).catch((error) => this.fail(error));
    },
    pickMode(event) {
      this.setData({ mode: event.detail.value });
    },
    loadMenus() {
      return meal.menus(this.data.elder, this.data.point.code, 7).then((data) => {
        this.setData({ days: showDays(data.days), subsidy: data.subsidy, loading: false });
      }, (error) => this.fail(error));
    },
    loadOrders() {
      return meal.orders(this.data.elder).then((data) => {
        this.setData({ orders: data.orders });
      }, (error) => this.fail(error));
    },
    reload() {
      return Promise.all([this.loadMenus(), this.loadOrders()]);
    },
    offerOf(date, period, offerId) {
      const day = this.data.days.find((d) => d.date === date);
      const slot = day && day.periods.find((p) => p.meal_period === period);
      return slot && { slot, day, offer: slot.offers.find((o) => o.id === offerId) };
    },
    async orderMeal(event) {
      const { date, period } = event.currentTarget.dataset;
      const offerId = Number(event.currentTarget.dataset.offer);
      const found = this.offerOf(date, period, offerId);
      if (!found || !found.offer || this.data.busy) return;
      const { slot, day, offer } = found;
      const mode = MODES.find((m) => m.value === this.data.mode);
      const ok = await confirm('确认订餐',
        `为${this.data.elderName}预订${day.label}${slot.meal_period_name}：${offer.dish}（${mode.name}），`
        + `原价 ¥${offer.price}，补贴 ¥${offer.subsidy}，预计自付 ¥${offer.self_pay}。`);
      if (!ok) return;
      // the same meal keeps its key until it is ordered: a retry orders once
      const slotKey = [this.data.point.code, date, period, offerId, this.data.mode].join('|');
      this.keys = this.keys || {};
      const key = this.keys[slotKey] || meal.newKey();
      this.keys[slotKey] = key;
      this.setData({ busy: true, error: '', done: '' });
      try {
        const data = await meal.order({
          elder: this.data.elder, point: this.data.point.code, date, meal_period: period,
          offer: offerId, service_mode: this.data.mode, count: 1, request_key: key,
        }, key);
        delete this.keys[slotKey];
        const order = data.order;
        this.setData({
          busy: false,
          done: `订餐成功：${order.date} ${order.meal_period_name} ${order.dish}，`
            + `${order.service_mode_name}，预计自付 ¥${order.self_pay}，订单号 ${order.number}。`,
        });
        await this.reload();
      } catch (error) {
        this.fail(error);
      }
    },
    async cancelOrder(event) {
      const id = Number(event.currentTarget.dataset.id);
      if (this.data.busy) return;
      const ok = await confirm('取消订餐', '确定取消这份餐吗？');
      if (!ok) return;
      this.setData({ busy: true, error: '', done: '' });
      try {
        const data = await meal.cancel(id, '家属在小程序取消');
        this.setData({ busy: false, done: `已取消订单 ${data.order.number}。` });
        await this.reload();
      } catch (error) {
        this.fail(error);
      }
    },
  },
});
