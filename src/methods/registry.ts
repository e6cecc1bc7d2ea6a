import { z } from 'zod';
import { REGISTRY_STATUSES } from '../registry/index.js';
import { defineMethod } from '../contract/index.js';

/** Another registry directory: absolute, or relative to the daemon's registry dir (see RegistryService). */
const registryPath = z.string().min(1).max(4096).optional();
/** Unix seconds (0 = now) or RFC 3339. */
const time = z.union([z.number().nonnegative().max(Number.MAX_SAFE_INTEGER / 1000), z.string().max(64)]).optional();
const name = z.string().min(1).max(128);

const entrySchema = z
  .object({
    name,
    dashboard_url: z.string().min(1).max(2048),
    status: z.enum(REGISTRY_STATUSES).optional(),
    display_name: z.string().max(256).optional(),
    capability: z.string().max(256).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    pid: z.number().int().nonnegative().optional(),
    registered_at: time,
    last_heartbeat_at: time,
    last_heartbeat: time,
  })
  .strip();

export const registryRegister = defineMethod({
  name: 'registry.register',
  summary: 'Register (or replace) a product entry; missing or zero timestamps are filled with now.',
  params: z.object({ entry: entrySchema, registry_path: registryPath }),
  async handler(p, ctx) {
    await ctx.state.registry.store(p.registry_path).register(p.entry);
    return null;
  },
});

export const registryHeartbeat = defineMethod({
  name: 'registry.heartbeat',
  summary: 'Refresh an entry\'s heartbeat; refreshed is false when the name is not registered.',
  params: z.object({ name, registry_path: registryPath }),
  async handler(p, ctx) {
    return { refreshed: await ctx.state.registry.store(p.registry_path).heartbeat(p.name) };
  },
});

export const registryUnregister = defineMethod({
  name: 'registry.unregister',
  summary: 'Remove an entry; removing an absent one succeeds.',
  params: z.object({ name, registry_path: registryPath }),
  async handler(p, ctx) {
    await ctx.state.registry.store(p.registry_path).unregister(p.name);
    return null;
  },
});

export const registryList = defineMethod({
  name: 'registry.list',
  summary: 'Every registered entry, sorted by name; unreadable files are skipped.',
  params: z.object({ registry_path: registryPath }).loose().optional(),
  async handler(p, ctx) {
    return ctx.state.registry.store(p?.registry_path).list();
  },
});

export const registryReap = defineMethod({
  name: 'registry.reap',
  summary: 'Remove entries with no heartbeat for max_age_secs (60 by default); returns their names.',
  params: z.object({ max_age_secs: z.number().nonnegative().optional(), registry_path: registryPath }).loose().optional(),
  async handler(p, ctx) {
    return ctx.state.registry.store(p?.registry_path).reap(p?.max_age_secs ?? 60);
  },
});

export const registryMethods = [registryRegister, registryHeartbeat, registryUnregister, registryList, registryReap];
