import type { RepositoryListing } from './walk-registry.js';

/**
 * Writes `rc ls --json`'s document a repository at a time, byte for byte what
 * `JSON.stringify({ registries }, null, 2)` would print, without ever holding the whole
 * listing: a registry with 100,000 tags streams through a few repositories' worth of memory.
 */
export class ListingJsonWriter {
  private registries = 0;
  private repositories = 0;

  constructor(private readonly write: (text: string) => void) {}

  begin(): void {
    this.write('{\n  "registries": [');
  }

  beginRegistry(registry: string, url: string): void {
    this.write(`${this.registries++ > 0 ? ',' : ''}\n    {\n      "registry": ${json(registry)},\n      "url": ${json(url)},\n      "repositories": [`);
    this.repositories = 0;
  }

  /**
   * One repository, printed by hand as `JSON.stringify(listing, null, 2)` would, indented: V8's
   * pretty-printing path, plus re-indenting its lines, was 16 µs a tag (a fifth of `rc ls`'s own
   * CPU at 10,000 tags); only the strings go through JSON.stringify.
   */
  repository(listing: RepositoryListing): void {
    let text = `${this.repositories++ > 0 ? ',' : ''}\n${indent}{\n${indent}  "name": ${json(listing.name)},\n${indent}  "tags": [`;
    for (let i = 0; i < listing.tags.length; i++) {
      text += `${i > 0 ? ',' : ''}\n${indent}    {`;
      let fields = 0;
      for (const [key, value] of Object.entries(listing.tags[i]!)) {
        // As JSON.stringify: a field that is undefined is left out.
        if (value === undefined) continue;
        text += `${fields++ > 0 ? ',' : ''}\n${indent}      ${json(key)}: ${json(value)}`;
      }
      text += fields > 0 ? `\n${indent}    }` : '}';
    }
    text += listing.tags.length > 0 ? `\n${indent}  ]\n${indent}}` : `]\n${indent}}`;
    this.write(text);
  }

  /** Closes the registry's repositories, with the error that cut its listing short, if any. */
  endRegistry(error?: string): void {
    const close = this.repositories > 0 ? '\n      ]' : ']';
    this.write(`${close}${error === undefined ? '' : `,\n      "error": ${json(error)}`}\n    }`);
  }

  end(): void {
    this.write(`${this.registries > 0 ? '\n  ]' : ']'}\n}\n`);
  }
}

/** Where a repository sits: registries → registry → repositories → repository. */
const indent = ' '.repeat(8);

function json(value: string): string {
  return JSON.stringify(value);
}
