// A stand-in for kubectl, for the kubectl-backend test: there is no Kubernetes cluster here.
//
// Usage: node fake-kubectl.mjs <state.json> <kubectl arguments…>; the test writes a one-line
// executable wrapper that supplies the state file, and configures that wrapper as `kubectl`.
//
// It knows the few verbs the backend uses and answers them the way kubectl does, messages and
// exit codes included:
//   [--context C] exec -n NS POD -c CONTAINER -- CMD…   runs CMD on this machine, through the "pod's" mounts
//   [--context C] get pods -n NS NAME -o name|jsonpath={.metadata.ownerReferences[*].kind}
//   [--context C] get pods -n NS -l k=v[,k=v] [--field-selector status.phase=Running] -o name
//   [--context C] delete pod -n NS NAME                 restarts the real registry; a ReplicaSet's pod comes back renamed
//   [--context C] rollout restart|status -n NS deployment/NAME
// Every argument vector it receives is appended, as given (before any mapping), to the log file
// as one JSON line, so the test can assert the exact shapes.
//
// The "pod" is this machine seen through a mount table, as a pod sees its volumes: an argument
// that is a mount point, or a path below one, is rewritten to the host path behind it
// (`/var/lib/registry/…` → the real registry's storage root), and the command's first word
// through a binary table (`/bin/registry` → `docker-registry`). Nothing else is rewritten: the
// scripts the backend sends reach paths only as arguments, and a path outside the mounts stays
// as it is (the test also asserts that none was sent).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const [statePath, ...args] = process.argv.slice(2);
const state = JSON.parse(readFileSync(statePath, 'utf8'));
appendFileSync(state.log, `${JSON.stringify(args)}\n`);

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** kubectl's flags that take a value, by every spelling the backend could use. */
const valued = { '-n': 'namespace', '--namespace': 'namespace', '-c': 'container', '--container': 'container', '-l': 'selector', '--selector': 'selector', '-o': 'output', '--output': 'output', '--context': 'context', '--field-selector': 'field-selector', '--timeout': 'timeout' };

function parse(argv) {
  const flags = {};
  const positionals = [];
  let command;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      command = argv.slice(i + 1);
      break;
    }
    const inline = /^(--?[\w-]+)=(.*)$/s.exec(arg);
    if (inline && valued[inline[1]]) {
      flags[valued[inline[1]]] = inline[2];
      continue;
    }
    if (valued[arg]) {
      if (i + 1 >= argv.length) fail(`error: flag needs an argument: ${arg}`);
      flags[valued[arg]] = argv[++i];
      continue;
    }
    if (arg.startsWith('--')) fail(`error: unknown flag: ${arg.split('=')[0]}\nSee 'kubectl --help' for usage.`);
    if (arg.startsWith('-')) fail(`error: unknown shorthand flag: '${arg[1]}' in ${arg}\nSee 'kubectl --help' for usage.`);
    positionals.push(arg);
  }
  return { flags, positionals, command };
}

const { flags, positionals, command } = parse(args);
if (flags.context !== undefined && flags.context !== state.context) fail(`error: context "${flags.context}" does not exist`);
const namespace = flags.namespace ?? 'default';
const podsHere = () => (namespace === state.namespace ? state.pods : []);
const findPod = (name) => podsHere().find((p) => p.name === name) ?? fail(`Error from server (NotFound): pods "${name}" not found`);
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
const rename = (pod) => {
  pod.name = pod.name.replace(/-[a-z0-9]{5}$/, `-${randomBytes(3).toString('hex').slice(0, 5)}`);
};
const restartRegistry = () => {
  const [file, ...rest] = state.restartCommand;
  const result = spawnSync(file, rest, { stdio: 'inherit' });
  if (result.status !== 0) fail(`error: the fake cluster could not restart the registry (${result.error?.message ?? `exit ${result.status}`})`);
};
const mapPath = (arg) => {
  for (const [inside, outside] of Object.entries(state.mounts)) {
    if (arg === inside) return outside;
    if (arg.startsWith(`${inside}/`)) return outside + arg.slice(inside.length);
  }
  return arg;
};

const [verb, ...rest] = positionals;
switch (verb) {
  case 'exec': {
    if (rest.length !== 1) fail(rest.length === 0 ? 'error: pod, type/name or --filename must be specified' : 'error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead');
    if (!command || command.length === 0) fail('error: you must specify at least one command for the container');
    const pod = findPod(rest[0]);
    if (flags.container === undefined) process.stderr.write(`Defaulted container "${pod.containers[0]}" out of: ${pod.containers.join(', ')}\n`);
    else if (!pod.containers.includes(flags.container)) fail(`error: unable to upgrade connection: container not found ("${flags.container}")`);
    const [file, ...cmdArgs] = command;
    const binary = state.binaries[file] ?? mapPath(file);
    const result = spawnSync(binary, cmdArgs.map(mapPath), { stdio: 'inherit' });
    if (result.error) {
      fail(`error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: exec: "${file}": stat ${file}: no such file or directory: unknown`);
    }
    const status = result.status ?? 137;
    if (status !== 0) fail(`command terminated with exit code ${status}`, status);
    process.exit(0);
  }
  case 'get': {
    const [kind, name] = rest;
    if (!['pods', 'pod', 'po'].includes(kind)) fail(`error: the fake kubectl knows only pods, not "${kind}"`);
    if (flags['field-selector'] !== undefined && flags['field-selector'] !== 'status.phase=Running') fail(`error: the fake kubectl supports only --field-selector status.phase=Running`);
    let pods;
    if (name !== undefined) {
      pods = [findPod(name)];
    } else {
      const wanted = (flags.selector ?? '').split(',').filter(Boolean).map((pair) => pair.split('='));
      pods = podsHere().filter((pod) => wanted.every(([key, value]) => pod.labels[key] === value));
      if (pods.length === 0) fail(`No resources found in ${namespace} namespace.`, 0);
    }
    if (flags.output === 'name') process.stdout.write(pods.map((pod) => `pod/${pod.name}\n`).join(''));
    else if (flags.output === 'jsonpath={.metadata.ownerReferences[*].kind}') process.stdout.write(pods.map((pod) => pod.owner).join(' '));
    else fail(`error: the fake kubectl supports -o name and -o jsonpath={.metadata.ownerReferences[*].kind} only, not ${flags.output}`);
    process.exit(0);
  }
  case 'delete': {
    const [kind, name] = rest;
    if (!['pods', 'pod', 'po'].includes(kind) || name === undefined) fail(`error: the fake kubectl deletes only pods by name`);
    const pod = findPod(name);
    restartRegistry();
    if (pod.owner === 'ReplicaSet') rename(pod);
    else if (!pod.owner) state.pods = state.pods.filter((p) => p !== pod); // Nothing recreates a bare pod.
    save();
    process.stdout.write(`pod "${name}" deleted\n`);
    process.exit(0);
  }
  case 'rollout': {
    const [action, workload = ''] = rest;
    const [kind, name] = workload.includes('/') ? workload.split('/') : ['deployment', workload];
    if (kind !== 'deployment' || !state.deployments.includes(name)) fail(`Error from server (NotFound): deployments.apps "${name}" not found`);
    if (action === 'restart') {
      restartRegistry();
      for (const pod of state.pods) if (pod.workload === name) rename(pod);
      save();
      process.stdout.write(`deployment.apps/${name} restarted\n`);
    } else if (action === 'status') {
      process.stdout.write(`deployment "${name}" successfully rolled out\n`);
    } else {
      fail(`error: unknown command "${action}" for "kubectl rollout"`);
    }
    process.exit(0);
  }
  default:
    fail(`error: unknown command "${verb}" for "kubectl"\nRun 'kubectl --help' for usage.`);
}
