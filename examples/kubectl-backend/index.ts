import { z } from 'zod';
import {
  defineBackend,
  definePlugin,
  execStorage,
  runCommand,
  toArgv,
  type Backend,
  type BackendContext,
  type CommandIO,
  type CommandResult,
  type RegistryRuntime,
} from 'registry-clean';

/** A command as an argument array: never a string for a shell to split. */
const argv = z.array(z.string().min(1)).min(1);

/** The `storage` keys of `backend: 'kubectl'`, before the cross-key checks. */
const fields = z.strictObject({
  /** The registry's pod by name: right for a StatefulSet (`registry-0` comes back under the same name). */
  pod: z.string().min(1).optional(),
  /** A label selector matching exactly one running pod (`app=registry`): right for a Deployment, whose pods change names. */
  selector: z.string().min(1).optional(),
  /** Always passed as `-n`: `rc` never depends on the kubeconfig's current namespace. */
  namespace: z.string().min(1),
  /** Always passed as `-c`: without it kubectl picks a container and says so on stderr, which would mix into the output `rc` parses. */
  container: z.string().min(1),
  /** A kubeconfig context (`--context`); default: the current one. */
  context: z.string().min(1).optional(),
  /** The kubectl command as an argument prefix: `['kubectl']`, or a wrapper (`['/usr/local/bin/kubectl-prod']`, `['minikube', 'kubectl', '--']`). */
  kubectl: argv.default(['kubectl']),
  /** The storage root inside the pod: the filesystem driver's rootdirectory (the official image's volume). */
  root: z.string().startsWith('/').default('/var/lib/registry'),
  /** The registry executable inside the pod. */
  binary: z.string().min(1).default('/bin/registry'),
  /** The registry config inside the pod (distribution 3.x keeps it in /etc/distribution/config.yml). */
  configPath: z.string().startsWith('/').default('/etc/docker/registry/config.yml'),
  /**
   * How to restart the registry after GC: `delete-pod` (its controller creates a new one),
   * `rollout` (`kubectl rollout restart` of `deployment`, then `rollout status`), or a command
   * run on this machine as given. Default: the top-level `restart.command` if set, else `delete-pod`.
   */
  restart: z.union([z.enum(['delete-pod', 'rollout']), argv]).optional(),
  /** The workload `rollout` restarts: `registry` (a Deployment), `deployment/registry` or `statefulset/registry`. */
  deployment: z.string().min(1).optional(),
});

export type KubectlOptions = z.output<typeof fields>;
/** What the plugin factory takes: defaults for every `kubectl` storage block (a block's own keys win). */
export type KubectlDefaults = Partial<z.input<typeof fields>>;

const options = fields.superRefine((o, ctx) => {
  if (o.pod === undefined && o.selector === undefined) {
    ctx.addIssue({ code: 'custom', path: ['pod'], message: "missing: name the registry's pod, or give a label selector (selector) that matches it" });
  }
  if (o.pod !== undefined && o.selector !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['selector'], message: 'give pod or selector, not both' });
  }
  if (o.restart === 'rollout' && o.deployment === undefined) {
    ctx.addIssue({ code: 'custom', path: ['deployment'], message: 'missing: restart "rollout" needs the workload to restart (registry, deployment/NAME or statefulset/NAME)' });
  }
});

/**
 * `plugins: ['./examples/kubectl-backend/index.ts']`, or with defaults for every kubectl
 * storage block: `[['./examples/kubectl-backend/index.ts', { kubectl: ['kubectl-prod'] }]]`.
 */
export default definePlugin((defaults?: KubectlDefaults) => {
  const checked = checkDefaults(defaults);
  return {
    name: 'kubectl-backend',
    backends: [
      defineBackend({
        id: 'kubectl',
        summary: 'the registry runs in a Kubernetes pod; storage and GC go through kubectl exec, restart through kubectl',
        // The plugin's defaults under the block's own keys, then the same checks: problems name the storage key.
        options: z.preprocess((input) => (isRecord(input) ? { ...checked, ...input } : input), options),
        create: (settings, context) => createKubectlBackend(settings, context),
      }),
    ],
  };
});

/**
 * Storage through `kubectl exec … -- sh -c …` (execStorage's fixed scripts), GC through
 * `kubectl exec … -- /bin/registry garbage-collect <config>`, restart as configured. The pod is
 * resolved (and checked) here, before `rc` changes anything.
 */
export async function createKubectlBackend(settings: KubectlOptions, context: BackendContext): Promise<Backend> {
  const { namespace, container } = settings;
  const kubectl = [...settings.kubectl, ...(settings.context ? ['--context', settings.context] : [])];
  const timeoutMs = context.restart.timeoutSeconds * 1000;
  const run = (args: string[], io: CommandIO = {}, timeout?: number): Promise<CommandResult> =>
    runCommand([...kubectl, ...args], { onLine: io.onLine, signal: io.signal, timeoutMs: timeout });
  const must = async (args: string[], what: string, io: CommandIO = {}, timeout?: number): Promise<string> => {
    const result = await run(args, io, timeout);
    if (result.exitCode !== 0) throw new Error(`kubectl-backend: ${what} failed (exit ${result.exitCode}): ${lastLines(result.output)}`);
    return result.output;
  };

  const resolvePod = async (): Promise<string> => {
    if (settings.pod !== undefined) {
      await must(['get', 'pods', '-n', namespace, settings.pod, '-o', 'name'], `finding pod ${namespace}/${settings.pod}`);
      return settings.pod;
    }
    const selector = settings.selector as string;
    // Running pods only: an evicted or completed pod of the same app still matches the labels.
    const output = await must(
      ['get', 'pods', '-n', namespace, '-l', selector, '--field-selector', 'status.phase=Running', '-o', 'name'],
      `finding the pod of selector ${selector} in namespace ${namespace}`,
    );
    const names = output.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('pod/')).map((line) => line.slice('pod/'.length));
    if (names.length === 1) return names[0] as string;
    throw new Error(
      names.length === 0
        ? `kubectl-backend: no running pod matches selector ${selector} in namespace ${namespace}`
        : `kubectl-backend: selector ${selector} matches ${names.length} running pods in namespace ${namespace} (${names.join(', ')}); name the registry's pod with storage.pod, or narrow the selector`,
    );
  };
  // Resolved once, and again after a restart replaced the pod (a Deployment's new pod has a new name).
  let current: Promise<string> | undefined;
  const pod = () => (current ??= resolvePod());
  // Resolved now, so a wrong pod, namespace or context stops the run before anything changes.
  const podName = await pod().catch((error: Error) => {
    throw new Error(`${error.message}; nothing was changed`, { cause: error });
  });
  const label = `kubectl pod ${namespace}/${podName}`;

  const exec = async (command: string[], io: CommandIO = {}): Promise<CommandResult> =>
    run(['exec', '-n', namespace, await pod(), '-c', container, '--', ...command], io);

  const restart = settings.restart ?? (context.restart.command !== undefined ? toArgv(context.restart.command) : 'delete-pod');
  if (restart === 'delete-pod' && context.restart.enabled) {
    // Deleting a pod nothing owns deletes the registry for good: refuse before anything changes.
    const owners = await must(
      ['get', 'pods', '-n', namespace, podName, '-o', 'jsonpath={.metadata.ownerReferences[*].kind}'],
      `reading the owner of pod ${namespace}/${podName}`,
    );
    if (!/\b[A-Z][A-Za-z]+\b/.test(owners)) {
      throw new Error(
        `kubectl-backend: restart "delete-pod" would delete pod ${namespace}/${podName} for good: no controller (Deployment, StatefulSet…) owns it to create it again; nothing was changed ` +
          '(set storage.restart to a command that restarts it, or restart.enabled to false and restart it yourself)',
      );
    }
  }

  const workload = settings.deployment?.includes('/') ? settings.deployment : `deployment/${settings.deployment}`;
  const runtime: RegistryRuntime = {
    description: label,
    // Read-only or stopped GC would mean changing the pod's environment or scaling its workload: out of scope.
    modes: ['online'],
    garbageCollect: (flags, io) => exec([settings.binary, 'garbage-collect', ...flags, settings.configPath], io),
    async restart(io) {
      if (restart === 'delete-pod') {
        await must(['delete', 'pod', '-n', namespace, await pod()], `deleting pod ${namespace}/${await pod()}`, io, timeoutMs);
      } else if (restart === 'rollout') {
        await must(['rollout', 'restart', '-n', namespace, workload], `restarting ${workload}`, io, timeoutMs);
        await must(['rollout', 'status', '-n', namespace, workload, `--timeout=${context.restart.timeoutSeconds}s`], `waiting for the rollout of ${workload}`, io, timeoutMs);
      } else {
        const result = await runCommand(restart, { onLine: io.onLine, timeoutMs });
        if (result.exitCode !== 0) throw new Error(`kubectl-backend: restart command ${restart.join(' ')} failed (exit ${result.exitCode}): ${lastLines(result.output)}`);
      }
      if (settings.selector !== undefined) current = undefined;
    },
  };
  return { storage: execStorage((command) => exec(command), async () => settings.root, label), runtime };
}

/** Plugin options are checked when the config loads: a wrong default should not wait for a storage block to use it. */
function checkDefaults(defaults: KubectlDefaults | undefined): KubectlDefaults {
  const result = fields.partial().safeParse(defaults ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`).join('; ');
    throw new Error(`kubectl-backend plugin options: ${problems}`);
  }
  return (defaults ?? {}) as KubectlDefaults;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lastLines(output: string, count = 3): string {
  const lines = output.trim().split('\n').filter((line) => line.trim() !== '');
  return lines.slice(-count).join(' | ') || '(no output)';
}
