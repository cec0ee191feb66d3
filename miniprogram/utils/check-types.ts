// Checked by `npm run typecheck` (tsc): the API client against the API's
// types and the wx typings of miniprogram-api-typings. Not part of the
// mini program package.
import type { Bill, Binding, Login, Page, PayParams } from '../typings/api';

const api = require('./api.js') as {
  login(appid: string): Promise<Login>;
  get(path: string): Promise<any>;
  post(path: string, data?: object): Promise<any>;
};

export async function payFirstBill(appid: string): Promise<PayParams | null> {
  const login: Login = await api.login(appid);
  if (!login.bound) return null;
  const bills: Page<Bill> = await api.get('bills');
  const unpaid = bills.items.filter((b) => !b.paid);
  if (!unpaid.length) return null;
  const answer: { pay_params: PayParams } = await api.post(`bills/${unpaid[0].id}/pay`, { appid });
  const params = answer.pay_params;
  wx.requestPayment({ ...params, success() {}, fail() {} });
  return params;
}

export function pending(binding: Binding): boolean {
  return binding.state === 'pending';
}
