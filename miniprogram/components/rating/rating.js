// Five large stars with words (colour is never the only signal).
const LABELS = ['很不满意', '不满意', '一般', '满意', '非常满意'];

Component({
  properties: {
    value: { type: Number, value: 0 },
  },
  data: {
    labels: LABELS,
    stars: LABELS.map((label, i) => ({ value: i + 1, label, marks: '★'.repeat(i + 1) })),
  },
  methods: {
    choose(event) {
      const value = Number(event.currentTarget.dataset.value);
      this.setData({ value });
      this.triggerEvent('change', { value });
    },
  },
});
