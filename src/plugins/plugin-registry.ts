import { InputError } from '../errors/input-error.js';
import type { BackendDefinition, Plugin, PluginStep } from './types.js';

export interface ResolvedStep {
  step: PluginStep;
  plugin: string;
}

/**
 * The plugins of a run, core first: their steps in pipeline order and their backends by id.
 * Duplicate ids are config errors naming both plugins.
 */
export class PluginRegistry {
  readonly steps: ResolvedStep[];
  private readonly backends = new Map<string, { backend: BackendDefinition<any>; plugin: string }>();

  constructor(readonly plugins: Plugin[]) {
    const steps: ResolvedStep[] = [];
    const stepOwner = new Map<string, string>();
    for (const plugin of plugins) {
      for (const step of plugin.steps ?? []) {
        const owner = stepOwner.get(step.id);
        if (owner) throw new InputError(`step id "${step.id}" is defined by both plugin ${owner} and plugin ${plugin.name}`, [], 'rename one of the steps');
        stepOwner.set(step.id, plugin.name);
        steps.push({ step, plugin: plugin.name });
      }
      for (const backend of plugin.backends ?? []) {
        const owner = this.backends.get(backend.id);
        if (owner) {
          throw new InputError(`storage backend "${backend.id}" is defined by both plugin ${owner.plugin} and plugin ${plugin.name}`, [], 'rename one of the backends');
        }
        this.backends.set(backend.id, { backend, plugin: plugin.name });
      }
    }
    this.steps = orderSteps(steps);
  }

  backend(id: string): BackendDefinition<any> | undefined {
    return this.backends.get(id)?.backend;
  }

  backendList(): Array<{ id: string; summary: string; plugin: string }> {
    return [...this.backends.values()].map(({ backend, plugin }) => ({ id: backend.id, summary: backend.summary, plugin }));
  }
}

/** The step that reads and validates the list: nothing may run before it, so nothing acts on unvalidated input. */
const firstStep = 'parse-list';

/** Places each step with `before`/`after` next to its anchor; others keep their order. */
function orderSteps(steps: ResolvedStep[]): ResolvedStep[] {
  const early = steps.find(({ step }) => step.before === firstStep);
  if (early) {
    throw new InputError(`plugin ${early.plugin}: step "${early.step.id}" cannot run before "${firstStep}": nothing runs before the list is validated`, [], `place it after "${firstStep}"`);
  }
  const anchored = steps.filter(({ step }) => step.before || step.after);
  const ordered = steps.filter(({ step }) => !step.before && !step.after);
  // Several steps after one anchor keep the order the config lists them in.
  const lastAfter = new Map<string, string>();
  let remaining = anchored;
  while (remaining.length > 0) {
    const before = remaining.length;
    remaining = remaining.filter((entry) => {
      const anchor = (entry.step.before ?? entry.step.after) as string;
      const at = ordered.findIndex(({ step }) => step.id === anchor);
      if (at === -1) return true;
      if (entry.step.before) ordered.splice(at, 0, entry);
      else {
        const previous = lastAfter.get(anchor);
        const after = previous === undefined ? at : ordered.findIndex(({ step }) => step.id === previous);
        ordered.splice(after + 1, 0, entry);
        lastAfter.set(anchor, entry.step.id);
      }
      return false;
    });
    if (remaining.length === before) {
      const entry = remaining[0] as ResolvedStep;
      throw new InputError(
        `plugin ${entry.plugin}: step "${entry.step.id}" is placed ${entry.step.before ? 'before' : 'after'} "${entry.step.before ?? entry.step.after}", which no plugin defines`,
        [],
        `known steps: ${ordered.map(({ step }) => step.id).join(', ')}`,
      );
    }
  }
  return ordered;
}
