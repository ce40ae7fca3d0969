import type * as z from 'zod/mini';
import { keyIssues, type KeyIssue } from '../config/issue-message.js';
import { configProblem } from '../config/locate-key.js';
import type { StorageSettings } from '../config/schema.js';
import { InputError } from '../errors/input-error.js';
import type { PluginRegistry } from './plugin-registry.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { Backend, BackendContext } from './types.js';

/**
 * Creates the backend a `storage` block names, after validating the block with the backend's
 * own schema; every problem is a config error naming the file, line and key.
 */
export async function createBackend(
  storage: StorageSettings,
  plugins: PluginRegistry,
  context: BackendContext,
  where: { file: string; keyPath: string[] },
): Promise<Backend> {
  const name = where.keyPath.join('.');
  const definition = plugins.backend(storage.backend);
  if (!definition) {
    const known = plugins.backendList().map((b) => b.id).join(', ');
    throw new InputError('unknown storage backend; nothing was touched', [
      await configProblem(where.file, [...where.keyPath, 'backend'], `${name}.backend: unknown backend "${storage.backend}" (known: ${known})`),
    ]);
  }
  const { backend: _id, ...rest } = storage;
  const validated = await definition.options['~standard'].validate(rest);
  if (validated.issues) {
    const issues = isZodSchema(definition.options) ? (definition.options.safeParse(rest).error?.issues.flatMap(keyIssues) ?? []) : validated.issues.map(standardIssue);
    const problems = await Promise.all(
      issues.map(({ path: keys, message }) => configProblem(where.file, [...where.keyPath, ...keys], `${[name, ...keys].join('.')}: ${message}`)),
    );
    throw new InputError(`invalid options for storage backend "${storage.backend}"; nothing was touched`, problems);
  }
  return definition.create(validated.value, context);
}

/** zod gives richer issues (one per unknown key); other libraries' come through Standard Schema. */
function isZodSchema(schema: unknown): schema is { safeParse(value: unknown): { error?: { issues: z.core.$ZodIssue[] } } } {
  return typeof (schema as { safeParse?: unknown }).safeParse === 'function' && (schema as StandardSchemaV1)['~standard'].vendor === 'zod';
}

function standardIssue(issue: { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }): KeyIssue {
  const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment));
  return { path, message: issue.message };
}
