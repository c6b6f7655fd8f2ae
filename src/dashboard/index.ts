/** taskchart/dashboard: a live web dashboard of a TaskEngine. */
export { serveDashboard, DASHBOARD_LAYOUT_LIMIT, DASHBOARD_MAX_BATCH, type Dashboard, type DashboardOptions, type DashboardEngine } from './server.js';
export type { TaskJson, StateJson, ErrorJson, EventJson } from './snapshot.js';
