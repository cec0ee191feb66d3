// One alarm of an older person's device, with "我已知晓".
function localTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const china = new Date(date.getTime() + 8 * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${china.getUTCFullYear()}-${pad(china.getUTCMonth() + 1)}-${pad(china.getUTCDate())} `
    + `${pad(china.getUTCHours())}:${pad(china.getUTCMinutes())}`;
}

Component({
  properties: {
    alarm: { type: Object, value: {} },
  },
  data: { time: '' },
  observers: {
    alarm(alarm) {
      this.setData({ time: localTime(alarm && alarm.first_occurrence) });
    },
  },
  methods: {
    acknowledge() {
      this.triggerEvent('acknowledge', { id: this.data.alarm.id });
    },
  },
});
