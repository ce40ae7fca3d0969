/**
 * protect-tags: keeps listed images whose tag matches a protection pattern — a release tag
 * that slipped into a generated list stays. They are reported `skipped` with the reason, and
 * exit status stays 0; a listed tag that shares the protected tag's digest is then removed on
 * its own (the protected tag and its manifest survive).
 *
 *   import protectTags from './examples/protect-tags/index.ts';
 *   export default defineConfig({ plugins: [protectTags({ patterns: ['latest', 'v*', '/^release-\\d+$/'] })] });
 *
 * Patterns, each matched against the tag alone (not the repository):
 *   - `/source/flags` — a JavaScript RegExp (`/^v\d+\.\d+$/`, `/-rc\d*$/i`). Not anchored unless you anchor it.
 *   - anything else — a glob matched against the whole tag: `*` is any run of characters
 *     (also none), `?` exactly one; every other character is literal: `v1.*` matches `v1.2`
 *     and `v1.2.3`, but not `v10` or `xv1.2`.
 *
 * An image listed by digest (`repo@sha256:…`) is kept too when any tag on that digest is
 * protected: deleting the manifest would take the protected tag with it.
 */
import { definePlugin, type StepContext, type StepIO } from 'registry-clean';

export interface ProtectTagsOptions {
  /** Globs (`*`, `?`) matched against the whole tag, or `/regexp/flags`. */
  patterns: string[];
}

export const pluginName = 'protect-tags';

export default definePlugin((options: ProtectTagsOptions) => {
  const rules = compile(options?.patterns);
  return {
    name: pluginName,
    steps: [
      {
        id: 'protect-tags',
        title: 'Keep protected tags',
        // After planning (digests and sibling tags are known), before anything is deleted.
        after: 'resolve',
        async run(ctx: StepContext, io: StepIO) {
          let kept = 0;
          for (const image of ctx.images) {
            if (image.status !== 'pending') continue;
            // A tag reference protects itself; a digest reference is protected by any tag it would take along.
            const tags = image.ref.tag !== undefined ? [image.ref.tag] : (image.removedTags ?? []);
            const hit = tags.flatMap((tag) => rules.filter((rule) => rule.test(tag)).map((rule) => ({ tag, rule })))[0];
            if (!hit) continue;
            const reason =
              image.ref.tag !== undefined
                ? `tag ${hit.tag} is protected by pattern ${hit.rule.pattern} (protect-tags)`
                : `it carries tag ${hit.tag}, protected by pattern ${hit.rule.pattern} (protect-tags)`;
            ctx.veto(image.image, reason);
            io.info(`kept ${image.image}: ${reason}`);
            kept++;
          }
          io.title(`Keep protected tags: ${kept} kept`);
        },
      },
    ],
  };
});

export interface Rule {
  /** As written in the config. */
  pattern: string;
  test(tag: string): boolean;
}

/** Turns the configured patterns into matchers; an invalid one fails the config load, naming it. */
export function compile(patterns: unknown): Rule[] {
  if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === 'string' && p !== '')) {
    throw new Error(`plugin ${pluginName}: "patterns" must be a non-empty array of strings (globs like "v*" or RegExps like "/^v\\d+$/")`);
  }
  return patterns.map((pattern: string): Rule => {
    const regexp = /^\/(.+)\/([a-z]*)$/.exec(pattern);
    if (regexp) {
      let compiled: RegExp;
      try {
        compiled = new RegExp(regexp[1] as string, regexp[2]);
      } catch (error) {
        throw new Error(`plugin ${pluginName}: pattern ${pattern} is not a valid RegExp: ${(error as Error).message}`);
      }
      // Without the g/y flags `test` keeps no state between calls.
      const flags = compiled.flags.replace(/[gy]/g, '');
      const safe = new RegExp(compiled.source, flags);
      return { pattern, test: (tag) => safe.test(tag) };
    }
    const glob = new RegExp(`^${pattern.split('').map(globChar).join('')}$`);
    return { pattern, test: (tag) => glob.test(tag) };
  });
}

function globChar(char: string): string {
  if (char === '*') return '.*';
  if (char === '?') return '.';
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
