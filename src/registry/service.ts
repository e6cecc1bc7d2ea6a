import { isAbsolute, relative, resolve, sep } from 'node:path';
import { RegistryError, RegistryStore } from './registry-store.js';

/** Registry directories kept open at once by default; the least recently opened is dropped first. */
export const DEFAULT_MAX_OPEN_STORES = 64;

/**
 * The registries a daemon serves. `registry_path` picks another directory: an absolute path is
 * used as given (created 0700 on first write), a relative one is taken from the configured
 * registry dir and may not climb out of it. Without a configured dir, only an absolute
 * `registry_path` is served.
 */
export class RegistryService {
  private readonly stores = new Map<string, RegistryStore>();

  constructor(
    readonly root: string | null,
    private readonly maxOpenStores: number = DEFAULT_MAX_OPEN_STORES,
  ) {}

  store(registryPath?: string): RegistryStore {
    if (registryPath !== undefined && registryPath.includes('\0')) {
      throw new RegistryError('registry_path must not contain a NUL character', 'invalid', 'registry_path');
    }
    const absolute = registryPath !== undefined && isAbsolute(registryPath);
    if (this.root === null && !absolute) {
      throw new RegistryError('the registry is not available: this daemon was started without a registry directory', 'unavailable');
    }
    let dir: string;
    if (absolute) {
      dir = resolve(registryPath);
    } else {
      const root = resolve(this.root!);
      dir = registryPath === undefined ? root : resolve(root, registryPath);
      const rel = relative(root, dir);
      if (rel !== '' && (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))) {
        throw new RegistryError('a relative registry_path must stay inside the registry directory (give an absolute path for another location)', 'invalid', 'registry_path');
      }
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
