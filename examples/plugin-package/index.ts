/**
 * registry-clean-plugin-max-deletions: a safety net for generated image lists. After planning
 * and before anything is deleted, it counts the images the run is about to delete and stops the
 * run (exit 1, nothing deleted) when there are more than `max`.
 *
 * Shipped as TypeScript: registry-clean loads plugins through jiti, so neither the package nor
 * its users need a build step or the `typescript` package.
 *
 *   { "plugins": [["registry-clean-plugin-max-deletions", { "max": 50 }]] }
 */
import { definePlugin, type StepContext, type StepIO } from 'registry-clean';

export interface MaxDeletionsOptions {
  /** The most images one run may delete (a dry run counts what it would delete). */
  max: number;
}

export default definePlugin((options: MaxDeletionsOptions) => {
  const max = options?.max;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) {
    throw new Error('plugin max-deletions: the "max" option must be a whole number ≥ 0, e.g. ["registry-clean-plugin-max-deletions", { "max": 50 }]');
  }
  return {
    name: 'max-deletions',
    steps: [
      {
        id: 'max-deletions',
        title: `Check at most ${max} images are deleted`,
        // The plan exists from "resolve" on; "delete" has not started yet.
        after: 'resolve',
        async run(ctx: StepContext, io: StepIO) {
          const planned = ctx.images.filter((image) => image.status === 'pending' && image.method !== undefined);
          if (planned.length > max) {
            throw new Error(
              `the list would delete ${planned.length} images, more than the ${max} allowed; nothing was deleted (raise "max" if this is intended)`,
            );
          }
          io.title(`Check at most ${max} images are deleted: ${planned.length} planned`);
        },
      },
    ],
  };
});
