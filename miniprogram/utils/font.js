// Follow WeChat's font-size setting (and "care mode").
function scale() {
  try {
    const info = wx.getAppBaseInfo ? wx.getAppBaseInfo() : {};
    const factor = Number(info.fontSizeScaleFactor) || 1;
    return Math.max(1, Math.min(factor, 2));
  } catch (e) {
    return 1;
  }
}

module.exports = { scale };
