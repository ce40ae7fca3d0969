import path from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { registriesInvolved } from '../cli/registries-involved.js';
import { displayPath } from '../config/load-config.js';
import { checkRegistry, type Check } from '../doctor/run-doctor.js';
import { ExitCode, exitCodeHelp } from '../errors/exit-codes.js';
import { buildTargets } from '../pipeline/build-targets.js';
import { loadPluginRegistry } from '../plugins/load-plugins.js';

export interface DoctorResult {
  ok: boolean;
  checks: Check[];
}

export default class Doctor extends BaseCommand {
  static override summary = 'Check that rc can clean the registries involved, and say what to fix. Deletes nothing.';

  static override description = `For each registry: reachable, credentials accepted, deletion enabled, registry version, storage reachable and really this registry's (an upload started through the API must appear in it; it is removed again), the GC mode, that garbage-collect runs (--dry-run), and a way to restart.
Registries: --registry, else the config's registries, else the hosts in the image list.

${exitCodeHelp.replace('nothing failed (images that were already absent are fine)', 'every check passed').replace('something failed at run time (registry down, deletion disabled, a step failed)', 'a check failed')}`;

  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --registry registry.example.com --json'];

  static override flags = {
    registry: Flags.string({ char: 'r', summary: 'A registry host[:port] to check (repeatable).', multiple: true }),
    file: Flags.string({ char: 'f', summary: 'The image list whose registries to check when none are given or configured.' }),
  };

  async run(): Promise<DoctorResult> {
    const { flags } = await this.parse(Doctor);
    const loaded = await this.loadUserConfig(flags.config);
    const hosts = await registriesInvolved(flags, loaded);
    const plugins = await loadPluginRegistry(loaded.config.plugins, loaded.filepath);
    const warnings: string[] = [];
    const targets = await buildTargets(hosts, loaded.config, plugins, {
      concurrency: loaded.config.concurrency,
      configFile: loaded.filepath ? displayPath(loaded.filepath) : 'config',
      configDir: loaded.filepath ? path.dirname(loaded.filepath) : process.cwd(),
      warn: (message) => warnings.push(message),
    });
    const checks: Check[] = [];
    try {
      for (const target of targets.values()) checks.push(...(await checkRegistry(target, loaded.config)));
    } finally {
      await Promise.allSettled([...targets.values()].flatMap((t) => [t.client.close(), t.storage?.close()]));
    }
    const ok = checks.every((c) => c.ok || c.check === 'gc mode');
    if (!this.jsonEnabled()) {
      for (const warning of warnings) process.stderr.write(`Warning: ${warning}\n`);
      let registry = '';
      for (const check of checks) {
        if (check.registry !== registry) this.log(`${(registry = check.registry)}:`);
        this.log(`  ${check.ok ? 'ok  ' : check.check === 'gc mode' ? 'warn' : 'FAIL'}  ${check.check.padEnd(18)} ${check.detail}${check.fix ? `\n        fix: ${check.fix}` : ''}`);
      }
    }
    process.exitCode = ok ? ExitCode.ok : ExitCode.failed;
    return { ok, checks };
  }
}
