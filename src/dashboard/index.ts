/** taskchart/dashboard: a live web dashboard of a TaskEngine. */
export {
  serveDashboard,
  DASHBOARD_LAYOUT_LIMIT,
  DASHBOARD_MAX_BATCH,
  type Dashboard,
  type DashboardOptions,
  type DashboardEngine,
  type TaskDetailJson,
} from './server.js';
export type { TaskJson, StateJson, ErrorJson, EventJson } from './snapshot.js';
export {
  DASHBOARD_MAX_MESSAGES,
  DASHBOARD_MAX_ATTEMPTS,
  DASHBOARD_MAX_HISTORIES,
  type AttemptJson,
  type MessageJson,
  type HistoryJson,
  type StatechartJson,
} from './history.js';
