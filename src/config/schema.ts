import * as z from 'zod/mini';
import type { Plugin } from '../plugins/types.js';
import { defaultConcurrency } from './default-config.js';
import { nonEmptyString } from './non-empty-string.js';
import { parseRegistryHost, ReferenceSyntaxError } from '../list/image-reference.js';
// zod/mini rather than zod, for start-up: see zod-locale.ts, which gives it zod's English messages.
import './zod-locale.js';

const positiveInt = () => z.int().check(z.positive());
const gcMode = z.enum(['auto', 'online', 'readonly', 'stopped']);

/** A command to run: an argument array, or a string split on spaces (no shell is ever involved). */
const command = z.union([nonEmptyString(), z.array(z.string()).check(z.minLength(1))]);

/** `storage: { backend: 'filesystem', root: '/data/registry' }`; each backend validates its own keys. */
export const storageSchema = z.looseObject({
  backend: nonEmptyString(),
});

export const gcSchema = z.strictObject({
  /** Run the registry's garbage collection after deleting. */
  enabled: z._default(z.boolean(), true),
  /** The garbage-collect command; the backend supplies a default. */
  command: z.optional(command),
  /** Pass `--delete-untagged`. Dangerous on 2.8 with multi-arch images: off unless asked for (refused on 2.x while an index exists). */
  deleteUntagged: z._default(z.boolean(), false),
  /**
   * How GC is kept from racing pushes: `readonly` (restart read-only, GC, restart writable),
   * `stopped` (stop, GC, start) or `online` (GC in the serving registry; pushes meanwhile can
   * be lost). `auto`: the safest the backend can do — readonly, else stopped, else online.
   */
  mode: z._default(gcMode, 'auto'),
  /** Run GC with `--dry-run`: report what it would delete, delete nothing (no restart needed). */
  dryRun: z._default(z.boolean(), false),
});

export const restartSchema = z.strictObject({
  /** Restart the registry after a garbage collection that ran, so it drops its stale blob cache. */
  enabled: z._default(z.boolean(), true),
  /** The restart command, e.g. `systemctl restart docker-registry`; the backend may supply one. */
  command: z.optional(command),
  /** How long to wait for `/v2/` to answer again after the restart (and how long its commands may take). */
  timeoutSeconds: z._default(positiveInt(), 120),
  /** Filesystem backend: restarts the registry read-only (`storage.maintenance.readonly`), for gc.mode readonly. */
  readOnlyCommand: z.optional(command),
  /** Filesystem backend: stop and start the registry, for gc.mode stopped. */
  stopCommand: z.optional(command),
  startCommand: z.optional(command),
});

export const registrySchema = z.strictObject({
  /** Base URL; default `https://<host>`, or `http://` for loopback and `insecure` hosts. */
  url: z.optional(z.url({ protocol: /^https?$/ })),
  /**
   * Like Docker's insecure-registries: plain `http://` unless `url` says `https://`, and then
   * the certificate is not verified (with a warning on every run).
   */
  insecure: z._default(z.boolean(), false),
  /** A PEM file with the CA that signed the registry's certificate (a private CA). */
  ca: z.optional(nonEmptyString()),
  /** A client certificate and its key (PEM files), for registries that require mTLS. */
  cert: z.optional(nonEmptyString()),
  key: z.optional(nonEmptyString()),
  /** Seconds a request may take before it counts as failed (and, for reads, is retried). */
  timeoutSeconds: z._default(z.number().check(z.positive()), 30),
  /** How often a read (or a request that never reached the registry) is retried on a connection error, 429 or 5xx. */
  retries: z._default(z.int().check(z.minimum(0), z.maximum(10)), 4),
  username: z.optional(z.string()),
  password: z.optional(z.string()),
  /** Name of an environment variable holding the password (keeps it out of the config file). */
  passwordEnv: z.optional(z.string()),
  /** A bearer token sent as is. */
  token: z.optional(z.string()),
  /** Storage of this registry (instead of the top-level `storage`). */
  storage: z.optional(storageSchema),
  /** GC and restart keys for this registry: the same keys without defaults, so each key given overrides the top-level one. */
  gc: z.optional(z.extend(gcSchema, { enabled: z.optional(z.boolean()), deleteUntagged: z.optional(z.boolean()), mode: z.optional(gcMode), dryRun: z.optional(z.boolean()) })),
  restart: z.optional(z.extend(restartSchema, { enabled: z.optional(z.boolean()), timeoutSeconds: z.optional(positiveInt()) })),
});

/** A plugin object, a module specifier, or `[specifier, options]` (for JSON/YAML configs). */
const pluginEntry = z.union([
  z.custom<Plugin>((value) => typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Plugin).name === 'string', {
    message: 'expected a plugin (an object with a name), a module name, or [module, options]',
  }),
  nonEmptyString(),
  z.tuple([nonEmptyString(), z.unknown()]),
]);

/** A `registries` key: `host[:port]` as image references name the registry. */
const registryHost = z.string().check(
  z.superRefine((key: string, context) => {
    try {
      // Image references and --registry name hosts in lowercase: a key in capitals would never match.
      const host = parseRegistryHost(key);
      if (host !== key) context.addIssue({ code: 'custom', message: `write the registry host in lowercase, as image references name it: "${host}"` });
    } catch (error) {
      if (!(error instanceof ReferenceSyntaxError)) throw error;
      context.addIssue({ code: 'custom', message: `${error.message}; registries are keyed by host[:port] as image references name them` });
    }
  }),
);

export const configSchema = z.strictObject({
  /** The image list; default `registry-images-clean.txt` in the current directory. */
  file: z.optional(nonEmptyString()),
  /** Per registry host (`host[:port]` as in image references). */
  registries: z._default(z.record(registryHost, registrySchema), {}),
  /** Storage of the registry: needed to prune emptied repositories and to run GC. */
  storage: z.optional(storageSchema),
  gc: z.prefault(gcSchema, {}),
  restart: z.prefault(restartSchema, {}),
  /** Requests in flight at once per registry. */
  concurrency: z._default(z.int().check(z.minimum(1), z.maximum(256)), defaultConcurrency),
  plugins: z._default(z.array(pluginEntry), []),
});

/** What users write (every default optional). */
export type UserConfig = z.input<typeof configSchema>;
/** What code reads (defaults filled in). */
export type Config = z.output<typeof configSchema>;
export type RegistrySettings = z.output<typeof registrySchema>;
export type StorageSettings = z.output<typeof storageSchema>;
export type GcSettings = z.output<typeof gcSchema>;
export type RestartSettings = z.output<typeof restartSchema>;
