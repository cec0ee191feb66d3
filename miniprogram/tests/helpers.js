const path = require('path');
const simulate = require('miniprogram-simulate');

const ROOT = path.join(__dirname, '..');

// A component's JS runs once per test file (require caches it): load each
// path once and render it as often as needed.
const ids = {};

function render(relative, properties) {
  if (!ids[relative]) {
    ids[relative] = simulate.load(path.join(ROOT, relative), { rootPath: ROOT });
  }
  const id = ids[relative];
  const component = simulate.render(id, properties);
  component.attach(document.createElement('parent-wrapper'));
  return component;
}

function text(component, selector) {
  const node = component.querySelector(selector);
  return node ? node.dom.textContent.replace(/\s+/g, ' ').trim() : null;
}

async function settle() {
  // Taps and setData of the simulator are asynchronous
  for (let i = 0; i < 5; i += 1) {
    // eslint-disable-next-line no-await-in-loop
    await simulate.sleep(5);
  }
}

module.exports = { render, text, settle, simulate };
