// Where the platform is. The build for a deployment writes its address.
module.exports = {
  apiBase: 'https://eldercare.example.org/eldercare/wechat/v1',
  appid: 'wx5e1d2c3b4a596870',
  templates: {
    alarm: 'TPL-ALARM-001',
    service_started: 'TPL-SVC-START',
    service_finished: 'TPL-SVC-DONE',
    bill: 'TPL-BILL-001',
  },
};
