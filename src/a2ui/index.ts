export {
  A2UI_ACTION_VERSION,
  A2UI_EXTENSION_URI,
  A2UI_MEDIA_TYPE,
  A2UI_VERSIONS,
  BASIC_CATALOG,
  CATALOGS,
  MINIMAL_CATALOG,
  SUPPORTED_CATALOG_IDS,
  findCatalog,
  type Catalog,
  type ComponentSpec,
} from './catalog.js';
export { parseMessage, toEnvelope, type A2uiComponent, type A2uiMessage } from './envelope.js';
export { extractA2ui } from './extract.js';
export { A2uiSurfaceStore, type A2uiStoreLimits, type ApplyOptions, type ApplyOutcome, type RefusalReason } from './store.js';
export { publicOwner, type PublicOwner, type Surface, type SurfaceOwner } from './surface.js';
export {
  A2uiService,
  type A2uiAction,
  type A2uiEvent,
  type A2uiEventSink,
  type A2uiServiceOptions,
  type ActionRoute,
  type HostEventHook,
} from './service.js';
export { IterationBudget, OscillationDetector, DEFAULT_MAX_ITERATIONS, DEFAULT_OSCILLATION_WINDOW } from './ui-loop.js';
