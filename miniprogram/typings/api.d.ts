// Types of the platform's WeChat API (addons/elder_wechat/openapi.json).
export interface ApiErrorBody { error: string; code: string; }
export interface Page<T> { items: T[]; page: number; size: number; total: number; }
export interface Login { session: string; expires_in: number; bound: boolean; name: string | null; }
export interface Binding {
  id: number; state: 'pending' | 'active' | 'rejected' | 'revoked'; state_name: string;
  method: 'sms' | 'staff'; elder: { id: number; name: string }; name: string;
  relationship: string; relationship_name: string; code_sent_to: string | null;
}
export interface Elder {
  id: number; name: string; age: number | null; id_number: string | null; phone: string | null;
  region: string | null; living_situation: string | null; state: string;
  devices?: { total: number; online: number }; open_alarms?: number;
}
export interface Alarm {
  id: number; kind: string; kind_name: string; state: string; state_name: string;
  description: string | null; first_occurrence: string | null; family_acknowledged: boolean;
}
export interface Order {
  id: number; number: string; state: string; state_name: string; date: string;
  time_from: string | null; item: { id: number; name: string }; elder: { id: number; name: string };
  rating: number | null; can_cancel: boolean; can_confirm: boolean;
}
export interface PayParams {
  appId: string; timeStamp: string; nonceStr: string; package: string; signType: 'RSA'; paySign: string;
}
export interface Bill {
  id: number; item: string; service_date: string; amount: string; subsidy_amount: string | null;
  self_pay_amount: string; paid: boolean;
}
