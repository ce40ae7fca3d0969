import { deleteImagesStep } from '../steps/delete-images.js';
import { garbageCollectStep } from '../steps/garbage-collect.js';
import { parseListStep } from '../steps/parse-list.js';
import { pruneRepositoriesStep } from '../steps/prune-repositories.js';
import { resolveDigestsStep } from '../steps/resolve-digests.js';
import { restartRegistryStep } from '../steps/restart-registry.js';
import { verifyImagesStep } from '../steps/verify-images.js';
import { dockerBackend } from '../storage/backends/docker.js';
import { filesystemBackend } from '../storage/backends/filesystem.js';
import { definePlugin } from './define.js';

/** The name of the built-in plugin: its steps' errors are reported as they are, others' with the plugin named. */
export const corePluginName = 'registry-clean';

/** The built-in pipeline and backends, registered through the same API as any plugin. */
export const corePlugin = definePlugin(() => ({
  name: corePluginName,
  steps: [parseListStep, verifyImagesStep, resolveDigestsStep, deleteImagesStep, pruneRepositoriesStep, garbageCollectStep, restartRegistryStep],
  backends: [filesystemBackend, dockerBackend],
}));
