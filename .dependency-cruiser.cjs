// The import rules of the code base, checked by libs/access/src/architecture.spec.ts (part of `npm test`).
// Dependencies point one way: apps → domain libraries → libs/access → libs/common; migrations use common only.
// Type-only imports count (tsPreCompilationDeps): a cycle through types is a cycle in the design.

/** Every library root and the migrations folder: the nodes of the library graph. */
const LIBRARY = '^(?:(?:apps|libs)/[^/]+/src|migrations)$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Two files that import each other, directly or through others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-libraries',
      severity: 'error',
      comment: 'Two libraries that depend on each other, through whichever files.',
      scope: 'folder',
      from: { path: LIBRARY },
      to: { path: LIBRARY, circular: true },
    },
    {
      name: 'access-is-the-kernel',
      severity: 'error',
      comment: 'libs/access (principals, scopes, access rules) depends on common and framework packages only.',
      from: { path: '^libs/access/' },
      to: { path: '^(?:libs/(?!access/|common/)|apps/|migrations/)' },
    },
    {
      name: 'common-is-the-base',
      severity: 'error',
      comment: 'libs/common depends on no other library, app or migration.',
      from: { path: '^libs/common/' },
      to: { path: '^(?:libs/(?!common/)|apps/|migrations/)' },
    },
    {
      name: 'migrations-use-common-only',
      severity: 'error',
      comment: 'A migration is frozen once released: it may take shared constants from common, nothing from a domain library.',
      from: { path: '^migrations/' },
      to: { path: '^(?:libs/(?!common/)|apps/)' },
    },
    {
      name: 'migrations-without-aliases',
      severity: 'error',
      comment: "jest's global setup loads the migrations outside jest's module mapping: they import by relative path.",
      from: { path: '^migrations/' },
      to: { dependencyTypes: ['aliased'] },
    },
    {
      name: 'libraries-not-on-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'code-not-on-tests',
      severity: 'error',
      comment: 'Only specs may use the test fakes and helpers.',
      from: { path: '^(?:apps|libs|migrations)/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing (a path alias missing from tsconfig.json, a typo) would hide its dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The console's Vite config is build tooling (an ES module Vite loads itself), not part of the app's graph.
    exclude: { path: '^(?:node_modules|dist)/|^apps/console/vite\\.config\\.mts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.json'] },
  },
};
