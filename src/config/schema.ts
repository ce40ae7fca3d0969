import { z } from 'zod';
import type { Plugin } from '../plugins/types.js';
import { defaultConcurrency } from './default-config.js';
import { parseRegistryHost, ReferenceSyntaxError } from '../list/image-reference.js';

/** A command to run: an argument array, or a string split on spaces (no shell is ever involved). */
const command = z.union([z.string().min(1), z.array(z.string()).min(1)]);

/** `storage: { backend: 'filesystem', root: '/data/registry' }`; each backend validates its own keys. */
export const storageSchema = z.looseObject({
  backend: z.string().min(1),
});

export const gcSchema = z.strictObject({
  /** Run the registry's garbage collection after deleting. */
  enabled: z.boolean().default(true),
  /** The garbage-collect command; the backend supplies a default. */
  command: command.optional(),
  /** Pass `--delete-untagged`. Dangerous on 2.8 with multi-arch images: off unless asked for (refused on 2.x while an index exists). */
  deleteUntagged: z.boolean().default(false),
  /**
   * How GC is kept from racing pushes: `readonly` (restart read-only, GC, restart writable),
   * `stopped` (stop, GC, start) or `online` (GC in the serving registry; pushes meanwhile can
   * be lost). `auto`: the safest the backend can do — readonly, else stopped, else online.
   */
  mode: z.enum(['auto', 'online', 'readonly', 'stopped']).default('auto'),
  /** Run GC with `--dry-run`: report what it would delete, delete nothing (no restart needed). */
  dryRun: z.boolean().default(false),
});

export const restartSchema = z.strictObject({
  /** Restart the registry after a garbage collection that ran, so it drops its stale blob cache. */
  enabled: z.boolean().default(true),
  /** The restart command, e.g. `systemctl restart docker-registry`; the backend may supply one. */
  command: command.optional(),
  /** How long to wait for `/v2/` to answer again after the restart (and how long its commands may take). */
  timeoutSeconds: z.number().int().positive().default(120),
  /** Filesystem backend: restarts the registry read-only (`storage.maintenance.readonly`), for gc.mode readonly. */
  readOnlyCommand: command.optional(),
  /** Filesystem backend: stop and start the registry, for gc.mode stopped. */
  stopCommand: command.optional(),
  startCommand: command.optional(),
});

export const registrySchema = z.strictObject({
  /** Base URL; default `https://<host>`, or `http://` for loopback and `insecure` hosts. */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Like Docker's insecure-registries: plain `http://` unless `url` says `https://`, and then
   * the certificate is not verified (with a warning on every run).
   */
  insecure: z.boolean().default(false),
  /** A PEM file with the CA that signed the registry's certificate (a private CA). */
  ca: z.string().min(1).optional(),
  /** A client certificate and its key (PEM files), for registries that require mTLS. */
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** Seconds a request may take before it counts as failed (and, for reads, is retried). */
  timeoutSeconds: z.number().positive().default(30),
  /** How often a read (or a request that never reached the registry) is retried on a connection error, 429 or 5xx. */
  retries: z.number().int().min(0).max(10).default(4),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Name of an environment variable holding the password (keeps it out of the config file). */
  passwordEnv: z.string().optional(),
  /** A bearer token sent as is. */
  token: z.string().optional(),
  /** Storage of this registry (instead of the top-level `storage`). */
  storage: storageSchema.optional(),
  /** GC and restart keys for this registry: the same keys without defaults, so each key given overrides the top-level one. */
  gc: gcSchema.extend({ enabled: z.boolean().optional(), deleteUntagged: z.boolean().optional(), mode: gcSchema.shape.mode.unwrap().optional(), dryRun: z.boolean().optional() }).optional(),
  restart: restartSchema.extend({ enabled: z.boolean().optional(), timeoutSeconds: z.number().int().positive().optional() }).optional(),
});

/** A plugin object, a module specifier, or `[specifier, options]` (for JSON/YAML configs). */
const pluginEntry = z.union([
  z.custom<Plugin>((value) => typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Plugin).name === 'string', {
    message: 'expected a plugin (an object with a name), a module name, or [module, options]',
  }),
  z.string().min(1),
  z.tuple([z.string().min(1), z.unknown()]),
]);

/** A `registries` key: `host[:port]` as image references name the registry. */
const registryHost = z.string().superRefine((key, context) => {
  try {
    // Image references and --registry name hosts in lowercase: a key in capitals would never match.
    const host = parseRegistryHost(key);
    if (host !== key) context.addIssue({ code: 'custom', message: `write the registry host in lowercase, as image references name it: "${host}"` });
  } catch (error) {
    if (!(error instanceof ReferenceSyntaxError)) throw error;
    context.addIssue({ code: 'custom', message: `${error.message}; registries are keyed by host[:port] as image references name them` });
  }
});

export const configSchema = z.strictObject({
  /** The image list; default `registry-images-clean.txt` in the current directory. */
  file: z.string().min(1).optional(),
  /** Per registry host (`host[:port]` as in image references). */
  registries: z.record(registryHost, registrySchema).default({}),
  /** Storage of the registry: needed to prune emptied repositories and to run GC. */
  storage: storageSchema.optional(),
  gc: gcSchema.prefault({}),
  restart: restartSchema.prefault({}),
  /** Requests in flight at once per registry. */
  concurrency: z.number().int().min(1).max(256).default(defaultConcurrency),
  plugins: z.array(pluginEntry).default([]),
});

/** What users write (every default optional). */
export type UserConfig = z.input<typeof configSchema>;
/** What code reads (defaults filled in). */
export type Config = z.output<typeof configSchema>;
export type RegistrySettings = z.output<typeof registrySchema>;
export type StorageSettings = z.output<typeof storageSchema>;
export type GcSettings = z.output<typeof gcSchema>;
export type RestartSettings = z.output<typeof restartSchema>;
