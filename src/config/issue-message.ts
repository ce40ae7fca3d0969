import type * as z from 'zod/mini';

export interface KeyIssue {
  /** The key path the issue is about, e.g. ['storage', 'root']. */
  path: string[];
  message: string;
}

/**
 * A zod issue in the words of a config error, one per key: `storage.rootdirectory: unknown key`,
 * `storage.root: missing (expected string)` rather than `received undefined`.
 */
export function keyIssues(issue: z.core.$ZodIssue): KeyIssue[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
  // A record key that breaks its own rule (a registry host): the rule's words, at the key.
  if (issue.code === 'invalid_key') return issue.issues.map((inner) => ({ path, message: inner.message }));
  const message = issue.message.replace(/^Invalid input: /, '').replace(/^expected (\w+), received undefined$/, 'missing (expected $1)');
  return [{ path, message }];
}
