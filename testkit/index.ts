/** The test kit in one import: real registries, real images, verified pulls. */
export * from './registry-server.js';
export * from './images.js';
export * from './pull.js';
export * from './seed-images.js';
export * from './media-types.js';
export { type Credentials, RegistryResponseError, closeTestkitHttp } from './http.js';
export { bcryptHash, htpasswdLine } from './bcrypt.js';
