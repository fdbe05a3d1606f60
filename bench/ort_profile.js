// ONNX Runtime's side of bench/layers.py: the time of each node of one model,
// from ONNX Runtime's own profiler (onnxruntime-node, CPU execution provider).
//
// Usage: node bench/ort_profile.js JOB.json
// JOB: {"ort": DIR of onnxruntime-node, "model": PATH, "threads": T,
//       "runs": N, "shape": [dims], "profile_dir": EMPTY_DIR}
// The session is set up as in ort_bench.js (every graph optimization on,
// sequential, one inter-op thread, T intra-op threads) with profiling on.
// The model's one input gets a fixed pattern of that shape; 3 warm-up calls,
// then N profiled calls. Prints one JSON line: {"version", "runs",
// "median_ms" (per call, as node sees it), "nodes": {NAME: {"op", "us"}}},
// where "us" is the node's median kernel time over the profiled calls and
// NAME is the node's name after ONNX Runtime's graph optimizations (a fused
// node keeps the name of the node it replaced: a Conv fused with its Relu
// is still "/layer1/.../Conv").
'use strict';
const fs = require('fs');
const {sessionOptions} = require('./ort_options');

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const ort = require(job.ort);
  const session = await ort.InferenceSession.create(job.model, {
    ...sessionOptions(job.threads),
    enableProfiling: true,
    // (The binding's endProfiling returns no path: the trace is the one
    // file in this directory.)
    profileFilePrefix: `${job.profile_dir}/ort`,
  });
  if (session.inputNames.length !== 1)
    throw new Error(`${job.model}: one input expected, the model has ${session.inputNames.length}`);
  const n = job.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 0.5;
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, job.shape)};
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times = [];
  for (let i = 0; i < job.runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  session.endProfiling();
  const traces = fs.readdirSync(job.profile_dir).filter(f => f.startsWith('ort') && f.endsWith('.json'));
  if (traces.length !== 1)
    throw new Error(`${job.profile_dir}: expected one profile trace, found ${traces.length}`);
  const path = `${job.profile_dir}/${traces[0]}`;
  // The trace holds every call's node events; the warm-up calls' come first.
  const events = JSON.parse(fs.readFileSync(path, 'utf8'));
  fs.unlinkSync(path);
  const perNode = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time'))
      continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (!perNode.has(name))
      perNode.set(name, {op: (e.args || {}).op_name || '', us: []});
    perNode.get(name).us.push(e.dur);
  }
  const nodes = {};
  for (const [name, {op, us}] of perNode) {
    const timed = us.slice(-job.runs).sort((a, b) => a - b);
    nodes[name] = {op, us: timed[timed.length >> 1]};
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({version: ort.env.versions.node || ort.env.versions.common,
                              runs: job.runs, median_ms: times[times.length >> 1], nodes}));
}

main().catch(e => {
  console.error(`ort_profile.js: ${e.message || e}`);
  process.exit(1);
});
