export {
  RegistryStore,
  RegistryError,
  REGISTRY_NAME,
  REGISTRY_STATUSES,
  type RegistryEntry,
  type RegistryEntryInput,
  type RegistryStatus,
} from './registry-store.js';
export { RegistryService } from './service.js';
