import { describe, expect, it } from 'vitest';
import type { LsResult } from '../../src/commands/ls.js';
import { ListingJsonWriter } from '../../src/listing/listing-json-writer.js';

/** What the streamed `rc ls --json` prints for a document, written the way ls writes it. */
function streamed(document: LsResult): string {
  let out = '';
  const writer = new ListingJsonWriter((text) => (out += text));
  writer.begin();
  for (const registry of document.registries) {
    writer.beginRegistry(registry.registry, registry.url);
    for (const repository of registry.repositories) writer.repository(repository);
    writer.endRegistry(registry.error);
  }
  writer.end();
  return out;
}

describe('rc ls --json streamed a repository at a time', () => {
  const cases: Record<string, LsResult> = {
    'no registry': { registries: [] },
    'an empty registry': { registries: [{ registry: '127.0.0.1:5000', url: 'http://127.0.0.1:5000', repositories: [] }] },
    'registries with tags, digests, a repository without tags and a listing cut short': {
      registries: [
        {
          registry: '127.0.0.1:5000',
          url: 'http://127.0.0.1:5000',
          repositories: [
            { name: 'demo/nginx', tags: [{ tag: '1.26', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.index.v1+json' }, { tag: 'stable' }] },
            { name: 'empty', tags: [] },
            // A field present but undefined is left out, as JSON.stringify leaves it out.
            { name: 'unicode/ünï', tags: [{ tag: 'v1', digest: `sha256:${'b'.repeat(64)}`, mediaType: undefined }, { tag: 'v2' }] },
          ],
        },
        { registry: 'reg.example:443', url: 'https://reg.example', repositories: [{ name: 'a "quoted" \\ name', tags: [{ tag: 'x' }] }], error: 'cannot reach registry "x"\nline two' },
        { registry: 'down:5000', url: 'http://down:5000', repositories: [], error: 'refused' },
      ],
    },
  };
  for (const [name, document] of Object.entries(cases)) {
    it(`prints exactly the pretty-printed document: ${name}`, () => {
      expect(streamed(document)).toBe(`${JSON.stringify(document, null, 2)}\n`);
    });
  }
});
