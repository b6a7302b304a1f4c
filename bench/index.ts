export {};
// `npm run bench -- <name> [args]`: runs one benchmark (or all, with no name). Each benchmark
// measures its subject against a baseline run in the same process and prints the ratio;
// figures go into docs/performance.md. Benchmarks are never part of `npm test`.
const BENCHES: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  // name: () => import('./name'),  (each benchmark module exports run(args))
  analytics: () => import('./analytics'),
  capacity: () => import('./capacity'),
  cluster: () => import('./cluster'),
  fight: () => import('./fight'),
  inference: () => import('./inference'),
  ingest: () => import('./ingest'),
  live: () => import('./live'),
  map: () => import('./map'),
  push: () => import('./push'),
  reid: () => import('./reid'),
  'rtsp-js': () => import('./rtsp-js'),
};

const [name, ...args] = process.argv.slice(2);
const names = name ? [name] : Object.keys(BENCHES);
if (name && !BENCHES[name]) {
  console.error(`unknown benchmark "${name}"; available: ${Object.keys(BENCHES).join(', ') || '(none yet)'}`);
  process.exit(2);
}
for (const n of names) {
  const load = BENCHES[n];
  if (!load) continue;
  console.log(`# bench ${n}`);
  await (await load()).run(args);
}
