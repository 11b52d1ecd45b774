// Field page strings, Chinese and English. Owns the language choice (localStorage
// "anxin.lang", default zh-CN) and the translation of the protocol's codes: alert
// kinds, rank reasons, states, service areas and error codes. Calls nothing else.

const zh = {
  title: '安心 · 外勤',
  lang_other: 'English',
  username: '用户名',
  password: '密码',
  login: '登录',
  logging_in: '正在登录…',
  logout: '退出登录',
  login_failed: '用户名或密码不正确',
  session_expired: '登录已过期，请重新登录',
  connecting: '正在连接服务器…',
  offline: '连接已断开',
  reconnecting_in: (s) => `${s} 秒后重新连接`,
  reconnecting: '正在重新连接…',
  reconnect_now: '立即重连',
  queued: (n) => `${n} 项操作等待发送`,
  queued_one: (a) => `${a}已保存，恢复连接后自动发送`,
  on_duty: '在岗',
  off_duty: '离岗',
  duty_label: '值班状态',
  enable_sound: '轻触此处开启派单提示音',
  duty_on_hint: '正在接收派单',
  duty_off_hint: '不接收派单',
  mode: '出行方式',
  mode_walk: '步行',
  mode_ebike: '电动车',
  mode_car: '汽车',
  position: '我的位置',
  gps_on: ([acc, ago]) => `GPS 定位 ±${acc} 米 · ${ago}`,
  last_pos: (ago) => `上次上报的位置 · ${ago}`,
  gps_wait: '正在获取 GPS 定位…',
  gps_denied: '无法使用定位（未授权），请手动填写位置',
  gps_unavailable: '此连接无法使用定位，请手动填写位置',
  manual_pos: (ago) => `手动位置 · ${ago}`,
  no_pos: '尚未上报位置',
  lat: '纬度',
  lon: '经度',
  send_pos: '上报位置',
  use_home: '使用老人住址作为位置',
  ago_s: (n) => `${n} 秒前`,
  ago_min: (n) => `${n} 分钟前`,
  ago_h: (n) => `${n} 小时前`,
  new_task: '新派单',
  offer_expired: '派单已超时',
  offer_expired_hint: '未在时限内接单，服务中心会另行安排。',
  offer_withdrawn: '派单已撤回',
  offer_withdrawn_hint: '该事件已由服务中心处理完毕。',
  dismiss: '知道了',
  seconds_left: (n) => `剩余 ${n} 秒`,
  distance: '距离',
  eta: '预计到达',
  km: (n) => `${n} 公里`,
  m: (n) => `${n} 米`,
  min: (n) => `${n} 分钟`,
  reasons: '优先原因',
  accept: '接单',
  decline: '拒绝',
  decline_title: '拒绝原因',
  decline_other: '其他原因',
  decline_send: '确认拒绝',
  back: '返回',
  current_task: '当前任务',
  step_en_route: '前往中',
  step_on_scene: '已到场',
  step_complete: '完成',
  arrived: '我已到达',
  call_elder: '拨打老人电话',
  call: '拨打',
  navigate: '打开地图导航',
  contacts: '紧急联系人',
  family_doctor: '家庭医生',
  complete_title: '完成报告',
  outcome: '处理结果（必填）',
  outcome_ph: '例如：老人血压偏高，已联系家属',
  areas: '服务内容',
  notes: '备注',
  hazards: '发现的隐患',
  hazards_ph: '例如：燃气软管老化',
  complete: '提交并完成',
  need_outcome: '请填写处理结果',
  my_tasks: '我的任务',
  no_tasks: '暂无任务',
  age: (n) => `${n} 岁`,
  female: '女',
  disability: (n) => `${n} 级残疾`,
  male: '男',
  completed_ok: '已提交完成报告，任务结束。',
  task_cancelled: (name) => `服务中心已结束${name}的任务，无需继续前往。`,
  failed: ([act, why, detail]) => `${act}未成功：${why}（${detail}）`,
  act_accept: '接单', act_decline: '拒绝', act_on_scene: '到场', act_complete: '完成报告',
  act_duty: '值班状态', act_position: '位置上报', act_subscribe: '同步任务',
  standby: '待命中，有派单时会响铃提醒。',
  off_hint: '开启“在岗”后才能接收派单。',
  // today's visits (docs/visits.md)
  my_visits: '今日探访',
  refresh: '刷新',
  visits_loading: '正在获取今日探访名单…',
  visits_empty: '今天没有需要上门的探访。',
  visits_updated: (time) => `按步行顺序排列 · 更新于 ${time}`,
  visits_failed: (why) => `探访名单获取失败：${why}`,
  leg_first: (d) => `距我 ${d}`,
  leg_next: (d) => `距上一户 ${d}`,
  due_on: (date) => `应访日期 ${date}`,
  plan_every: ([n, per, mode]) => `计划：每${per === 'week' ? '周' : '月'} ${n} 次 · ${mode}`,
  plan_raw: (p) => `计划：${p}`,
  start_visit: '开始探访',
  start_encounter: '改为门口探访（不入户）',
  consent_needed: '老人未同意入户探访，可改为在门口探访。',
  one_at_a_time: '请先完成进行中的探访。',
  getting_pos: '正在获取位置…',
  need_pos: '无法取得当前位置：请允许定位，或在“我的位置”中手动填写后再试。',
  visit_open: '探访进行中',
  visit_since: ([time, dist]) => `${time} 开始 · 开始时距老人住址 ${dist}`,
  finish_title: '探访记录',
  visit_notes: '探访情况',
  visit_notes_ph: '例如：老人精神好，药品充足',
  hazard_add: '＋ 添加隐患',
  hazard_area: '所属方面',
  hazard_text: '隐患内容',
  hazard_remove: '删除此条',
  finish_visit: '完成探访',
  visit_done: ([name, min]) => `已完成对${name}的探访，用时 ${min} 分钟。`,
  hazard_ids: (ids) => `已登记隐患 ${ids}，请按期跟进。`,
  no_flags: '未发现异常标记。',
  act_my_visits: '获取探访名单', act_start_visit: '开始探访', act_finish_visit: '提交探访记录',
};

const en = {
  title: 'Anxin · Field',
  lang_other: '中文',
  username: 'Username',
  password: 'Password',
  login: 'Log in',
  logging_in: 'Logging in…',
  logout: 'Log out',
  login_failed: 'Wrong username or password',
  session_expired: 'Your session has expired. Please log in again.',
  connecting: 'Connecting to the server…',
  offline: 'Connection lost',
  reconnecting_in: (s) => `Reconnecting in ${s} s`,
  reconnecting: 'Reconnecting…',
  reconnect_now: 'Reconnect now',
  queued: (n) => `${n} action${n === 1 ? '' : 's'} waiting to send`,
  queued_one: (a) => `${a} saved; it will be sent when the connection is back`,
  on_duty: 'On duty',
  off_duty: 'Off duty',
  duty_label: 'Duty',
  enable_sound: 'Tap here to turn on the dispatch sound',
  duty_on_hint: 'Receiving dispatches',
  duty_off_hint: 'Not receiving dispatches',
  mode: 'Travel by',
  mode_walk: 'Walk',
  mode_ebike: 'E-bike',
  mode_car: 'Car',
  position: 'My position',
  gps_on: ([acc, ago]) => `GPS ±${acc} m · ${ago}`,
  last_pos: (ago) => `Last position sent · ${ago}`,
  gps_wait: 'Getting a GPS fix…',
  gps_denied: 'Location not allowed. Enter your position by hand.',
  gps_unavailable: 'Location is not available on this connection. Enter your position by hand.',
  manual_pos: (ago) => `Entered by hand · ${ago}`,
  no_pos: 'No position sent yet',
  lat: 'Latitude',
  lon: 'Longitude',
  send_pos: 'Send position',
  use_home: "Use the elder's home as my position",
  ago_s: (n) => `${n} s ago`,
  ago_min: (n) => `${n} min ago`,
  ago_h: (n) => `${n} h ago`,
  new_task: 'New dispatch',
  offer_expired: 'Offer expired',
  offer_expired_hint: 'It was not accepted in time; the centre will send someone else.',
  offer_withdrawn: 'Offer withdrawn',
  offer_withdrawn_hint: 'The service centre has closed this incident.',
  dismiss: 'OK',
  seconds_left: (n) => `${n} s left`,
  distance: 'Distance',
  eta: 'ETA',
  km: (n) => `${n} km`,
  m: (n) => `${n} m`,
  min: (n) => `${n} min`,
  reasons: 'Why it is urgent',
  accept: 'Accept',
  decline: 'Decline',
  decline_title: 'Reason for declining',
  decline_other: 'Other reason',
  decline_send: 'Decline',
  back: 'Back',
  current_task: 'Current task',
  step_en_route: 'En route',
  step_on_scene: 'On scene',
  step_complete: 'Complete',
  arrived: "I've arrived",
  call_elder: 'Call the elder',
  call: 'Call',
  navigate: 'Open in maps',
  contacts: 'Emergency contacts',
  family_doctor: 'Family doctor',
  complete_title: 'Completion report',
  outcome: 'Outcome (required)',
  outcome_ph: 'e.g. Blood pressure high; family informed',
  areas: 'Services given',
  notes: 'Notes',
  hazards: 'Hazards found',
  hazards_ph: 'e.g. Gas hose worn out',
  complete: 'Submit and complete',
  need_outcome: 'Please enter the outcome',
  my_tasks: 'My tasks',
  no_tasks: 'No tasks yet',
  age: (n) => `${n} y`,
  female: 'F',
  disability: (n) => `Disability grade ${n}`,
  male: 'M',
  completed_ok: 'Report sent. The task is complete.',
  task_cancelled: (name) => `The centre has closed the task for ${name}: no need to go on.`,
  failed: ([act, why, detail]) => `${act} failed: ${why} (${detail})`,
  act_accept: 'Accept', act_decline: 'Decline', act_on_scene: 'Arrival', act_complete: 'Completion report',
  act_duty: 'Duty change', act_position: 'Position', act_subscribe: 'Sync',
  standby: 'Standing by. A dispatch will ring.',
  off_hint: 'Go on duty to receive dispatches.',
  my_visits: "Today's visits",
  refresh: 'Refresh',
  visits_loading: "Getting today's visits…",
  visits_empty: 'No home visits today.',
  visits_updated: (time) => `In walking order · updated ${time}`,
  visits_failed: (why) => `Could not get the visit list: ${why}`,
  leg_first: (d) => `${d} from me`,
  leg_next: (d) => `${d} from the previous home`,
  due_on: (date) => `Due ${date}`,
  plan_every: ([n, per, mode]) => `Plan: ${n} a ${per} · ${mode}`,
  plan_raw: (p) => `Plan: ${p}`,
  start_visit: 'Start visit',
  start_encounter: 'Visit at the door instead',
  consent_needed: 'The elder has not agreed to visits at home: you can visit at the door.',
  one_at_a_time: 'Finish the visit in progress first.',
  getting_pos: 'Getting your position…',
  need_pos: 'No current position: allow location, or enter it under "My position", then try again.',
  visit_open: 'Visit in progress',
  visit_since: ([time, dist]) => `Started ${time}, ${dist} from the home`,
  finish_title: 'Visit record',
  visit_notes: 'How it went',
  visit_notes_ph: 'e.g. In good spirits, has enough medicine',
  hazard_add: '+ Add a hazard',
  hazard_area: 'Area',
  hazard_text: 'What is wrong',
  hazard_remove: 'Remove',
  finish_visit: 'Finish visit',
  visit_done: ([name, min]) => `Visit to ${name} finished: ${min} min.`,
  hazard_ids: (ids) => `Hazards recorded: ${ids}. Follow them up in time.`,
  no_flags: 'Nothing flagged.',
  act_my_visits: 'Visit list', act_start_visit: 'Start visit', act_finish_visit: 'Finish visit',
};

// Protocol codes -> [zh, en].
const codes = {
  // alert kinds (docs/protocol.md)
  'kind:smoke': ['烟雾报警', 'Smoke alarm'],
  'kind:gas': ['燃气泄漏报警', 'Gas alarm'],
  'kind:sos': ['一键呼叫求助', 'SOS call'],
  'kind:fall': ['疑似跌倒', 'Fall detected'],
  'kind:inactivity': ['长时间未活动', 'Lying still too long'],
  'kind:vital_abnormal': ['生命体征异常', 'Vital signs abnormal'],
  'kind:geofence_exit': ['走出安全区域', 'Left the safe area'],
  'kind:water_leak': ['漏水报警', 'Water leak'],
  'kind:door_open_long': ['门长时间未关', 'Door open too long'],
  'kind:bed_exit_long': ['离床时间过长', 'Out of bed too long'],
  'kind:no_water_use': ['24 小时未用水', 'No water use in 24 h'],
  'kind:low_battery': ['设备电量低', 'Device battery low'],
  'kind:offline': ['设备离线', 'Device offline'],
  // rank reasons (docs/ranking.md)
  'tier:key': ['重点人群', 'Key care group'],
  'tier:sub_key': ['次重点人群', 'Sub-key care group'],
  'living:alone': ['独居', 'Lives alone'],
  'living:elderly_only': ['纯老家庭', 'Elderly-only household'],
  'living:empty_nest': ['空巢', 'Empty nest'],
  'living:left_behind': ['留守', 'Left behind'],
  'living:with_family': ['与家人同住', 'Lives with family'],
  // the elder card
  'ability:mild': ['轻度失能', 'Mild loss of ability'],
  'ability:moderate': ['中度失能', 'Moderate loss of ability'],
  'ability:severe': ['重度失能', 'Severe loss of ability'],
  'ability:complete': ['完全失能', 'Complete loss of ability'],
  dementia: ['失智', 'Dementia'],
  no_consent: ['未同意入户探访', 'No consent to home visits'],
  'age:80': ['80 岁以上', 'Aged 80+'],
  'age:90': ['90 岁以上', 'Aged 90+'],
  'callback:no_answer': ['回拨无人接听', 'No answer on call-back'],
  'callback:needs_help': ['回拨时老人求助', 'Asked for help on call-back'],
  // assignment states
  'a:offered': ['待接单', 'Offered'],
  'a:accepted': ['前往中', 'En route'],
  'a:on_scene': ['已到场', 'On scene'],
  'a:completed': ['已完成', 'Completed'],
  'a:declined': ['已拒绝', 'Declined'],
  'a:expired': ['已超时', 'Expired'],
  'a:cancelled': ['已取消', 'Cancelled'],
  // the eight service areas of a visit (000 二.(三))
  'area:health': ['健康管理', 'Health'],
  'area:home_safety': ['居家安全', 'Home safety'],
  'area:policy': ['政策链接', 'Policy links'],
  'area:care_advice': ['养老顾问（防诈骗）', 'Care advice, fraud warnings'],
  'area:emotional': ['精神慰藉', 'Emotional support'],
  'area:activities': ['社区活动', 'Community activities'],
  'area:emergency': ['应急救援', 'Emergency help'],
  'area:green_channel': ['绿色通道', 'Green channel'],
  // visits: states, reasons, modes, flags (docs/visits.md)
  'tier:general': ['一般人群', 'General group'],
  'vstate:due': ['今日应访', 'Due today'],
  'vstate:late': ['已逾期', 'Late'],
  'vstate:done': ['已完成', 'Done'],
  'vstate:upcoming': ['未到期', 'Upcoming'],
  'vstate:missed': ['已错过', 'Missed'],
  'vreason:plan': ['按计划探访', 'Planned visit'],
  'vreason:phone_unreached': ['电话多次未接通', 'Not reached by phone'],
  'vreason:campaign': ['专项关爱', 'Campaign call'],
  'vreason:campaign_unreached': ['专项关爱未联系上', 'Not reached in the campaign'],
  'vreason:device': ['设备提示异常（未用水或久未活动）', 'Device: no water use or no movement'],
  'vmode:home': ['入户探访', 'at home'],
  'vmode:encounter': ['门口探访（不入户）', 'at the door'],
  'vmode:phone': ['电话探访', 'by phone'],
  'vmode:online': ['视频探访', 'online'],
  'flag:far_from_home': ['开始位置离老人住址较远，将由主管核查', 'Started far from the home: the supervisor will check'],
  'flag:too_short': ['探访时间过短，将由主管核查', 'Visit was short: the supervisor will check'],
  // decline reasons: the text sent is always the Chinese one (the centre's records are in Chinese)
  'decline:busy': ['正在另一户探访', 'On another visit'],
  'decline:far': ['距离太远', 'Too far away'],
  'decline:transport': ['交通不便', 'No transport'],
  'decline:unwell': ['身体不适', 'Not feeling well'],
  // error codes (docs/protocol.md), first as answers to one action
  'accept:E_BAD_STATE': ['派单已超时或已撤回', 'The offer has lapsed or was withdrawn'],
  'accept:E_UNKNOWN_ASSIGNMENT': ['派单已超时或已撤回', 'The offer has lapsed or was withdrawn'],
  'duty:E_BAD_STATE': ['有任务在身，不能离岗', 'You cannot go off duty during a task'],
  'start_visit:E_BAD_STATE': ['老人未同意入户探访', 'The elder has not agreed to visits at home'],
  'finish_visit:E_BAD_STATE': ['此次探访已经结束', 'This visit has already been finished'],
  'finish_visit:E_BAD_FIELD': ['探访记录有误或此次探访不存在', 'The record is not valid, or the visit is unknown'],
  OFFLINE: ['未连接服务器，请恢复连接后重试', 'Not connected; try again when the connection is back'],
  TIMEOUT: ['服务器没有回复，请重试', 'No reply from the server; try again'],
  E_BAD_JSON: ['请求格式有误', 'The request was malformed'],
  E_AUTH_FAILED: ['认证失败', 'Authentication failed'],
  E_THROTTLED: ['登录失败次数过多，请稍后再试', 'Too many failed logins; please wait and try again'],
  E_BAD_STATE: ['当前状态不允许此操作', 'Not allowed in the current state'],
  E_UNKNOWN_ASSIGNMENT: ['任务已失效', 'This task is no longer yours'],
  E_UNKNOWN_INCIDENT: ['事件已关闭', 'The incident is closed'],
  E_BAD_FIELD: ['填写内容有误', 'A value is not valid'],
  E_MISSING_FIELD: ['缺少必填内容', 'Something required is missing'],
  E_FORBIDDEN: ['无权限', 'Not allowed'],
  E_INTERNAL: ['服务器错误，请重试', 'Server fault; please try again'],
  E_STORAGE_FULL: ['服务器磁盘已满，暂时无法保存；请稍后重试，急事请电话联系中心',
    "The server's disk is full and cannot save anything; try again later, and phone the centre if it is urgent"],
  E_UNKNOWN_TYPE: ['服务器不支持此操作', 'The server does not support this'],
};

export const AREAS = ['health', 'home_safety', 'policy', 'care_advice', 'emotional', 'activities',
  'emergency', 'green_channel'];
export const DECLINE_REASONS = ['busy', 'far', 'transport', 'unwell'];

let lang = localStorage.getItem('anxin.lang') === 'en' ? 'en' : 'zh';

export function getLang() { return lang; }
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  localStorage.setItem('anxin.lang', lang);
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
}
setLang(lang);

// t('key') or t('key', arg) for the strings that take one.
export function t(key, arg) {
  const s = (lang === 'en' ? en : zh)[key] ?? zh[key] ?? key;
  return typeof s === 'function' ? s(arg) : s;
}

// A protocol code in the current language; unknown codes show as they are.
export function tc(code, which = lang) {
  const pair = codes[code];
  if (!pair) return code;
  return which === 'en' ? pair[1] : pair[0];
}

// A rank reason: "alerts:3" is counted, the rest are looked up.
export function reasonText(code) {
  const m = /^alerts:(\d+)$/.exec(code);
  if (m) return lang === 'en' ? `${m[1]} different alarms` : `${m[1]} 种报警同时发生`;
  return tc(code);
}

export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return t('ago_s', s);
  if (s < 90 * 60) return t('ago_min', Math.round(s / 60));
  return t('ago_h', Math.round(s / 3600));
}

export function distanceText(m) {
  return m >= 1000 ? t('km', (m / 1000).toFixed(1)) : t('m', Math.round(m));
}

export function etaText(s) {
  return t('min', Math.max(1, Math.round(s / 60)));
}

// "2026-12-01" as 12月1日 / 1 Dec.
export function dayText(date) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
  if (!m) return date || '';
  const month = Number(m[2]), day = Number(m[3]);
  if (lang !== 'en') return `${month}月${day}日`;
  return `${day} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][month - 1]}`;
}

// A plan as the server writes it ("1/week home") in words.
export function planText(plan) {
  const m = /^(\d+)\/(week|month) (\w+)$/.exec(plan || '');
  if (!m) return t('plan_raw', plan || '');
  return t('plan_every', [m[1], m[2], tc(`vmode:${m[3]}`)]);
}
