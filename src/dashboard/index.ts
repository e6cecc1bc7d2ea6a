export { createDashboardHandler, isLoopbackRequest, type DashboardHandler, type DashboardOptions } from './handler.js';
export { listenDashboard } from './listen.js';
export { DASHBOARD_HTML, DASHBOARD_CSP } from './page.js';
