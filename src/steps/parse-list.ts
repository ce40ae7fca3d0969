import { imageListFromArguments, readImageList } from '../list/image-list.js';
import { buildTargets } from '../pipeline/build-targets.js';
import { plural } from '../util/plural.js';
import type { CleanContext } from '../pipeline/context.js';
import type { Step } from '../pipeline/step.js';

/** Reads and validates the whole list (and the registries it names) before anything is touched. */
export const parseListStep: Step<CleanContext> = {
  id: 'parse-list',
  title: 'Read the image list',
  async run(ctx, io) {
    const source = ctx.options.source;
    ctx.list = 'file' in source ? await readImageList(source.file) : imageListFromArguments(source.images);
    for (const duplicate of ctx.list.duplicates) {
      io.warn(`${duplicate.ref.text} is listed more than once (${duplicate.file} lines ${duplicate.lines.join(', ')}); handled once`);
    }
    // The list is fixed from here on: nothing (no plugin) can add an image or change a reference.
    ctx.images = Object.freeze(
      ctx.list.entries.map((entry) => ({
        image: entry.ref.text,
        // Frozen where it is, not copied: a spread-then-frozen copy gets a hidden class of its own (~200 bytes an image).
        ref: Object.freeze(entry.ref),
        source: Object.freeze({ file: entry.file, line: entry.line }),
        status: 'pending' as const,
      })),
    ) as CleanContext['images'];
    const hosts = [...new Set(ctx.images.map((image) => image.ref.registry))];
    ctx.registries = await buildTargets(hosts, ctx.config, ctx.plugins, {
      concurrency: ctx.options.concurrency,
      configFile: ctx.configFile,
      configDir: ctx.configDir,
      warn: (message) => io.warn(message),
    });
    const where = 'file' in source ? source.file : 'arguments';
    io.title(
      ctx.images.length === 0
        ? `Read the image list: ${where} lists no images`
        : `Read the image list: ${plural(ctx.images.length, 'image')} on ${plural(hosts.length, 'registry', 'registries')} from ${where}`,
    );
  },
};
