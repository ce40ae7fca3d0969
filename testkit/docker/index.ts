/** The Docker part of the kit in one import: the engine, the registry image, registry containers. */
export * from './docker-engine.js';
export * from './registry-image.js';
export * from './registry-container.js';
