// ONNX Runtime's side of bench/run.py: times one ONNX model on ONNX Runtime's
// CPU execution provider through onnxruntime-node (installed by
// bench/setup.sh), at one intra-op thread count and one or more batches.
//
// Usage: node bench/ort_bench.js JOB.json
// JOB: {"ort": DIR of onnxruntime-node, "model": PATH, "threads": T,
//       "max_runs": N, "seconds": S,
//       "cases": [{"shape": [dims], "input": RAW_F32_PATH, "output": RAW_F32_PATH}]}
// The session has every graph optimization on, sequential execution, one
// inter-op thread and T intra-op threads (what a user tuning for latency
// would set). Each case feeds the raw little-endian f32 input of that shape to
// the model's one input, runs 3 warm-up calls, then max(5, min(N, S seconds'
// worth)) timed calls, and writes the first output as raw f32.
// Prints one JSON line: {"version", "cases": [{"median_ms", "min_ms", "runs",
// "output_shape"}]}. Every call goes through node's binding, which adds a
// fixed cost per call: bench/run.py measures it on a trivial model.
'use strict';
const fs = require('fs');
const {sessionOptions} = require('./ort_options');

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const ort = require(job.ort);
  const session = await ort.InferenceSession.create(
      job.model, sessionOptions(job.threads));
  if (session.inputNames.length !== 1)
    throw new Error(`${job.model}: the bench feeds one input, the model has ${session.inputNames.length}`);
  const cases = [];
  for (const c of job.cases) {
    const bytes = fs.readFileSync(c.input);
    const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, c.shape)};
    let out;
    const time = async () => {
      const t0 = process.hrtime.bigint();
      out = await session.run(feeds);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    let warm = 0;
    for (let i = 0; i < 3; i++) warm += await time();
    const runs = Math.max(5, Math.min(job.max_runs, Math.ceil(job.seconds * 1000 / (warm / 3))));
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await time());
    times.sort((a, b) => a - b);
    const y = out[session.outputNames[0]];
    fs.writeFileSync(c.output, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
    cases.push({median_ms: times[times.length >> 1], min_ms: times[0], runs, output_shape: y.dims});
  }
  console.log(JSON.stringify({version: ort.env.versions.node || ort.env.versions.common, cases}));
}

main().catch(e => {
  console.error(`ort_bench.js: ${e.message || e}`);
  process.exit(1);
});
