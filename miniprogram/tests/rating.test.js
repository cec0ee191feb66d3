const { render, text, settle } = require('./helpers');

test('five stars with words; a tap chooses and says the rating', async () => {
  const rating = render('components/rating/rating');
  const stars = rating.querySelectorAll('.star');
  expect(stars).toHaveLength(5);
  expect(text(rating, '.rating')).toContain('非常满意');
  const changes = [];
  rating.addEventListener('change', (event) => changes.push(event.detail.value));
  stars[4].dispatchEvent('tap');
  await settle();
  expect(rating.data.value).toBe(5);
  expect(changes).toEqual([5]);
  expect(text(rating, '.said')).toBe('已选择：5 分（非常满意）');
  stars[1].dispatchEvent('tap');
  await settle();
  expect(rating.querySelectorAll('.star.on')).toHaveLength(1);
  expect(text(rating, '.star.on')).toBe('★★不满意（2分）');
});

test('the ratings are large tap targets and large words (≥ 60pt, ≥ 18pt)', () => {
  const fs = require('fs');
  const css = fs.readFileSync(require.resolve('../components/rating/rating.wxss'), 'utf8');
  // 750rpx = 375pt: 1pt = 2rpx; a full-width row
  const height = Number(/\.star \{[^}]*min-height: (\d+)rpx/.exec(css)[1]);
  expect(height).toBeGreaterThanOrEqual(120);
  expect(/\.star \{[^}]*width:/.test(css)).toBe(false);
  for (const [, size] of css.matchAll(/font-size: (\d+)rpx/g)) {
    expect(Number(size)).toBeGreaterThanOrEqual(36);
  }
});
