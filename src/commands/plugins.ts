import { BaseCommand } from '../cli/base-command.js';
import { exitCodeHelp } from '../errors/exit-codes.js';
import { loadPluginRegistry } from '../plugins/load-plugins.js';

export interface PluginsResult {
  steps: Array<{ id: string; title: string; plugin: string; placed?: string; always?: boolean }>;
  backends: Array<{ id: string; summary: string; plugin: string }>;
}

export default class Plugins extends BaseCommand {
  static override summary = 'Show the resolved pipeline: every step in order with the plugin it comes from, and the storage backends.';

  static override description = `Loads the config's plugins exactly as \`rc clean\` does, so a plugin that fails to load fails here too.

${exitCodeHelp}`;

  static override examples = ['<%= config.bin %> plugins', '<%= config.bin %> plugins --json'];

  async run(): Promise<PluginsResult> {
    const { flags } = await this.parse(Plugins);
    const { config, filepath } = await this.loadUserConfig(flags.config);
    const registry = await loadPluginRegistry(config.plugins, filepath);
    const result: PluginsResult = {
      steps: registry.steps.map(({ step, plugin }) => ({
        id: step.id,
        title: step.title,
        plugin,
        ...(step.before && { placed: `before ${step.before}` }),
        ...(step.after && { placed: `after ${step.after}` }),
        ...(step.always && { always: true }),
      })),
      backends: registry.backendList(),
    };
    if (!this.jsonEnabled()) {
      const idWidth = Math.max(...result.steps.map((s) => s.id.length));
      this.log('Pipeline (rc clean):');
      result.steps.forEach((step, i) => {
        const notes = [step.placed, step.always && 'runs even after a failure'].filter(Boolean).join('; ');
        this.log(`  ${String(i + 1).padStart(2)}. ${step.id.padEnd(idWidth)}  ${step.title}  [${step.plugin}]${notes ? `  (${notes})` : ''}`);
      });
      this.log('Storage backends:');
      for (const backend of result.backends) this.log(`  ${backend.id}  ${backend.summary}  [${backend.plugin}]`);
    }
    return result;
  }
}
