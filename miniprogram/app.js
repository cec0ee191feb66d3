// The mini program of the families of older people (养老服务家属端).
const config = require('./utils/config.js');

App({
  globalData: {
    apiBase: config.apiBase,
    appid: config.appid,
    // WeChat's font setting ("关怀模式" makes it larger): every size of the
    // pages is in rpx times this factor (see utils/font.js).
    fontScale: 1,
    elder: true, // 长辈版: the large version is the default
  },
  onLaunch() {
    const font = require('./utils/font.js');
    this.globalData.fontScale = font.scale();
  },
});
