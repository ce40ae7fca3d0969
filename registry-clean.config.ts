/**
 * Example registry-clean config (see README.md, "Config").
 *
 * For a distribution registry running on this machine whose filesystem storage is
 * /data/registry (the `rootdirectory` in its config.yml, or the host side of the container's
 * `-v /data/registry:/var/lib/registry`). rc runs the GC and restart commands below locally,
 * as argument arrays (strings are split on spaces; no shell is involved). Adjust the paths and
 * commands to your installation; a config in your own directory takes precedence over this one
 * only when rc runs there (rc searches from the current directory up to the nearest package.json).
 */
import { defineConfig } from 'registry-clean';

export default defineConfig({
  // The image list, relative to this config file (--file overrides it, relative to the current directory).
  file: 'registry-images-clean.txt',

  // Where the registry keeps its data: needed to prune emptied repositories, to remove a single
  // tag without touching its digest's other tags, and to run garbage collection.
  storage: { backend: 'filesystem', root: '/data/registry' },

  // Runs once per run, and only if something was deleted or pruned. `deleteUntagged` stays off:
  // on distribution 2.8 it destroys multi-arch images.
  gc: { command: 'docker-registry garbage-collect /etc/docker/registry/config.yml', deleteUntagged: false },

  // After GC the registry must restart to drop its stale blob cache; rc then waits for /v2/.
  restart: { command: 'systemctl restart docker-registry', timeoutSeconds: 120 },

  // Per registry host (as written in the image list): URL, TLS, credentials, and its own
  // storage/gc/restart when the list names more than one registry.
  // registries: {
  //   'registry.example.com': { username: 'cleaner', passwordEnv: 'REGISTRY_PASSWORD' },
  //   'registry.lan:5000': { insecure: true },
  // },
});
