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

  repository(listing: RepositoryListing): void {
    const nested = JSON.stringify(listing, null, 2).replaceAll('\n', `\n${indent}`);
    this.write(`${this.repositories++ > 0 ? ',' : ''}\n${indent}${nested}`);
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
