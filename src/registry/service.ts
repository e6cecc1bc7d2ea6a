import { isAbsolute, relative, resolve, sep } from 'node:path';
import { RegistryError, RegistryStore } from './registry-store.js';

/** Registry directories kept open at once by default; the least recently opened is dropped first. */
export const DEFAULT_MAX_OPEN_STORES = 64;

/**
 * The registries a daemon serves. `registry_path` may pick another directory, but only one inside
 * the configured registry dir (a relative path is taken from there; an absolute one must already
 * be inside it), so a client can keep separate registries without writing elsewhere on disk.
 * With no registry dir configured every call is refused.
 */
export class RegistryService {
  private readonly stores = new Map<string, RegistryStore>();

  constructor(
    readonly root: string | null,
    private readonly maxOpenStores: number = DEFAULT_MAX_OPEN_STORES,
  ) {}

  store(registryPath?: string): RegistryStore {
    if (this.root === null) {
      throw new RegistryError('the registry is not available: this daemon was started without a registry directory', 'unavailable');
    }
    const root = resolve(this.root);
    const dir = registryPath === undefined ? root : resolve(root, registryPath);
    const rel = relative(root, dir);
    if (rel !== '' && (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))) {
      throw new RegistryError('registry_path must be inside the registry directory', 'invalid', 'registry_path');
    }
    let store = this.stores.get(dir);
    if (!store) {
      if (this.stores.size >= this.maxOpenStores) this.stores.delete(this.stores.keys().next().value!);
      store = new RegistryStore(dir);
      this.stores.set(dir, store);
    }
    return store;
  }
}
