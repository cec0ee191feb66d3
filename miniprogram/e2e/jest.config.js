// The journey against a running platform and WeChat stand-in: run by
// tests/test_browser_wechat_h5.py (repository root) with WECHAT_E2E_* set.
module.exports = {
  rootDir: '..',
  testEnvironment: 'jsdom',
  setupFiles: ['<rootDir>/e2e/setup.js'],
  testMatch: ['<rootDir>/e2e/**/*.test.js'],
  testTimeout: 120000,
};
