const api = require('../../utils/api.js');

const RELATIONSHIPS = [
  { value: 'son', name: '儿子' }, { value: 'daughter', name: '女儿' },
  { value: 'spouse', name: '配偶' }, { value: 'daughter_in_law', name: '儿媳' },
  { value: 'son_in_law', name: '女婿' }, { value: 'grandchild', name: '孙辈' },
  { value: 'sibling', name: '兄弟姐妹' }, { value: 'relative', name: '其他亲属' },
  { value: 'neighbour', name: '邻居' }, { value: 'friend', name: '朋友' },
  { value: 'other', name: '其他' },
];

Component({
  data: {
    form: { id_number: '', elder_name: '', name: '', relationship: '', phone: '', method: 'sms' },
    relationships: RELATIONSHIPS,
    relationshipName: '',
    binding: null,
    code: '',
    consent: false,
    busy: false,
    error: '',
  },
  methods: {
    input(event) {
      this.setData({ ['form.' + event.currentTarget.dataset.name]: event.detail.value.trim() });
    },
    pickRelationship(event) {
      const choice = RELATIONSHIPS[Number(event.detail.value)];
      this.setData({ 'form.relationship': choice.value, relationshipName: choice.name });
    },
    pickMethod(event) {
      this.setData({ 'form.method': event.detail.value });
    },
    inputCode(event) {
      this.setData({ code: event.detail.value.trim() });
    },
    consent(event) {
      this.setData({ consent: event.detail.value.indexOf('yes') >= 0 });
    },
    submit() {
      const form = this.data.form;
      const missing = [['id_number', '老人身份证号码'], ['elder_name', '老人姓名'],
        ['name', '您的姓名'], ['relationship', '您与老人的关系'], ['phone', '您的手机号码']]
        .filter(([name]) => !form[name]);
      if (missing.length) {
        this.setData({ error: '请填写：' + missing.map(([, label]) => label).join('、') });
        return Promise.resolve();
      }
      this.setData({ busy: true, error: '' });
      return api.post('bindings', form).then((data) => {
        this.setData({ busy: false, binding: data.binding });
      }, (error) => this.setData({ busy: false, error: error.message }));
    },
    verify() {
      if (!/^\d{6}$/.test(this.data.code)) {
        this.setData({ error: '请输入 6 位数字验证码。' });
        return Promise.resolve();
      }
      if (!this.data.consent) {
        this.setData({ error: '请先征得老人（或监护人）同意，并勾选同意。' });
        return Promise.resolve();
      }
      this.setData({ busy: true, error: '' });
      return api.post(`bindings/${this.data.binding.id}/verify`,
        { code: this.data.code, consent: true }).then((data) => {
        this.setData({ busy: false, binding: data.binding });
      }, (error) => this.setData({ busy: false, error: error.message }));
    },
    resend() {
      return api.post(`bindings/${this.data.binding.id}/resend`).then((data) => {
        this.setData({ binding: data.binding, error: '验证码已重新发送。' });
      }, (error) => this.setData({ error: error.message }));
    },
    home() {
      wx.switchTab({ url: '/pages/home/home' });
    },
  },
});
