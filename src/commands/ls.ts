import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { ExitCode, exitCodeHelp } from '../errors/exit-codes.js';
import { registriesInvolved } from '../cli/registries-involved.js';
import { displayPath } from '../config/load-config.js';
import { ListingJsonWriter } from '../listing/listing-json-writer.js';
import { type RepositoryListing, walkRegistry } from '../listing/walk-registry.js';
import { connectRegistry } from '../registry/connect-registry.js';

/** The document `rc ls --json` prints. */
export interface LsResult {
  registries: Array<{ registry: string; url: string; repositories: RepositoryListing[]; error?: string }>;
}

export default class Ls extends BaseCommand {
  static override summary = 'List every repository and tag of the registries involved.';

  static override description = `Registries: those given with --registry, else the config's registries, else the hosts named in the image list.

${exitCodeHelp}`;

  static override examples = ['<%= config.bin %> ls', '<%= config.bin %> ls --registry 127.0.0.1:5000 --digests', '<%= config.bin %> ls --json'];

  static override flags = {
    registry: Flags.string({ char: 'r', summary: 'A registry host[:port] to list (repeatable).', multiple: true }),
    digests: Flags.boolean({ char: 'd', summary: 'Show each tag\'s manifest digest.' }),
    file: Flags.string({ char: 'f', summary: 'The image list whose registries to list when none are given or configured.' }),
    concurrency: Flags.integer({ summary: 'Requests in flight at once per registry.', min: 1, max: 256 }),
  };

  /** With --json the document is streamed as it is read (see ListingJsonWriter), so nothing is returned for oclif to print. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Ls);
    const loaded = await this.loadUserConfig(flags.config);
    const { config, filepath } = loaded;
    const hosts = await registriesInvolved(flags, loaded);
    const concurrency = flags.concurrency ?? config.concurrency;
    const json = this.jsonEnabled() ? new ListingJsonWriter((text) => process.stdout.write(text)) : undefined;
    json?.begin();
    let failed = false;
    for (const host of hosts) {
      const settings = config.registries[host];
      const file = filepath ? displayPath(filepath) : 'config';
      const warn = (message: string) => process.stderr.write(`Warning: ${message}\n`);
      const client = await connectRegistry(host, settings, { file, concurrency, warn });
      json?.beginRegistry(host, client.baseUrl.origin);
      let header = false;
      let error: string | undefined;
      try {
        for await (const repository of walkRegistry(client, { digests: flags.digests, concurrency })) {
          if (json) {
            json.repository(repository);
            continue;
          }
          if (!header) this.log(`${host} repositories:`);
          header = true;
          this.log(formatRepository(repository));
        }
        if (!header && !json) this.log(`${host}: empty registry (no repositories)`);
      } catch (caught) {
        failed = true;
        error = (caught as Error).message;
        const hint = (caught as { hint?: string }).hint;
        process.stderr.write(`Error: ${error}${hint ? `\nHint: ${hint}` : ''}\n`);
      } finally {
        json?.endRegistry(error);
        await client.close();
      }
    }
    json?.end();
    if (failed) process.exitCode = ExitCode.failed;
  }
}

function formatRepository(repository: RepositoryListing): string {
  if (repository.tags.length === 0) return `  ${repository.name} (no tags)`;
  return repository.tags.map((t) => `  ${repository.name}:${t.tag}${t.digest ? `  ${t.digest}` : ''}`).join('\n');
}
