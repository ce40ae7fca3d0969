/**
 * `debug` as oclif's logger sees it in the bundle (scripts/bundle.mjs aliases the package here).
 * The real package reads the terminal's colour support on load, which loads Node's tty module:
 * 9 ms of every start, for output that only `DEBUG=oclif:*` turns on. So the real one is loaded
 * only when DEBUG is set; otherwise a logger is a function that does nothing.
 */
function silent(namespace) {
  const log = () => {};
  log.namespace = namespace;
  log.enabled = false;
  log.extend = (suffix, delimiter = ':') => silent(`${namespace}${delimiter}${suffix}`);
  return log;
}

// A relative path, so that the alias does not point this require back at this file.
module.exports = process.env.DEBUG ? require('../../node_modules/debug/src/index.js') : silent;
